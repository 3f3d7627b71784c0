"""Reports: the core's cross-program figures per site, municipality and platform.

What programs need is importable from here::

    from hubcore.reports import MetricRow, Period, VisitIn, record_visit, record_visits
"""

from hubcore.reports.metrics import MetricRow, Period, fiscal_year_of


def __getattr__(name: str):
    # The visit functions load the models: imported on first use, so that the plugin
    # module (loaded at start-up through this package) stays light.
    if name in ("record_visit", "record_visits", "remove_visits", "VisitIn",
                "booking_session"):
        from hubcore.reports import visits

        return getattr(visits, name)
    raise AttributeError(name)


__all__ = ["MetricRow", "Period", "VisitIn", "booking_session", "fiscal_year_of",
           "record_visit", "record_visits", "remove_visits"]
