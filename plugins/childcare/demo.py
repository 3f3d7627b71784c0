"""Placeholder until the demo data is written."""


def load_demo_data(site, people) -> None:
    return None
