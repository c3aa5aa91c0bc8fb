"""Chat commands, answered through the service layer.

Independent of Telegram: a command name and its arguments in, reply text out. The
Telegram channel only decides who may ask (the configured chat) and carries the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import structlog

from polytail.app.services import OperatorService, ServiceError
from polytail.domain.ids import FillId
from polytail.notify.render import Renderer

log = structlog.get_logger(__name__)

SOURCE_LABEL: Final = "telegram"
COMMANDS: Final = ("status", "positions", "pause", "resume", "kill", "unkill", "why", "help")
_MAX_POSITIONS: Final = 30


class CommandProcessor:
    def __init__(self, service: OperatorService, renderer: Renderer) -> None:
        self._service = service
        self._renderer = renderer

    async def handle(self, command: str, args: Sequence[str]) -> str:
        """The reply to `/command args...`; never raises."""
        name = command.lower().lstrip("/").split("@", 1)[0]
        try:
            return await self._dispatch(name, [arg for arg in args if arg])
        except ServiceError as error:
            return self._renderer.render("failed.j2", {"message": str(error)})
        except Exception:
            log.exception("chat command failed", command=name)
            return self._renderer.render(
                "failed.j2", {"message": "internal error; the log has the details"}
            )

    async def _dispatch(self, name: str, args: list[str]) -> str:
        render = self._renderer.render
        service = self._service
        if name == "status":
            return render("status.j2", {"status": await service.status()})
        if name == "positions":
            positions = (await service.positions())[:_MAX_POSITIONS]
            return render("positions.j2", {"positions": positions})
        if name in ("pause", "resume"):
            if not args:
                raise ServiceError(f"usage: /{name} <leader address, prefix or label>")
            query = " ".join(args)
            if name == "pause":
                leader = await service.pause_leader(query, by=SOURCE_LABEL)
            else:
                leader = await service.resume_leader(query, by=SOURCE_LABEL)
            return render("leader.j2", {"leader": leader})
        if name in ("kill", "unkill"):
            kill = await service.set_kill_switch(name == "kill", by=SOURCE_LABEL)
            return render("kill_reply.j2", {"kill": kill})
        if name == "why":
            if len(args) != 1:
                raise ServiceError("usage: /why <fill_id> (the id is in skip messages and logs)")
            fill_id = FillId(args[0])
            decisions = await service.decisions(why=fill_id)
            return render("why.j2", {"decisions": decisions, "fill_id": fill_id})
        return render("help.j2", {})
