"""Placeholder until this area's pages are written."""


def routes() -> list:
    return []
