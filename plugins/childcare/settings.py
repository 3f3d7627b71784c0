"""Placeholder until settings are written."""


def on_enabled(site) -> None:
    return None
