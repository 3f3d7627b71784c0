"""HTTP for reports: municipality and platform pages (site pages are plugin routes)."""

from __future__ import annotations

from starlette.routing import Route


def reports_routes() -> list[Route]:
    return []
