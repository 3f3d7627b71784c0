"""The ratio board and the ratio rules pages: what each role sees, refusals, the widget."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from hubcore.calendar.operations import site_zone
from hubcore.db import utcnow
from hubcore.testing import make_user
from plugins.childcare.models import Attendance, RatioRule, Reservation, Staff, StaffAttendance
from plugins.childcare.ratios import Band, policy_on, set_rules
from plugins.childcare.testing import care_room, local, make_child

S = "/s/test-site/"
BOARD = S + "childcare/board/"
NOW = BOARD + "now/"
FORECAST = BOARD + "forecast/"
RATIOS = S + "childcare/ratios/"
EDIT = RATIOS + "edit/"
PAST = dt.date(2026, 6, 10)


@pytest.fixture
def en(cc_site, client):
    """The test site's manager (also the municipality's administrator), in English."""
    assert client.get(S + "?lang=en").status_code == 200
    return client


@pytest.fixture
def as_role(cc_site, login_as):
    """A client for a user holding ``role`` at the test site (or its municipality)."""

    def make(role: str):
        place = cc_site.municipality if role == "municipality_admin" else (
            None if role == "platform_admin" else cc_site)
        make_user(f"{role}@t.jp", (role, place))
        c = login_as(f"{role}@t.jp")
        c.get(S + "?lang=en")
        return c

    return make


def no_inline_code(html: str) -> None:
    """The Content-Security-Policy refuses inline styles and scripts."""
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def today(site) -> dt.date:
    return utcnow().astimezone(site_zone(site)).date()


def babies_now(site, n: int, staff: int) -> None:
    """``n`` children of the 0歳 class checked in a minute ago with ``staff`` staff."""
    day = today(site)
    since = utcnow() - dt.timedelta(minutes=1)
    born = day - dt.timedelta(days=40)
    for _ in range(n):
        Attendance.create(site=site, child=make_child(site, born), room=care_room(site),
                          day=day, checked_in_at=since)
    for i in range(staff):
        member = Staff.create(site=site, name=f"職員{i}")
        StaffAttendance.create(site=site, staff=member, room=care_room(site), day=day,
                               checked_in_at=since)


def past_day_with_a_gap(site) -> None:
    """PAST: four babies 9–12, two staff but for 10:20–10:45."""
    for _ in range(4):
        Attendance.create(site=site, child=make_child(site, dt.date(2025, 6, 1)),
                          room=care_room(site), day=PAST, checked_in_at=local(PAST, "09:00"),
                          checked_out_at=local(PAST, "12:00"))
    for start, end in (("09:00", "12:00"), ("09:00", "10:20"), ("10:45", "12:00")):
        member = Staff.create(site=site, name="職員")
        StaffAttendance.create(site=site, staff=member, room=care_room(site), day=PAST,
                               checked_in_at=local(PAST, start),
                               checked_out_at=local(PAST, end))


# --- the board --------------------------------------------------------------------------------


def test_the_board_warns_in_words_and_icon_when_short_now(cc_site, en):
    babies_now(cc_site, 4, staff=1)
    page = en.get(BOARD)
    assert page.status_code == 200
    html = page.text
    no_inline_code(html)
    assert 'href="/static/childcare/board.css"' in html
    now = re.search(r'<section id="board-now".*?</section>', html, re.S).group(0)
    assert f'hx-get="{NOW}"' in now and 'hx-trigger="every 60s"' in now
    assert 'class="board-alert" role="alert"' in now and "⚠" in now
    assert "Not enough staff in: 和室" in now
    assert "Short by 1 member of staff" in now
    # The numbers: 4 children, 1 present, 2 required.
    assert re.findall(r"<dd>(\d+)</dd>", now) == ["4", "1", "2"]
    assert "Rounding: Safe rule" in now
    # Tomorrow's forecast is linked from today's board.
    tomorrow = today(cc_site) + dt.timedelta(days=1)
    assert f'href="{FORECAST}?day={tomorrow.isoformat()}"' in html


def test_the_now_fragment_is_the_section_alone_and_says_when_the_ratio_holds(cc_site, en):
    babies_now(cc_site, 3, staff=1)
    part = en.get(NOW, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert part.text.lstrip().startswith('<section id="board-now"') and "<html" not in part.text
    assert 'hx-trigger="every 60s"' in part.text
    assert "Ratio met" in part.text and "board-alert" not in part.text


def test_another_day_shows_its_grid_with_the_short_hour(cc_site, en):
    past_day_with_a_gap(cc_site)
    page = en.get(BOARD + f"?day={PAST.isoformat()}")
    assert page.status_code == 200
    html = page.text
    assert 'id="board-now"' not in html  # "now" belongs to today only
    rows = dict(re.findall(r'<th scope="row">(\d+):00</th>(.*?)</tr>', html, re.S))
    assert set(rows) == {"9", "10", "11"}
    assert "is-short" in rows["10"] and "Short by 1 from 10:20" in rows["10"]
    assert "⚠" in rows["10"]
    assert "is-short" not in rows["9"] and "Met" in rows["9"]
    assert "The ratio was not met in 1 room-hour." in html
    assert f'href="{FORECAST}?day=2026-06-11"' in html
    assert "The national standard" in html  # where the rules come from


def test_a_bad_day_is_refused_with_the_field_marked(cc_site, en):
    page = en.get(BOARD + "?day=2026-13-40")
    assert page.status_code == 422 and 'id="day-error"' in page.text
    assert en.get(FORECAST + "?day=tomorrow").status_code == 422


def test_the_forecast_page_shows_tomorrow_from_reservations(cc_site, en):
    tomorrow = today(cc_site) + dt.timedelta(days=1)
    for _ in range(4):
        baby = make_child(cc_site, tomorrow - dt.timedelta(days=90))
        Reservation.create(site=cc_site, child=baby, room=care_room(cc_site), day=tomorrow,
                           start_at=local(tomorrow, "09:00"), end_at=local(tomorrow, "11:00"))
    page = en.get(FORECAST)
    assert page.status_code == 200
    no_inline_code(page.text)
    assert "Up to 4 children expected at once; up to 2 staff required." in page.text
    assert page.text.count("Staff required: 2") == 2  # 9:00 and 10:00
    # Today's board sums it up.
    assert "Up to 4 children expected at once" in en.get(BOARD).text


# --- the rules ------------------------------------------------------------------------------------


def test_the_rules_page_shows_the_national_standard_in_words(cc_site, as_role):
    viewer = as_role("viewer")
    page = viewer.get(RATIOS)
    assert page.status_code == 200
    no_inline_code(page.text)
    assert "The national standard (the municipality has set no rules of its own)" in page.text
    assert "Safe rule: the sum over age bands of children ÷ ratio, rounded up" in page.text
    assert "Age 0" in page.text and "4 and older" in page.text
    assert f'href="{EDIT}"' not in page.text  # a viewer may not change them
    assert viewer.get(EDIT).status_code == 403


def test_a_municipality_administrator_sets_new_rules_from_a_date(cc_site, as_role):
    town = as_role("municipality_admin")
    assert town.get(BOARD).status_code == 403  # no childcare.view: the rules page only
    form = town.get(EDIT)
    assert form.status_code == 200 and 'name="csrftoken"' in form.text
    no_inline_code(form.text)
    assert 'name="ratio_3" inputmode="numeric" size="3" value="25"' in form.text
    r = town.post(EDIT, data={"valid_from": "2026-04-01", "rounding": "band_ceil",
                              "minimum_staff": "2", "max_age_0": "0", "ratio_0": "3",
                              "max_age_1": "2", "ratio_1": "5", "ratio_2": "20"},
                  follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == EDIT + "?saved=1"
    p = policy_on(cc_site.municipality, dt.date(2026, 6, 1))
    assert p.bands == (Band(0, 0, 3), Band(1, 2, 5), Band(3, None, 20))
    assert (p.rounding, p.minimum_staff, p.from_municipality) == ("band_ceil", 2, True)
    assert policy_on(cc_site.municipality, dt.date(2026, 3, 31)).bands[1].children_per_staff == 6
    saved = town.get(r.headers["location"])
    assert "The new rules were saved." in saved.text
    assert "The municipality's own rules" in saved.text
    assert "Each age band rounded up, then added" in saved.text


def test_staff_and_managers_may_not_change_the_rules(cc_site, as_role):
    for role in ("staff", "site_manager"):
        c = as_role(role)
        assert c.get(RATIOS).status_code == 200
        r = c.post(EDIT, data={"valid_from": "2026-04-01", "rounding": "sum", "ratio_0": "9"})
        assert r.status_code == 403
    assert not RatioRule.select().exists()


GOOD = {"valid_from": "2026-04-01", "rounding": "sum", "minimum_staff": "1",
        "max_age_0": "0", "ratio_0": "3", "ratio_1": "6"}


@pytest.mark.parametrize(("change", "field"), [
    ({"valid_from": ""}, "valid_from"),
    ({"valid_from": "2026-02-30"}, "valid_from"),
    ({"rounding": "nearest"}, "rounding"),
    ({"minimum_staff": "-1"}, "minimum_staff"),
    ({"ratio_0": "0"}, "ratio_0"),
    ({"ratio_0": "三"}, "ratio_0"),
    ({"ratio_0": ""}, "ratio_0"),                      # a band with an age and no ratio
    ({"max_age_1": "5"}, "max_age_1"),                 # the last band must be open
    ({"max_age_0": ""}, "max_age_0"),                  # only the last band is open
    ({"max_age_0": "3", "max_age_1": "2", "ratio_2": "9"}, "max_age_1"),  # goes backwards
    ({"max_age_0": "", "ratio_0": "", "ratio_1": ""}, "bands"),  # no band at all
])
def test_bad_rules_are_refused_with_the_field_named_and_nothing_changes(cc_site, en, change,
                                                                        field):
    set_rules(cc_site.municipality, dt.date(2025, 4, 1), [Band(0, None, 4)])
    r = en.post(EDIT, data={**GOOD, **change})
    assert r.status_code == 422
    assert f'id="{field}-error"' in r.text
    assert "Nothing was saved." in r.text
    assert [(x.valid_from, x.children_per_staff) for x in RatioRule.select()] == [
        (dt.date(2025, 4, 1), 4)]


def test_full_width_digits_are_read(cc_site, en):
    r = en.post(EDIT, data={**GOOD, "ratio_0": "２", "valid_from": "２０２６-０４-０１"},
                follow_redirects=False)
    assert r.status_code == 303
    assert policy_on(cc_site.municipality, dt.date(2026, 5, 1)).bands[0].children_per_staff == 2


# --- the dashboard widget ---------------------------------------------------------------------


def test_the_dashboard_widget_shows_each_room_now(cc_site, as_role):
    babies_now(cc_site, 4, staff=1)
    page = as_role("staff").get(S)
    assert page.status_code == 200
    widget = re.search(r'<ul class="board-widget">.*?</ul>', page.text, re.S).group(0)
    assert "和室" in widget and "Short by 1 member of staff" in widget and "⚠" in widget
    assert f'href="{BOARD}"' in page.text
    no_inline_code(page.text)


def test_no_widget_without_childcare_view(cc_site, as_role):
    page = as_role("platform_admin").get(S)
    assert page.status_code == 200 and "board-widget" not in page.text
