"""A test plugin for reports: clubs that meet, take attendance and bill.

Attendance goes to the core through ``hubcore.reports.record_visits`` (one session
per meeting); ``report_metrics`` reports meetings held per club from the plugin's
own table; ``invoice_lines`` bills what a test puts in ``CHARGES``.
"""

from __future__ import annotations

import datetime as dt

import peewee

from hubcore.billing import LineItem
from hubcore.db import BaseModel, write_transaction
from hubcore.hookspecs import hookimpl
from hubcore.i18n import gettext as _
from hubcore.migrations import Migrations, create_tables
from hubcore.plugins import PluginMeta
from hubcore.reports import MetricRow, VisitIn, record_visits
from hubcore.sites.models import Site

PLUGIN = PluginMeta(name="clubs", label_ja="クラブ", label_en="Clubs", colour="#7c3aed",
                    requires=("billing",), description="Clubs and their meetings (test plugin).")

# (site slug, payer key, "YYYY-MM") → lines the next billing run bills.
CHARGES: dict[tuple[str, str, str], list[LineItem]] = {}


class Meeting(BaseModel):
    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    club = peewee.CharField(max_length=50)
    day = peewee.DateField()

    class Meta:
        table_name = "clubs_meeting"


@hookimpl
def register_models():
    return [Meeting]


@hookimpl
def register_migrations():
    return Migrations("clubs", [create_tables(Meeting)])


def meet(site, club: str, day: dt.date, person_ids: list[int]) -> Meeting:
    """Hold a meeting and take its attendance: one session, a visit per person."""
    with write_transaction():
        meeting = Meeting.create(site=site, club=club, day=day)
        record_visits(site, [VisitIn(pid, "clubs", f"clubs:{meeting.id}", day)
                             for pid in person_ids])
    return meeting


@hookimpl
def report_metrics(site, period):
    rows = (Meeting.select(Meeting.club, peewee.fn.COUNT(Meeting.id))
            .where((Meeting.site == site) & Meeting.day.between(period.first, period.last))
            .group_by(Meeting.club).tuples())
    return [MetricRow("clubs", "meetings", n, _("Meetings held"), dimensions={"club": club})
            for club, n in rows]


@hookimpl
def invoice_lines(site, payer, period):
    return CHARGES.get((site.slug, payer.key, str(period)))
