"""The dashboard token: everything beyond `/health` needs it, and it is never optional.

The token travels only in the `Authorization: Bearer` header, never in a cookie or a URL
the server sees, so a page on another site cannot act with the operator's authority
(no ambient credential means no CSRF), and access logs never contain it. Comparison is
constant-time. With no token configured the server refuses everything but `/health`
instead of running open.
"""

from __future__ import annotations

import hmac
from typing import Final

from polytail.config.redaction import SECRET_ENV, register_secrets
from polytail.config.secrets import Secret

TOKEN_ENV: Final = SECRET_ENV["dashboard_token"]
MIN_TOKEN_LENGTH: Final = 16
NO_TOKEN_MESSAGE: Final = (
    f"the dashboard token is not set: export {TOKEN_ENV} (at least {MIN_TOKEN_LENGTH} "
    'random characters, e.g. from `python -c "import secrets; '
    'print(secrets.token_urlsafe(32))"`) and restart polytail. Until then only /health '
    "is served."
)
MISSING_MESSAGE: Final = f"missing token: send the header Authorization: Bearer <{TOKEN_ENV}>"
WRONG_MESSAGE: Final = f"wrong token: it does not match {TOKEN_ENV}"


class TokenError(ValueError):
    """The configured token is unusable (the message never contains it)."""


class AuthFailure(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class TokenGuard:
    def __init__(self, token: Secret | None) -> None:
        if token is not None:
            value = token.reveal()
            if len(value) < MIN_TOKEN_LENGTH:
                raise TokenError(
                    f"{TOKEN_ENV} is too short ({len(value)} characters); use at least "
                    f"{MIN_TOKEN_LENGTH} random characters"
                )
            register_secrets([value])
            self._expected: bytes | None = value.encode()
        else:
            self._expected = None

    @property
    def configured(self) -> bool:
        return self._expected is not None

    def check(self, authorization: str | None) -> None:
        """Raise `AuthFailure` unless `authorization` carries the right bearer token."""
        if self._expected is None:
            raise AuthFailure(403, NO_TOKEN_MESSAGE)
        if not authorization:
            raise AuthFailure(401, MISSING_MESSAGE)
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise AuthFailure(401, MISSING_MESSAGE)
        if not hmac.compare_digest(presented.strip().encode(), self._expected):
            raise AuthFailure(401, WRONG_MESSAGE)
