"""Placeholder until this area's pages are written."""


def routes() -> list:
    return []


def dashboard_widgets(site, request) -> list:
    return []
