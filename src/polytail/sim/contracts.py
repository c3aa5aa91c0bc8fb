"""The contracts wallets call directly: the collateral adapters, the Protocol V2 Router, and
the ERC-1155 / ERC-20 reads clients make before calling them.

Calldata is decoded with eth-abi from the function signatures in polymarket-api.md §6.3,
independently of any client, so a client that encodes a call wrongly (wrong selector,
wrong adapter, a bytes32 where the Router wants bytes31) is refused here instead of
being paid. A state-changing call is first *planned* (every check that could revert,
nothing changed: what `eth_estimateGas` runs) and then applied in one step.

What is modelled: `redeemPositions(address,bytes32,bytes32,uint256[])` (selector
`0x01b7037c`) on the CtfCollateralAdapter and the NegRiskCtfCollateralAdapter, paid in
pUSD; `redeem(bytes31,uint256,uint256)` (`0xd217a3cc`) on the Router; `setApprovalForAll`
on the CTF and the PositionManager; pUSD `approve`. Calling the wrong adapter for a
market reverts (on chain it would redeem nothing: the neg-risk adapter's tokens are not
the standard ones). UNCERTAIN: the adapters' internal transfers are not modelled; a
redemption's receipt carries the burns (`TransferSingle` to the zero address), the CTF
`PayoutRedemption` (v1) and the pUSD `Transfer` to the wallet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from polytail.sim.engine import LedgerError
from polytail.sim.markets import Market
from polytail.sim.signing import CTF, POSITION_MANAGER, PUSD, USDC_E

COLLATERAL_ADAPTER = "0xAdA100Db00Ca00073811820692005400218FcE1f"
NEG_RISK_COLLATERAL_ADAPTER = "0xadA2005600Dec949baf300f4C6120000bDB6eAab"
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"
ROUTER = "0x12121212006e4CD160D18e3f00711DA5c3372600"
AUTO_REDEEM_OPERATOR = "0xa1200000d0002264C9a1698e001292D00E1b00af"
# Who a wallet approves to move its outcome tokens for redemption (as the SDK's trading
# approvals do): the adapters on the CTF, the Router on the PositionManager.
REDEEMERS = (COLLATERAL_ADAPTER, NEG_RISK_COLLATERAL_ADAPTER, ROUTER)


def adapter_for(neg_risk: bool) -> str:
    """The collateral adapter that redeems a CTF market's outcomes for pUSD."""
    return NEG_RISK_COLLATERAL_ADAPTER if neg_risk else COLLATERAL_ADAPTER


def selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


REDEEM_POSITIONS = selector("redeemPositions(address,bytes32,bytes32,uint256[])")
ROUTER_REDEEM = selector("redeem(bytes31,uint256,uint256)")
SET_APPROVAL_FOR_ALL = selector("setApprovalForAll(address,bool)")
APPROVE = selector("approve(address,uint256)")
BALANCE_OF_1155 = selector("balanceOf(address,uint256)")
BALANCE_OF_BATCH = selector("balanceOfBatch(address[],uint256[])")
IS_APPROVED_FOR_ALL = selector("isApprovedForAll(address,address)")
BALANCE_OF_20 = selector("balanceOf(address)")
ALLOWANCE = selector("allowance(address,address)")
assert REDEEM_POSITIONS.hex() == "01b7037c" and ROUTER_REDEEM.hex() == "d217a3cc"

Logs = list[tuple[str, list[str], str]]  # (contract, topics, data) of one transaction
Apply = Callable[[str], Logs]  # applies a planned call under its transaction hash


class Reverted(Exception):
    """The call reverts; the text is the revert reason."""


@dataclass(frozen=True)
class Redemption:
    """A planned redemption: who, which market, which outcome (None: every index set)."""

    wallet: str
    market: Market
    contract: str
    outcome: int | None
    amount: int | None


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _args(types: list[str], data: bytes) -> tuple[Any, ...]:
    try:
        return tuple(abi_decode(types, data[4:]))
    except (DecodingError, ValueError, OverflowError) as error:
        raise Reverted(f"calldata does not decode as ({','.join(types)}): {error}") from None


def _word(value: int | bool) -> str:
    return "0x" + abi_encode(["uint256"], [int(value)]).hex()


class Contracts:
    """Reads and calls against the exchange's balances, as the contracts would answer."""

    def __init__(self, exchange: Any) -> None:
        # `Any`: the exchange imports this module; typing it would be an import cycle.
        self.exchange = exchange

    # -- reads (eth_call) -----------------------------------------------------------------

    def read(self, to: str, data_hex: str) -> str:
        data = bytes.fromhex(data_hex.removeprefix("0x"))
        head = data[:4]
        engine = self.exchange.engine
        if head == BALANCE_OF_1155 and self._holds_positions(to):
            owner, token = _args(["address", "uint256"], data)
            return _word(self._balance(owner, to, token))
        if head == BALANCE_OF_BATCH and self._holds_positions(to):
            owners, tokens = _args(["address[]", "uint256[]"], data)
            if len(owners) != len(tokens):
                raise Reverted("ERC1155: accounts and ids length mismatch")
            values = [self._balance(o, to, t) for o, t in zip(owners, tokens, strict=True)]
            return "0x" + abi_encode(["uint256[]"], [values]).hex()
        if head == IS_APPROVED_FOR_ALL and self._holds_positions(to):
            owner, operator = _args(["address", "address"], data)
            key = (self._wallet(owner), operator.lower())
            return _word(key in engine.approvals)
        if head == BALANCE_OF_20 and _same(to, PUSD):
            (owner,) = _args(["address"], data)
            return _word(engine.balance(self._wallet(owner)))
        if head == BALANCE_OF_20 and _same(to, USDC_E):
            (owner,) = _args(["address"], data)
            return _word(self.exchange.usdce.get(self._wallet(owner), 0))
        if head == ALLOWANCE and _same(to, PUSD):
            owner, spender = _args(["address", "address"], data)
            return _word(engine.allowance(self._wallet(owner), spender))
        raise Reverted(f"no such view on {to}: selector 0x{head.hex()}")

    # -- calls (eth_estimateGas plans, eth_sendRawTransaction applies) ------------------

    def plan(self, sender: str, to: str, data_hex: str) -> Apply:
        """Check a call from `sender` as the contract would; the returned action applies it.

        Raises `Reverted` with the reason when the call would revert.
        """
        data = bytes.fromhex(data_hex.removeprefix("0x"))
        head = data[:4]
        wallet = self._wallet(sender)
        if head == REDEEM_POSITIONS and (
            _same(to, COLLATERAL_ADAPTER) or _same(to, NEG_RISK_COLLATERAL_ADAPTER)
        ):
            return self._redeem_positions(wallet, to, data)
        if head == ROUTER_REDEEM and _same(to, ROUTER):
            return self._router_redeem(wallet, data)
        if head == SET_APPROVAL_FOR_ALL and self._holds_positions(to):
            operator, approved = _args(["address", "bool"], data)

            def approve_all(_tx: str) -> Logs:
                self.exchange.engine.set_approval_for_all(wallet, operator, approved)
                return []

            return approve_all
        if head == APPROVE and _same(to, PUSD):
            spender, amount = _args(["address", "uint256"], data)

            def approve(_tx: str) -> Logs:
                self.exchange.engine.approve(wallet, spender, amount)
                return []

            return approve
        raise Reverted(f"unsupported call to {to}: selector 0x{head.hex()}")

    def _redeem_positions(self, wallet: str, adapter: str, data: bytes) -> Apply:
        collateral, parent, condition, index_sets = _args(
            ["address", "bytes32", "bytes32", "uint256[]"], data
        )
        if not _same(collateral, PUSD):
            raise Reverted(f"collateral {collateral} is not pUSD")
        if parent != b"\x00" * 32:
            raise Reverted("only top-level positions (parentCollectionId 0) are redeemable")
        market = self.exchange.markets.get("0x" + condition.hex())
        if market is None or market.version != "v1":
            raise Reverted(f"condition 0x{condition.hex()} is not a CTF market")
        expected = adapter_for(market.neg_risk)
        if not _same(adapter, expected):
            raise Reverted(
                f"market {market.condition_id} is {'' if market.neg_risk else 'not '}neg-risk: "
                f"redeem through {expected}"
            )
        if sorted(index_sets) != [1 << i for i in range(len(market.token_ids))]:
            raise Reverted(f"index sets {list(index_sets)} do not cover the binary outcomes")
        plan = Redemption(wallet, market, expected, None, None)
        return self._checked(plan)

    def _router_redeem(self, wallet: str, data: bytes) -> Apply:
        condition, outcome, amount = _args(["bytes31", "uint256", "uint256"], data)
        market = self.exchange.markets.get("0x" + condition.hex())
        if market is None or market.version != "v2":
            raise Reverted(f"condition 0x{condition.hex()} is not a Protocol V2 market")
        if outcome >= len(market.token_ids):
            raise Reverted(f"outcome index {outcome} out of range")
        held = self.exchange.engine.balance(wallet, market.token_ids[outcome])
        if amount > held:
            raise Reverted(f"ERC1155: burn amount {amount} exceeds balance {held}")
        return self._checked(Redemption(wallet, market, ROUTER, outcome, amount))

    def _checked(self, plan: Redemption) -> Apply:
        if plan.market.payouts is None:
            raise Reverted("result for condition not received yet")
        if (plan.wallet, plan.contract.lower()) not in self.exchange.engine.approvals:
            raise Reverted(f"ERC1155: {plan.contract} is not approved to move the wallet's tokens")

        def apply(tx_hash: str) -> Logs:
            try:
                logs: Logs = self.exchange.settle_redemption(
                    plan.wallet,
                    plan.market,
                    contract=plan.contract,
                    outcome=plan.outcome,
                    amount=plan.amount,
                    tx_hash=tx_hash,
                )
            except LedgerError as error:  # pragma: no cover - the plan checked the same
                raise Reverted(str(error)) from error
            return logs

        return apply

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _holds_positions(to: str) -> bool:
        return any(_same(to, c) for c in (CTF, NEG_RISK_ADAPTER, POSITION_MANAGER))

    def _wallet(self, address: str) -> str:
        known = self.exchange.wallets.get(address.lower())
        return known.address if known is not None else to_checksum_address(address)

    def _balance(self, owner: str, contract: str, token: int) -> int:
        """An outcome's balance on the contract that keeps it (0 for ids it does not keep)."""
        market = self.exchange.token_markets.get(str(token))
        if market is None:
            return 0
        if market.version == "v2":
            keepers: tuple[str, ...] = (POSITION_MANAGER,)
        else:  # neg-risk outcomes are CTF tokens too; the adapter answers for them
            keepers = (CTF, NEG_RISK_ADAPTER) if market.neg_risk else (CTF,)
        if not any(_same(contract, keeper) for keeper in keepers):
            return 0
        return int(self.exchange.engine.balance(self._wallet(owner), str(token)))
