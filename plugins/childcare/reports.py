"""Placeholder until reports are written."""


def report_metrics(site, period) -> list:
    return []
