"""`hubcore reports …` and the demo's visits."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from click.testing import CliRunner
from testplugins import clubs, garden

from hubcore.migrations import migrate
from hubcore.people import operations as people
from hubcore.plugins import get_host
from hubcore.reports.cli import reports
from hubcore.reports.models import VisitSession, VisitTally
from hubcore.reports.visits import record_visit
from hubcore.testing import make_site, registered


@pytest.fixture
def run(database, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("HUBCORE_INSTANCE", str(tmp_path / "inst"))
    with registered(garden, clubs):
        migrate(get_host())
        yield lambda *args: CliRunner().invoke(reports, list(args), catch_exceptions=False)


def test_rebuild_and_export(run):
    site = make_site(plugins=("clubs",))
    p = people.create_person_from_parts(site, family_name="試験", given_name="花子",
                                        family_name_kana="シケン", given_name_kana="ハナコ",
                                        birth_date=dt.date(1950, 4, 1))
    record_visit(site, p, "clubs", dt.date(2026, 5, 1), "clubs:1")
    VisitTally.delete().execute()  # rollups lost: a rebuild brings them back
    VisitSession.delete().execute()
    result = run("rebuild")
    assert result.exit_code == 0 and "1 visit" in result.output
    assert VisitTally.select().count() == 1 and VisitSession.get().elders == 1
    assert run("rebuild").exit_code == 0 and VisitTally.select().count() == 1  # idempotent
    out = run("export", "test-town", "FY2026")
    rows = list(csv.reader(io.StringIO(out.output)))
    assert ["FY2026", "test-town", "テスト町", "people"] == rows[1][:4] and rows[1][7] == "1"
    assert run("export", "test-town", "2026").exit_code != 0
    assert run("export", "nowhere", "FY2026").exit_code != 0
    assert run("rebuild", "--site", "nowhere").exit_code != 0


def test_demo_visits_follow_the_demo_bookings(database):
    from hubcore.calendar.models import Booking
    from hubcore.demo import load_demo
    from hubcore.reports import operations as ops
    from hubcore.reports.metrics import Period, fiscal_year_of
    from hubcore.reports.models import Visit
    from hubcore.sites.models import Municipality

    load_demo()
    visits = list(Visit.select())
    assert visits, "the demo records visits"
    programs = {b.program for b in Booking.select()}
    assert {v.program for v in visits} <= programs  # only the bookings' own programs
    today = dt.date.today()
    assert all(v.day <= today for v in visits)  # nothing in the future
    before = len(visits)
    m = Municipality.get(Municipality.slug == "midorino")
    from hubcore.reports.demo import load

    for site in m.sites:  # loading again adds nothing
        assert load(site, list(site.people)) == 0
    assert Visit.select().count() == before
    last = max(v.day for v in visits)
    report = ops.municipal_report(m, Period.of_fiscal_year(fiscal_year_of(last)))
    assert report.total.people > 0 and len(report.rows) == 2
