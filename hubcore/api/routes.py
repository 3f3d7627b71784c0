"""JSON API under /api/v1/."""

from __future__ import annotations

from starlette.routing import BaseRoute


def api_routes() -> list[BaseRoute]:
    return []
