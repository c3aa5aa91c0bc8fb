"""One transaction's connection, shared by the repositories working inside it."""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy import Connection

from polytail.store.errors import StoreError


class TxContext:
    """The connection of one transaction, and whether a repository refused something in it.

    A refusal (`StoreError`) may come after some of an operation's statements ran. If the
    caller caught it and carried on, committing would keep half an operation, so the
    transaction remembers the refusal and rolls back at its end instead of committing.
    """

    __slots__ = ("connection", "refusal")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.refusal: StoreError | None = None

    def refuse(self, error: StoreError) -> NoReturn:
        self.refusal = error
        raise error
