"""The settings page (settings, prices, care rooms, staff) and the relief pages: saved
on good input, 422 with the field's message and nothing changed on bad input, and
every showing of households' brackets logged. SQLite and PostgreSQL; English (?lang=en)."""

from __future__ import annotations

import datetime as dt

import pytest

from hubcore.audit.models import AuditEvent
from hubcore.billing.models import Organisation, Price
from hubcore.rooms.models import Room
from hubcore.testing import make_site, user_client
from plugins.childcare import relief
from plugins.childcare.models import Attendance, CareRoom, HouseholdRelief, ReliefBracket, Staff
from plugins.childcare.models import Settings as CareSettings
from plugins.childcare.testing import care_room, local, make_child, make_household

BASE = "/s/test-site/childcare/"
EN = "?lang=en"


@pytest.fixture
def web(cc_site, client):
    return client


def good_settings(**changes) -> dict:
    return {"closing_time": "18:30", "price_shape": "per_30min", "half_day_minutes": "300",
            "sibling_discount_percent": "10", "relief_mode": "refund",
            "late_block_minutes": "15", **changes}


def stored(site) -> CareSettings:
    return CareSettings.get(CareSettings.site == site)


def test_settings_page_shows_prices_rooms_and_the_age_rule(cc_site, web):
    r = web.get(BASE + "settings/" + EN)
    assert r.status_code == 200
    assert "age on the day of care" in r.text
    assert 'data-code="dropin_day_0"' in r.text and "¥2,300" in r.text
    assert "和室" in r.text and "ホール" in r.text
    assert "<script>" not in r.text and 'style="' not in r.text


def test_settings_saved_and_refused_with_422(cc_site, web):
    town = Organisation.create(municipality=cc_site.municipality_id, name="テスト町")
    r = web.post(BASE + "settings/" + EN, data=good_settings(relief_payer_id=str(town.id),
                                                             closing_time="9:45"),
                 follow_redirects=False)
    assert r.status_code == 303
    s = stored(cc_site)
    assert (s.closing_time, s.price_shape, s.half_day_minutes, s.sibling_discount_percent,
            s.relief_mode, s.relief_payer_id, s.late_block_minutes) == (
        "09:45", "per_30min", 300, 10, "refund", town.id, 15)

    elsewhere = make_site("far", municipality="far-town")
    foreign = Organisation.create(municipality=elsewhere.municipality_id, name="遠い町")
    for bad, field, words in (
            ({"closing_time": "25:00"}, "closing_time", "HH:MM"),
            ({"sibling_discount_percent": "120"}, "sibling_discount_percent", "100 or less"),
            ({"relief_mode": "cash"}, "relief_mode", "not allowed"),
            ({"half_day_minutes": "abc"}, "half_day_minutes", "whole number"),
            ({"relief_payer_id": str(foreign.id)}, "relief_payer_id", "this municipality")):
        r = web.post(BASE + "settings/" + EN, data=good_settings(**bad, closing_time="07:00")
                     if field != "closing_time" else good_settings(**bad))
        assert r.status_code == 422, field
        assert f'id="cs-{field}-error"' in r.text and words in r.text, field
        assert "Nothing was saved" in r.text
    assert stored(cc_site).closing_time == "09:45"  # unchanged by every refusal
    assert web.post(BASE + "settings/" + EN, data={}).status_code == 422


def test_add_a_price_from_a_date_closes_the_old_one(cc_site, web):
    r = web.post(BASE + "settings/prices/" + EN, data={"code": "lunch", "unit_price": "¥350",
                                                       "valid_from": "2027-04-01"},
                 follow_redirects=False)
    assert r.status_code == 303
    rows = list(Price.select().where((Price.site == cc_site) & (Price.code == "lunch"))
                .order_by(Price.valid_from))
    assert [(int(p.unit_price), p.valid_to, p.tax_category) for p in rows] == [
        (300, dt.date(2027, 3, 31), "reduced"), (350, None, "reduced")]
    assert rows[1].label == rows[0].label
    page = web.get(BASE + "settings/" + EN).text
    assert "¥350" in page  # shown as coming

    for bad, field in (({"code": "caviar"}, "code"), ({"unit_price": "-1"}, "unit_price"),
                       ({"valid_from": "2027-04-01"}, "valid_from"),  # that day has one
                       ({"valid_from": "soon"}, "valid_from")):
        data = {"code": "lunch", "unit_price": "400", "valid_from": "2028-04-01", **bad}
        r = web.post(BASE + "settings/prices/" + EN, data=data)
        assert r.status_code == 422, field
        assert f'id="cp-{field}-error"' in r.text, field
    assert Price.select().where((Price.site == cc_site) & (Price.code == "lunch")).count() == 2


def test_care_room_capacity_set_and_removed(cc_site, web):
    hall = Room.get((Room.site == cc_site) & (Room.name == "ホール"))
    assert web.post(BASE + "settings/rooms/", data={"room_id": hall.id, "capacity": "20"},
                    follow_redirects=False).status_code == 303
    assert CareRoom.get(CareRoom.room == hall).capacity == 20
    assert web.post(BASE + "settings/rooms/", data={"room_id": hall.id, "capacity": "15"}
                    ).status_code in (200, 303)
    assert CareRoom.get(CareRoom.room == hall).capacity == 15
    r = web.post(BASE + "settings/rooms/" + EN, data={"room_id": hall.id, "capacity": "0"})
    assert r.status_code == 422 and f'id="room-{hall.id}-error"' in r.text
    other = Room.create(site=make_site("other"), name="よその部屋", capacity=5)
    assert web.post(BASE + "settings/rooms/", data={"room_id": other.id, "capacity": "5"}
                    ).status_code == 422
    assert not CareRoom.select().where(CareRoom.room == other).exists()
    web.post(BASE + "settings/rooms/", data={"room_id": hall.id})  # empty: not a care room
    assert not CareRoom.select().where(CareRoom.room == hall).exists()
    assert CareRoom.get(CareRoom.room == care_room(cc_site)).capacity == 10


def test_staff_roster_add_rename_deactivate(cc_site, web):
    assert web.post(BASE + "settings/staff/", data={"name": "山田 花子", "qualified": "on"},
                    follow_redirects=False).status_code == 303
    member = Staff.get(Staff.site == cc_site)
    assert (member.name, member.qualified, member.active) == ("山田 花子", True, True)
    r = web.post(BASE + "settings/staff/edit/", data={"staff_id": member.id, "name": "山田 はな",
                                                      "name_kana": "ヤマダ ハナ"},
                 follow_redirects=False)
    assert r.status_code == 303
    member = Staff.get_by_id(member.id)
    assert (member.name, member.qualified, member.active) == ("山田 はな", False, False)
    r = web.post(BASE + "settings/staff/edit/" + EN, data={"staff_id": member.id, "name": ""})
    assert r.status_code == 422 and f'id="st{member.id}-name-error"' in r.text
    r = web.post(BASE + "settings/staff/" + EN, data={"name": "  "})
    assert r.status_code == 422 and 'id="sn-name-error"' in r.text
    foreign = Staff.create(site=make_site("other"), name="よそ")
    r = web.post(BASE + "settings/staff/edit/", data={"staff_id": foreign.id, "name": "x"})
    assert r.status_code == 422
    assert Staff.get_by_id(foreign.id).name == "よそ"
    assert Staff.get_by_id(member.id).name == "山田 はな"


def reads() -> list[str]:
    return [e.subject for e in AuditEvent.select().where(AuditEvent.action == "sensitive_read")
            .order_by(AuditEvent.id)]


def test_relief_page_logs_every_showing_and_sets_brackets(cc_site, web):
    h = make_household(cc_site)
    r = web.post(BASE + "relief/" + EN, data={"household_id": h.id, "bracket": "exempt",
                                              "valid_from": "2026-04-01"},
                 follow_redirects=False)
    assert r.status_code == 303
    assert reads() == []
    page = web.get(BASE + "relief/" + EN)
    assert page.status_code == 200 and h.name in page.text
    assert "Resident tax exempt" in page.text
    assert reads() == [f"household:{h.id}"]
    web.get(BASE + "relief/" + EN)
    assert reads() == [f"household:{h.id}"] * 2  # each time shown

    for bad, field in (({"bracket": "rich"}, "bracket"), ({"household_id": "999999"},
                                                          "household_id"),
                       ({"valid_from": "2026-05-01", "valid_to": "2026-04-01"}, "valid_to")):
        data = {"household_id": h.id, "bracket": "welfare", "valid_from": "2026-06-01", **bad}
        r = web.post(BASE + "relief/" + EN, data=data)
        assert r.status_code == 422, field
        assert f'id="rb-{field}-error"' in r.text, field
    assert HouseholdRelief.select().count() == 1

    row = HouseholdRelief.get()
    r = web.post(BASE + "relief/end/" + EN, data={"relief_id": row.id, "last_day": "x"})
    assert r.status_code == 422 and f'id="end-{row.id}-error"' in r.text
    assert web.post(BASE + "relief/end/", data={"relief_id": row.id, "last_day": "2026-06-30"},
                    follow_redirects=False).status_code == 303
    assert HouseholdRelief.get_by_id(row.id).valid_to == dt.date(2026, 6, 30)


def test_refund_statement_and_its_csv(cc_site, web):
    CareSettings.update(relief_mode="refund").where(CareSettings.site == cc_site).execute()
    h = make_household(cc_site)
    child = make_child(cc_site, dt.date(2020, 1, 1), household=h)
    relief.set_household_relief(cc_site, {"household_id": h.id, "bracket": "other",
                                          "valid_from": "2026-04-01"})
    day = dt.date(2026, 5, 12)
    Attendance.create(site=cc_site, child=child, room=care_room(cc_site), day=day,
                      checked_in_at=local(day, "09:00"), checked_out_at=local(day, "17:00"))
    page = web.get(BASE + "relief/" + EN + "&month=2026-05")
    assert page.status_code == 200
    assert "Relief the municipality refunds" in page.text and "¥1,500" in page.text
    csv = web.get(BASE + "relief/statement.csv?month=2026-05")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert f"{h.name},".encode() in csv.content and b",1,1500\r\n" in csv.content
    assert reads().count(f"household:{h.id}") == 2  # the page and the export
    assert web.get(BASE + "relief/" + EN + "&month=May").status_code == 422


def test_municipality_amounts_page(cc_site, web, settings):
    r = web.get(BASE + "relief/amounts/" + EN)
    assert r.status_code == 200 and "¥3,000" in r.text
    r = web.post(BASE + "relief/amounts/" + EN, data={"valid_from": "2026-10-01",
                                                      "welfare": "3500", "other": "1,000"},
                 follow_redirects=False)
    assert r.status_code == 303
    assert {(b.code, b.amount) for b in ReliefBracket.select()} == {
        ("welfare", 3500), ("other", 1000)}
    r = web.post(BASE + "relief/amounts/" + EN, data={"valid_from": "2026-11-01",
                                                      "welfare": "-1"})
    assert r.status_code == 422 and 'id="ra-welfare-error"' in r.text
    assert ReliefBracket.select().count() == 2
    # A site manager (no childcare.ratios) may not change the town's amounts.
    with user_client(settings, ("site_manager", cc_site), email="mgr@t.jp") as mgr:
        assert mgr.get(BASE + "relief/amounts/").status_code == 403
        assert mgr.get(BASE + "relief/").status_code == 200
