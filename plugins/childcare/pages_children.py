"""Placeholder until this area's pages are written."""


def routes() -> list:
    return []


def person_panels(site, person, request) -> list:
    return []
