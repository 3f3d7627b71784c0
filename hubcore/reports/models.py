"""Visits, the rollups the reports read, and the municipalities' KPI targets.

``visit`` is the record: one row per person, program and session. ``visit_tally``
and ``visit_session`` are kept in step with it by ``operations.record_visits`` (in
the same transaction) and can be rebuilt from it at any time
(``hubcore reports rebuild``). See ``hubcore.reports.operations`` for why.
"""

from __future__ import annotations

import peewee

from hubcore.calendar.models import UTCField
from hubcore.db import BaseModel, utcnow
from hubcore.people.models import Person
from hubcore.sites.models import Municipality, Site

# Age bands of the reports (as in hubcore.people.operations.AGE_BANDS); UNKNOWN for a
# person without a birth date. The band index is what the tally stores.
UNKNOWN_BAND = -1


class Visit(BaseModel):
    """A person took part in one session of a program (an attendance)."""

    site = peewee.ForeignKeyField(Site, on_delete="RESTRICT", index=False)
    # RESTRICT: the rollups count this row; remove it with operations.remove_visits.
    person = peewee.ForeignKeyField(Person, on_delete="RESTRICT", index=False)
    program = peewee.CharField(max_length=100)
    # The program's key of the session, e.g. "booking:12:2026-05-07T01:00"; programs
    # taking part in one event share it, so the event counts once as a session.
    session = peewee.CharField(max_length=120)
    day = peewee.DateField()  # the site's local date
    start_at = UTCField(null=True)
    age = peewee.SmallIntegerField(null=True)  # on ``day``; kept current by person_changed
    created_at = UTCField(default=utcnow)

    class Meta:
        table_name = "visit"
        indexes = (
            (("site", "session", "program", "person"), True),
            (("person", "day"), False),
            (("site", "day"), False),
        )


class VisitTally(BaseModel):
    """Visits per site, month, person, program and age band (on the visit day)."""

    site = peewee.ForeignKeyField(Site, on_delete="RESTRICT", index=False)
    month = peewee.IntegerField()  # YYYYMM
    person = peewee.ForeignKeyField(Person, on_delete="RESTRICT", index=False)
    program = peewee.CharField(max_length=100)
    band = peewee.SmallIntegerField()  # index into AGE_BANDS, or UNKNOWN_BAND
    visits = peewee.IntegerField()

    class Meta:
        table_name = "visit_tally"
        # Leads with site and month: every report filters on both; person next so
        # that "people in 2+ programs" groups straight off the index.
        indexes = ((("site", "month", "person", "program", "band"), True),)


class VisitSession(BaseModel):
    """Who was in one session, by the two ends of life the ごちゃまぜ measure asks for."""

    site = peewee.ForeignKeyField(Site, on_delete="RESTRICT", index=False)
    session = peewee.CharField(max_length=120)
    day = peewee.DateField()
    visits = peewee.IntegerField(default=0)
    children = peewee.IntegerField(default=0)  # visits of people under 18
    elders = peewee.IntegerField(default=0)  # visits of people 65 and over

    class Meta:
        table_name = "visit_session"
        indexes = ((("site", "session"), True), (("site", "day"), False))


class KpiTarget(BaseModel):
    """A municipality's target for one figure of one fiscal year, for a site or (site
    None) for the municipality as a whole."""

    municipality = peewee.ForeignKeyField(Municipality, on_delete="CASCADE", index=False)
    site = peewee.ForeignKeyField(Site, null=True, on_delete="CASCADE")
    fiscal_year = peewee.IntegerField()  # 2026 = April 2026 to March 2027
    metric = peewee.CharField(max_length=40)
    value = peewee.BigIntegerField()
    updated_at = UTCField(default=utcnow)

    class Meta:
        table_name = "kpi_target"
        indexes = ((("municipality", "fiscal_year", "site", "metric"), False),)


MODELS = [Visit, VisitTally, VisitSession, KpiTarget]
