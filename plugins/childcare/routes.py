"""The plugin's routes, mounted at /s/{site}/childcare: each area's pages module adds its own."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    from plugins.childcare import (
        pages_attendance,
        pages_board,
        pages_children,
        pages_sessions,
        pages_settings,
    )

    return [*pages_attendance.routes(), *pages_children.routes(), *pages_board.routes(),
            *pages_settings.routes(), *pages_sessions.routes()]
