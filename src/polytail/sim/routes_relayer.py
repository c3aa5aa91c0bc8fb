"""The relayer's HTTP surface: `deployed`, nonces, `submit`, and a submission's state.

Only `POST /submit` checks the API key. UNCERTAIN: whether the real relayer also wants
it on the nonce and state reads; the official SDK sends it on every relayer request, so
either way it works against both.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polytail.sim.exchange import Exchange
from polytail.sim.http import ApiError, json_body, query, reply, service_path
from polytail.sim.relayer import RelayerError

PREFIX = "/relayer"


def routes(exchange: Exchange) -> list[Route]:
    relayer = exchange.relayer

    def refused(error: RelayerError) -> ApiError:
        return ApiError(error.status, error.message)

    async def deployed(request: Request) -> Response:
        address = query(request, "address")
        if address is None:
            raise ApiError(400, "address is required")
        wallet = exchange.wallets.get(address.lower())
        return reply({"deployed": wallet is not None and wallet.kind != "EOA"})

    def params(request: Request, allowed: tuple[str, ...]) -> Response:
        address, relay_type = query(request, "address"), query(request, "type")
        if address is None or relay_type not in allowed:
            raise ApiError(400, f"address and type ({' or '.join(allowed)}) are required")
        try:
            return reply(relayer.params(address, relay_type))
        except RelayerError as error:
            raise refused(error) from None

    async def relay_payload(request: Request) -> Response:
        return params(request, ("PROXY",))

    async def execute_params(request: Request) -> Response:
        return params(request, ("SAFE", "WALLET"))

    async def submit(request: Request) -> Response:
        raw, body = await json_body(request)
        try:
            caller = relayer.authenticate(
                request.headers, request.method, service_path(request, PREFIX), raw
            )
            return reply(relayer.submit(body, caller))
        except RelayerError as error:
            raise refused(error) from None

    async def transaction(request: Request) -> Response:
        try:
            return reply(relayer.transaction(request.path_params["transaction_id"]))
        except RelayerError as error:
            raise refused(error) from None

    return [
        Route("/deployed", deployed),
        Route("/relay-payload", relay_payload),
        Route("/v1/account/transactions/params", execute_params),
        Route("/submit", submit, methods=["POST"]),
        Route("/v1/account/transactions/{transaction_id}", transaction),
    ]
