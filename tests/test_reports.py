"""Reports: figures against a hand-counted fixture, fiscal years, age bands, room use,
revenue, CSV, KPI targets and who may see what. On SQLite and on PostgreSQL.

The expected numbers below are counted by hand from the fixture (see the comments
next to each visit), never computed with the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from testplugins import clubs, garden

from hubcore.billing import LineItem, TaxCategory
from hubcore.billing import operations as billing
from hubcore.billing.models import Invoice, Organisation
from hubcore.billing.run import run_month
from hubcore.calendar import hours
from hubcore.calendar import operations as cal
from hubcore.errors import Invalid
from hubcore.migrations import migrate
from hubcore.people import operations as people
from hubcore.people.models import Household, Person
from hubcore.plugins import get_host
from hubcore.reports import operations as ops
from hubcore.reports import visits as rv
from hubcore.reports.metrics import MetricRow, Period, fiscal_year_of
from hubcore.reports.models import KpiTarget, VisitSession, VisitTally
from hubcore.rooms.models import Room
from hubcore.testing import make_site, make_user, registered

pytestmark = pytest.mark.usefixtures("in_english")
TOKYO = ZoneInfo("Asia/Tokyo")
FY2026 = Period.of_fiscal_year(2026)
MAY = Period.of_month(2026, 5)
D = dt.date


@dataclass
class World:
    site: object
    other: object
    far: object
    p: dict  # name → Person


def person(site, name: str, birth: dt.date | None) -> Person:
    return people.create_person_from_parts(site, family_name="試験", given_name=name,
                                           family_name_kana="シケン", given_name_kana="タロウ",
                                           birth_date=birth)


def visit(w: World, who: str, program: str, session: str, day: dt.date, site=None) -> bool:
    return rv.record_visit(site or w.site, w.p[who], program, day, session)


@pytest.fixture
def world(database, settings):
    with registered(garden, clubs):
        migrate(get_host())
        site = make_site(plugins=("garden", "clubs"))
        other = make_site("other-site", plugins=("garden", "clubs"))  # same municipality
        far = make_site("far-site", municipality="town-b", plugins=("garden", "clubs"))
        p = {
            "A": person(site, "A", D(2020, 6, 15)),  # 5 until 2026-06-14, then 6
            "B": person(site, "B", D(2008, 5, 10)),  # 17 until 2026-05-09, then 18
            "C": person(site, "C", D(1990, 1, 1)),  # 36 in 2026
            "D": person(site, "D", D(1961, 5, 20)),  # 64 until 2026-05-19, then 65
            "E": person(site, "E", D(1950, 3, 1)),  # 76 in 2026
            "F": person(site, "F", None),  # birth date unknown
            "G": person(other, "G", D(2015, 1, 1)),  # at the other site
            "H": person(far, "H", D(1940, 1, 1)),  # another municipality
        }
        clubs.CHARGES.clear()
        yield World(site, other, far, p)
        clubs.CHARGES.clear()


def record_fixture(w: World) -> None:
    # s1, clubs, 2026-05-09: A 5 (0–5, child), B 17 (13–18, child), D 64 (19–64)
    for who in "ABD":
        visit(w, who, "clubs", "clubs:1", D(2026, 5, 9))
    # s2, clubs, 2026-05-20: B 18 (13–18, not a child), D 65 (65–74, elder), C (19–64)
    for who in "BDC":
        visit(w, who, "clubs", "clubs:2", D(2026, 5, 20))
    # s3, garden, 2026-06-15: A 6 (6–12, child), E 76 (75+, elder), F (unknown): mixed
    for who in "AEF":
        visit(w, who, "garden", "garden:1", D(2026, 6, 15))
    # s4, calendar, 2026-06-14: A 5 (0–5), C (19–64)
    for who in "AC":
        visit(w, who, "calendar", "booking:1:20260614T0100", D(2026, 6, 14))
    # s5, one event shared by two programs, 2026-07-01: A 6 by clubs, D 65 by garden: mixed
    visit(w, "A", "clubs", "event:summer", D(2026, 7, 1))
    visit(w, "D", "garden", "event:summer", D(2026, 7, 1))
    # the last day of FY2026, and the days either side of it
    visit(w, "C", "clubs", "clubs:8", D(2027, 3, 31))  # FY2026, 19–64
    visit(w, "C", "garden", "garden:0", D(2026, 3, 31))  # FY2025
    visit(w, "E", "clubs", "clubs:9", D(2027, 4, 1))  # FY2027
    # elsewhere: G at the other site of the town, H in another town
    visit(w, "G", "garden", "garden:x", D(2026, 8, 1), site=w.other)
    visit(w, "H", "garden", "garden:y", D(2026, 8, 1), site=w.far)


def bands(f) -> dict[str, int]:
    return {ops.band_key(b): n for b, n in f.by_band.items() if n}


# --- visits and people --------------------------------------------------------------------


def test_figures_match_the_hand_count(world):
    record_fixture(world)
    f = ops.site_report(world.site, FY2026).total
    assert f.visits == 14  # s1 3 + s2 3 + s3 3 + s4 2 + s5 2 + clubs:8 1
    assert f.people == 6  # A B C D E F
    # A (clubs, garden, calendar), C (clubs, calendar), D (clubs, garden)
    assert f.multi_program == 3
    assert f.sessions == 6 and f.mixed_sessions == 2  # s3 and s5
    assert dict(f.by_program) == {"clubs": 8, "garden": 4, "calendar": 2}
    # clubs: A B C D; garden: A E F (s3) and D (s5); calendar: A C
    assert dict(f.people_by_program) == {"clubs": 4, "garden": 4, "calendar": 2}
    assert bands(f) == {"0–5": 2, "6–12": 2, "13–18": 2, "19–64": 4, "65–74": 2, "75+": 1,
                        "unknown": 1}
    assert f.by_month[202605] == 6 and f.by_month[202703] == 1

    town = ops.municipal_report(world.site.municipality, FY2026)
    assert [r.key for r in town.rows] == ["test-site", "other-site"]  # kana, then id
    assert town.total.people == 7 and town.total.visits == 15  # G at the other site
    assert town.total.sites == 2
    platform = ops.platform_report(FY2026)
    assert platform.total.people == 8 and platform.total.visits == 16
    assert {r.key: r.people for r in platform.rows} == {"test-town": 7, "town-b": 1}


def test_fiscal_year_boundary(world):
    record_fixture(world)
    assert fiscal_year_of(D(2027, 3, 31)) == 2026 and fiscal_year_of(D(2027, 4, 1)) == 2027
    assert (FY2026.first, FY2026.last) == (D(2026, 4, 1), D(2027, 3, 31))
    fy25 = ops.site_report(world.site, Period.of_fiscal_year(2025)).total
    assert (fy25.visits, fy25.people, dict(fy25.by_program)) == (1, 1, {"garden": 1})
    fy27 = ops.site_report(world.site, Period.of_fiscal_year(2027)).total
    assert (fy27.visits, dict(fy27.by_program)) == (1, {"clubs": 1})
    march = ops.site_report(world.site, Period.of_month(2027, 3)).total
    assert (march.visits, march.sessions) == (1, 1)
    april = ops.site_report(world.site, Period.of_month(2026, 4)).total
    assert april.visits == 0 and april.people == 0


def test_age_on_the_visit_day_at_band_edges(world):
    record_fixture(world)
    may = ops.site_report(world.site, MAY).total
    # 05-09: A 5, B 17, D 64 — 05-20: B 18, D 65, C 36
    assert bands(may) == {"0–5": 1, "13–18": 2, "19–64": 2, "65–74": 1}
    # s1 has two children and no elder (D is 64 that day); s2 an elder and no child
    # (B turned 18 that month): neither is mixed.
    assert may.sessions == 2 and may.mixed_sessions == 0
    s = {r.session: (r.children, r.elders) for r in VisitSession.select()}
    assert s["clubs:1"] == (2, 0) and s["clubs:2"] == (0, 1) and s["event:summer"] == (1, 1)
    june = ops.site_report(world.site, Period.of_month(2026, 6)).total
    assert bands(june) == {"0–5": 1, "6–12": 1, "19–64": 1, "75+": 1, "unknown": 1}


def test_recording_is_idempotent_and_can_be_taken_back(world):
    record_fixture(world)
    before = ops.site_report(world.site, FY2026).total
    assert visit(world, "A", "clubs", "clubs:1", D(2026, 5, 9)) is False
    again = rv.record_visits(world.site, [rv.VisitIn(world.p[x].id, "clubs", "clubs:1",
                                                     D(2026, 5, 9)) for x in "ABD"])
    assert again == 0
    assert ops.site_report(world.site, FY2026).total.visits == before.visits
    # Taking back D's garden visit at the summer event: s5 is no longer mixed, and D
    # is in one program fewer (still in two: clubs only → not any more).
    assert rv.remove_visits(world.site, "garden", "event:summer", [world.p["D"].id]) == 1
    after = ops.site_report(world.site, FY2026).total
    assert (after.visits, after.mixed_sessions, after.multi_program) == (13, 1, 2)
    assert rv.remove_visits(world.site, "garden", "event:summer") == 0


def test_a_corrected_birth_date_moves_past_visits(world):
    record_fixture(world)
    from hubcore.people.schemas import PersonIn

    f = world.p["F"]
    data = PersonIn(family_name=f.family_name, given_name=f.given_name,
                    family_name_kana=f.family_name_kana, given_name_kana=f.given_name_kana,
                    birth_date=D(2016, 1, 1))
    people.update_person(world.site, f, data)  # calls person_changed
    june = ops.site_report(world.site, Period.of_month(2026, 6)).total
    # F is 10 on 2026-06-15: from "unknown" to 6–12, and a child in s3.
    assert bands(june) == {"0–5": 1, "6–12": 2, "19–64": 1, "75+": 1}
    s3 = VisitSession.get(VisitSession.session == "garden:1")
    assert (s3.children, s3.elders) == (2, 1)


def test_visits_are_checked(world):
    with pytest.raises(Invalid) as e:
        rv.record_visit(world.site, world.p["A"], "nosuchprogram", D(2026, 5, 1), "x")
    assert "program" in e.value.errors
    with pytest.raises(Invalid) as e:  # a person of another site
        rv.record_visit(world.site, world.p["G"], "clubs", D(2026, 5, 1), "x")
    assert "person" in e.value.errors
    with pytest.raises(Invalid):
        rv.record_visit(world.site, world.p["A"], "clubs", D(2026, 5, 1), "")
    assert VisitTally.select().count() == 0


def test_rollups_equal_a_rebuild_after_random_changes(world):
    rng = random.Random(5)
    ids = [world.p[x] for x in "ABCDEF"]
    for _ in range(150):
        who = rng.choice(ids)
        session = f"s{rng.randint(1, 12)}"
        program = rng.choice(["clubs", "garden"])
        day = D(2026, 4, 1) + dt.timedelta(days=int(session[1:]) * 20)
        if rng.random() < 0.75:
            rv.record_visit(world.site, who, program, day, session)
        else:
            rv.remove_visits(world.site, program, session, [who.id])

    def snapshot():
        t = sorted(VisitTally.select(VisitTally.month, VisitTally.person, VisitTally.program,
                                     VisitTally.band, VisitTally.visits).tuples())
        s = sorted(VisitSession.select(VisitSession.session, VisitSession.visits,
                                       VisitSession.children, VisitSession.elders).tuples())
        return t, s

    kept = snapshot()
    assert kept[0] and all(row[-1] > 0 for row in kept[0])
    rv.rebuild(world.site)
    assert snapshot() == kept


# --- room use -----------------------------------------------------------------------------


def T(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def test_room_use_ratio(world):
    site = world.site
    r1 = Room.create(site=site, name="会議室", capacity=10)
    r2 = Room.create(site=site, name="和室", capacity=8, sort_order=1)
    Room.create(site=site, name="旧倉庫", capacity=2, retired=True)  # left out
    hours.set_opening_hours(site, [(d, dt.time(9), dt.time(17)) for d in range(5)])
    hours.set_opening_hours(site, [(5, dt.time(10), dt.time(12))], room=r2)
    hours.add_closed_day(site, D(2026, 5, 15), D(2026, 5, 15), "点検")

    def book(room, start, end, program, **extra):
        return cal.create_booking(site, {"room": room.id, "title": program, "program": program,
                                         "start": dt.datetime.fromisoformat(start),
                                         "end": dt.datetime.fromisoformat(end), **extra})

    weekly = book(r1, "2026-05-11 10:00", "2026-05-11 12:00", "clubs",
                  rrule="FREQ=WEEKLY;COUNT=3")  # 11, 18, 25 May
    cal.cancel_booking(weekly, scope="this", recurrence_id=T("2026-05-18 10:00"))
    book(r1, "2026-05-12 13:00", "2026-05-12 16:30", "garden")  # 3.5 h
    book(r2, "2026-05-16 10:00", "2026-05-16 11:30", "calendar")  # a Saturday, 1.5 h
    book(r1, "2026-04-30 09:00", "2026-04-30 10:00", "clubs")  # April: not in May

    f = ops.site_report(site, MAY).total
    # 会議室: May 2026 has 21 weekdays; 4, 5, 6 May are holidays, 15 May closed: 17 × 8 h.
    # 和室 (its own hours): 5 Saturdays × 2 h.
    rooms = {r.name: r for r in f.rooms}
    assert set(rooms) == {"会議室", "和室"}
    assert rooms["会議室"].open_minutes == 17 * 8 * 60
    assert rooms["和室"].open_minutes == 5 * 2 * 60
    assert dict(f.booked) == {"clubs": 4 * 60, "garden": 210, "calendar": 90}
    assert rooms["会議室"].booked_minutes == 450 and rooms["和室"].booked_minutes == 90
    assert f.open_minutes == 146 * 60
    assert f.room_use == pytest.approx(9 / 146)
    assert rooms["和室"].ratio == pytest.approx(1.5 / 10)
    # The site no longer closes on holidays: 4–6 May count as open.
    hours.set_holidays_closed(site, False)
    assert ops.site_report(site, MAY).total.open_minutes == (20 * 8 + 10) * 60


def test_room_use_without_opening_hours_is_unknown(world):
    site = world.site
    r = Room.create(site=site, name="ホール", capacity=30)
    cal.create_booking(site, {"room": r.id, "title": "x", "start": dt.datetime(2026, 5, 7, 10),
                              "end": dt.datetime(2026, 5, 7, 11)})
    f = ops.site_report(site, MAY).total
    assert f.room_use is None and f.rooms[0].open_minutes is None
    assert f.booked["calendar"] == 60


# --- revenue ------------------------------------------------------------------------------


def test_revenue_by_program_and_payer_type_with_a_credit_note(world):
    site = world.site
    h1 = Household.create(site=site, name="試験家", name_kana="シケンケ", kana_key="シケンケ")
    m = site.municipality
    insurer = Organisation.create(municipality=m, name="国保連", kind="insurer")
    town = Organisation.create(municipality=m, name="町役場", kind="municipality")
    std = TaxCategory.STANDARD
    clubs.CHARGES.update({
        (site.slug, f"household:{h1.id}", "2026-05"): [LineItem("clubs", "会費", 3000, std),
                                                       LineItem("garden", "区画", 1100, std)],
        (site.slug, f"organisation:{insurer.id}", "2026-05"): [LineItem("clubs", "委託", 5000,
                                                                        std)],
        (site.slug, f"household:{h1.id}", "2026-06"): [LineItem("garden", "区画", 900, std)],
        (site.slug, f"organisation:{town.id}", "2026-03"): [LineItem("clubs", "委託", 7000,
                                                                     std)],
    })
    for month in ("2026-03", "2026-05", "2026-06"):
        run_month(site, month)
    for month in ("2026-03", "2026-05"):  # June stays a draft: not revenue
        billing.review_all(site, month)
        billing.issue_reviewed(site, month)
    inv = Invoice.get((Invoice.site == site) & (Invoice.period == "2026-05")
                      & (Invoice.household == h1))
    note = billing.create_credit_note(inv, [LineItem("clubs", "返金", -1000, std)])
    billing.issue_invoice(billing.review_invoice(note))

    may = ops.site_report(site, MAY).total
    assert dict(may.revenue) == {("clubs", "household"): 2000, ("garden", "household"): 1100,
                                 ("clubs", "insurer"): 5000}
    assert may.revenue_total == 8100
    assert ops.site_report(site, Period.of_month(2026, 6)).total.revenue_total == 0
    fy25 = ops.site_report(site, Period.of_fiscal_year(2025)).total
    assert dict(fy25.revenue) == {("clubs", "municipality"): 7000}
    assert ops.site_report(site, FY2026).total.revenue_total == 8100


# --- the programs' own figures ----------------------------------------------------------------


def test_report_metrics_from_programs_add_up_across_sites(world):
    clubs.meet(world.site, "囲碁", D(2026, 5, 1), [world.p["E"].id, world.p["A"].id])
    clubs.meet(world.site, "囲碁", D(2026, 6, 1), [world.p["E"].id])
    clubs.meet(world.other, "囲碁", D(2026, 6, 2), [world.p["G"].id])
    clubs.meet(world.site, "将棋", D(2026, 6, 3), [])
    town = ops.municipal_report(world.site.municipality, FY2026).total
    got = {(r.metric, dict(r.dimensions)["club"]): r.value for r in town.metrics.values()}
    assert got == {("meetings", "囲碁"): 3, ("meetings", "将棋"): 1}
    assert town.visits == 4 and town.sessions == 3  # the empty meeting has no visit
    row = MetricRow("clubs", "meetings", 1, dimensions={"club": "囲碁"})
    assert row.key in town.metrics


# --- periods --------------------------------------------------------------------------------


def test_periods():
    assert Period.parse("2026-05") == MAY and Period.parse("fy2026") == FY2026
    assert FY2026.months[0] == 202604 and FY2026.months[-1] == 202703
    assert len(FY2026.months) == 12 and MAY.last == D(2026, 5, 31)
    for bad in ("2026-13", "26-05", "FY26", "", "2026"):
        with pytest.raises(ValueError):
            Period.parse(bad)
    period, error = ops.parse_period("nonsense", today=D(2026, 3, 31))
    assert period == Period.of_fiscal_year(2025) and error
    assert ops.default_period(D(2026, 4, 1)) == FY2026


# --- pages and CSV ------------------------------------------------------------------------------


def municipality_admin(world, login_as, email="town@t.jp"):
    make_user(email, ("municipality_admin", world.site.municipality))
    return login_as(email)


def test_municipal_page_has_charts_tables_and_no_inline_style(world, login_as):
    record_fixture(world)
    c = municipality_admin(world, login_as)
    r = c.get("/m/test-town/reports/?period=FY2026")
    assert r.status_code == 200
    html = r.text
    for chart in ("chart-bands", "chart-programs", "chart-months", "chart-places"):
        assert f'id="{chart}"' in html
    assert html.count("<svg") >= 4 and "<rect" in html
    assert 'fill="#7c3aed"' in html  # the clubs plugin's colour
    assert "style=" not in html
    assert "<script>" not in html and html.count("<script") == 1  # only htmx, by src
    assert 'data-place="test-site"' in html and 'data-place="total"' in html
    for name in ("試験 A", "試験 B", "試験"):  # no person's name on an aggregate page
        assert name not in html
    bad = c.get("/m/test-town/reports/?period=2026-13")
    assert bad.status_code == 200 and "期間ではありません" in bad.text  # Japanese by default


def test_site_page_and_csv(world, login_as):
    record_fixture(world)
    make_user("viewer@t.jp", ("viewer", world.site))
    c = login_as("viewer@t.jp")
    page = c.get("/s/test-site/reports/?period=2026-05")
    assert page.status_code == 200 and 'id="chart-bands"' in page.text
    assert 'id="report-rooms"' not in page.text  # no rooms at this site yet
    r = c.get("/s/test-site/reports/report.csv?period=2026-05")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    values = {(row[3], row[6]): row[7] for row in rows[1:]}
    assert values[("visits", "")] == "6" and values[("people", "")] == "4"
    assert values[("visits_by_age_band", "13–18")] == "2"


def test_csv_parsed_back(world, login_as):
    record_fixture(world)
    c = municipality_admin(world, login_as)
    r = c.get("/m/test-town/reports/report.csv?period=FY2026&lang=en")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf") and b"\r\n" in r.content
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {row["Period"] for row in rows} == {"FY2026"}

    def value(place, figure, program="", group=""):
        found = [row["Value"] for row in rows if (row["Place key"], row["Figure"],
                                                  row["Program"], row["Group"])
                 == (place, figure, program, group)]
        assert len(found) == 1, (place, figure, program, group)
        return found[0]

    assert value("test-town", "people") == "7" and value("test-town", "visits") == "15"
    assert value("test-site", "people") == "6" and value("other-site", "visits") == "1"
    assert value("test-site", "multi_program") == "3"
    assert value("test-site", "mixed_sessions") == "2"
    assert value("test-site", "visits_by_age_band", group="75+") == "1"
    assert value("test-site", "visits_by_age_band", group="unknown") == "1"
    assert value("test-site", "visits_by_program", program="clubs") == "8"
    assert value("test-site", "visits_by_month", group="2027-03") == "1"


def test_kpi_targets_edit_and_sheet(world, login_as):
    record_fixture(world)
    c = municipality_admin(world, login_as)
    site_id = world.site.id
    page = c.get("/m/test-town/reports/targets/?fy=2026")
    assert page.status_code == 200 and f'name="t-{site_id}-people"' in page.text
    r = c.post("/m/test-town/reports/targets/", data={
        "fy": "2026", f"t-{site_id}-people": "10", f"t-{site_id}-room_use": "４０",
        "t-all-visits": "30", f"t-{site_id}-revenue": "1,000,000"}, follow_redirects=False)
    assert r.status_code == 303
    assert ops.targets(world.site.municipality, 2026) == {
        (site_id, "people"): 10, (site_id, "room_use"): 40, (None, "visits"): 30,
        (site_id, "revenue"): 1_000_000}
    # Bad cells: 422, the messages at the cells, nothing saved (the old targets stay).
    for bad in ({f"t-{site_id}-people": "abc"}, {f"t-{site_id}-visits": "-5"},
                {f"t-{site_id}-room_use": "150"}, {"t-all-people": "1.5"}):
        r = c.post("/m/test-town/reports/targets/", data={"fy": "2026", "t-all-visits": "99",
                                                          **bad})
        assert r.status_code == 422, bad
        name = next(iter(bad))
        assert f'id="{name}-error"' in r.text and 'aria-invalid="true"' in r.text
    r = c.post("/m/test-town/reports/targets/", data={"fy": "soon", "t-all-visits": "99"})
    assert r.status_code == 422
    assert ops.targets(world.site.municipality, 2026)[(None, "visits")] == 30
    # A target for another municipality's site is refused.
    r = c.post("/m/test-town/reports/targets/", data={"fy": "2026",
                                                      f"t-{world.far.id}-people": "5"},
               follow_redirects=False)
    assert r.status_code == 303  # not a field of this municipality: ignored
    assert KpiTarget.select().where(KpiTarget.site == world.far).count() == 0
    with pytest.raises(Invalid):
        ops.save_targets(world.site.municipality, 2026, {(world.far.id, "people"): 5})

    c.post("/m/test-town/reports/targets/", data={
        "fy": "2026", f"t-{site_id}-people": "10", "t-all-visits": "30"})
    sheet = c.get("/m/test-town/reports/kpi/?fy=2026")
    assert sheet.status_code == 200
    _report, rows = ops.kpi_sheet(world.site.municipality, 2026)
    mine = {c.metric: c for c in next(r for r in rows if r.key == "test-site").cells}
    assert (mine["people"].actual, mine["people"].target, mine["people"].achieved) == (6, 10,
                                                                                     60.0)
    whole = {c.metric: c for c in rows[-1].cells}
    assert (whole["visits"].actual, whole["visits"].achieved) == (15, 50.0)
    assert whole["people"].target is None and whole["people"].achieved is None
    kpi = c.get("/m/test-town/reports/kpi.csv?fy=2026")
    lines = list(csv.reader(io.StringIO(kpi.content.decode("utf-8-sig"))))
    assert ["FY2026", "テスト拠点", "people", "利用者数（実人数）", "6", "10", "60.0"] in lines


# --- who may see what ----------------------------------------------------------------------------


def test_roles_and_other_municipalities(world, login_as):
    site, far = world.site, world.far
    make_user("manager@t.jp", ("site_manager", site))
    make_user("staff@t.jp", ("staff", site))
    make_user("far@t.jp", ("municipality_admin", far.municipality))
    make_user("root@t.jp", ("platform_admin", None))
    make_user("town@t.jp", ("municipality_admin", site.municipality))
    expect = {
        "manager@t.jp": {"/s/test-site/reports/": 200, "/m/test-town/reports/": 403,
                         "/m/test-town/reports/kpi/": 403, "/reports/": 403,
                         "/s/far-site/reports/": 404},
        "staff@t.jp": {"/s/test-site/reports/": 403, "/s/test-site/reports/report.csv": 403},
        "far@t.jp": {"/m/test-town/reports/": 404, "/m/test-town/reports/report.csv": 404,
                     "/m/test-town/reports/targets/": 404, "/s/test-site/reports/": 404,
                     "/m/town-b/reports/": 200},
        "town@t.jp": {"/m/test-town/reports/": 200, "/m/test-town/reports/targets/": 200,
                      "/reports/": 403, "/m/town-b/reports/": 404,
                      "/s/test-site/reports/": 200},
        "root@t.jp": {"/reports/": 200, "/reports/report.csv": 200,
                      "/m/town-b/reports/kpi/": 200, "/m/town-b/reports/targets/": 403},
    }
    for email, urls in expect.items():
        c = login_as(email)
        for url, status in urls.items():
            assert c.get(url).status_code == status, (email, url)
    c = login_as("far@t.jp")
    r = c.post("/m/test-town/reports/targets/", data={"fy": "2026", "t-all-people": "5"})
    assert r.status_code == 404 and KpiTarget.select().count() == 0


def test_site_menu_links_the_report(world, login_as):
    make_user("viewer@t.jp", ("viewer", world.site))
    page = login_as("viewer@t.jp").get("/s/test-site/")
    assert 'href="/s/test-site/reports/"' in page.text
    make_user("staff@t.jp", ("staff", world.site))
    page = login_as("staff@t.jp").get("/s/test-site/")
    assert 'href="/s/test-site/reports/"' not in page.text
