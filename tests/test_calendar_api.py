"""The calendar in the JSON API (bookings, occurrences, 409 conflicts), each answer checked
against the OpenAPI document; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from test_api import conforms

from hubcore.calendar import hours
from hubcore.calendar.models import Booking
from hubcore.rooms.models import Room
from hubcore.testing import make_site, user_client

API = "/api/v1/sites/test-site"
BOOKINGS = f"{API}/bookings"


@pytest.fixture
def doc(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").json()


@pytest.fixture
def room(site):
    return Room.create(site=site, name="多目的室", capacity=20)


def book(client, room, **extra) -> Any:
    body = {"room": room.id, "title": "親子ひろば", "start": "2027-06-07T10:00:00+09:00",
            "end": "2027-06-07T12:00:00+09:00", **extra}
    return client.post(BOOKINGS, json=body)


def test_the_document_describes_the_calendar(doc):
    paths = doc["paths"]
    assert set(paths["/api/v1/sites/{site}/bookings/{booking_id}"]) == {
        "get", "patch", "delete"}
    assert set(paths["/api/v1/sites/{site}/bookings"]) == {"get", "post"}
    assert "409" in paths["/api/v1/sites/{site}/bookings"]["post"]["responses"]
    assert "409" in paths["/api/v1/sites/{site}/bookings/{booking_id}"]["patch"]["responses"]
    params = {p["name"] for p in paths["/api/v1/sites/{site}/occurrences"]["get"]["parameters"]}
    assert {"start", "end", "room"} <= params
    schemas = doc["components"]["schemas"]
    assert {"rrule", "start", "end", "override", "skip_conflicts"} <= set(
        schemas["BookingCreateIn"]["properties"])
    assert "conflicts" in schemas["ConflictError"]["properties"]


def test_create_get_patch_delete(client, doc, room):
    r = book(client, room, rrule="FREQ=WEEKLY;COUNT=4")
    created = conforms(doc, "createBooking", r)
    assert r.status_code == 201 and r.headers["location"] == created["url"]
    assert created["start"] == "2027-06-07T10:00:00+09:00"
    assert created["rrule"] == "FREQ=WEEKLY;COUNT=4" and created["program"] == "calendar"

    got = conforms(doc, "getBooking", client.get(created["url"]))
    assert got == created

    r = client.patch(created["url"], json={"title": "親子ひろば(拡大版)", "attendance": 15})
    changed = conforms(doc, "updateBooking", r)
    assert changed["title"] == "親子ひろば(拡大版)" and changed["sequence"] == 1

    # Move the second occurrence only, by its RECURRENCE-ID.
    occ = conforms(doc, "listOccurrences", client.get(
        f"{API}/occurrences", params={"start": "2027-06-01", "end": "2027-07-01"}))
    assert [o["start"][:10] for o in occ] == ["2027-06-07", "2027-06-14", "2027-06-21",
                                              "2027-06-28"]
    second = occ[1]["recurrence_id"]
    r = client.patch(created["url"], json={"scope": "this", "recurrence_id": second,
                                           "start": "2027-06-15T14:00:00+09:00",
                                           "end": "2027-06-15T16:00:00+09:00"})
    conforms(doc, "updateBooking", r)
    occ = client.get(f"{API}/occurrences", params={"start": "2027-06-01",
                                                   "end": "2027-07-01"}).json()
    assert occ[1]["start"] == "2027-06-15T14:00:00+09:00" and occ[1]["moved"]

    # Cancel one, then the rest.
    r = client.delete(created["url"], params={"scope": "this",
                                              "recurrence_id": occ[2]["recurrence_id"]})
    conforms(doc, "cancelBooking", r)
    assert len(client.get(f"{API}/occurrences", params={
        "start": "2027-06-01", "end": "2027-07-01"}).json()) == 3
    r = client.delete(created["url"])
    assert conforms(doc, "cancelBooking", r)["status"] == "cancelled"
    assert client.get(f"{API}/occurrences", params={"start": "2027-06-01",
                                                    "end": "2027-07-01"}).json() == []
    listed = conforms(doc, "listBookings", client.get(BOOKINGS,
                                                      params={"include_cancelled": "true"}))
    assert [b["id"] for b in listed] == [created["id"]]
    assert client.get(BOOKINGS).json() == []


def test_conflict_is_409_with_every_occurrence(client, doc, room):
    assert book(client, room, title="体操", start="2027-06-14T10:30:00+09:00",
                end="2027-06-14T11:00:00+09:00").status_code == 201
    assert book(client, room, title="書道", start="2027-06-21T09:00:00+09:00",
                end="2027-06-21T10:30:00+09:00").status_code == 201
    before = Booking.select().count()
    r = book(client, room, rrule="FREQ=WEEKLY;COUNT=4")
    body = conforms(doc, "createBooking", r)
    assert r.status_code == 409 and body["error"] == "conflict"
    assert [(c["date"], c["title"], c["program"]) for c in body["conflicts"]] == [
        ("2027-06-14", "体操", "calendar"), ("2027-06-21", "書道", "calendar")]
    assert body["conflicts"][0]["start"] == "2027-06-14T10:30:00+09:00"
    assert Booking.select().count() == before  # nothing saved
    # The other dates, without the conflicting ones.
    r = book(client, room, rrule="FREQ=WEEKLY;COUNT=4", skip_conflicts=True)
    created = conforms(doc, "createBooking", r)
    assert created["exdates"] == ["2027-06-14", "2027-06-21"]
    # Moving an occurrence onto another booking is a 409 too.
    occ = client.get(f"{API}/occurrences", params={"start": "2027-06-07",
                                                   "end": "2027-06-08"}).json()
    r = client.patch(created["url"], json={"scope": "this",
                                           "recurrence_id": occ[0]["recurrence_id"],
                                           "start": "2027-06-14T10:00:00+09:00",
                                           "end": "2027-06-14T11:00:00+09:00"})
    assert r.status_code == 409 and conforms(doc, "updateBooking", r)["conflicts"]


def test_occurrences_by_room_and_range(client, doc, room, site):
    other = Room.create(site=site, name="和室", capacity=10)
    book(client, room, rrule="FREQ=DAILY;COUNT=3")
    book(client, other, title="囲碁", start="2027-06-08T13:00:00+09:00",
         end="2027-06-08T15:00:00+09:00")
    found = conforms(doc, "listOccurrences", client.get(
        f"{API}/occurrences", params={"start": "2027-06-08T00:00:00+09:00",
                                      "end": "2027-06-09T00:00:00+09:00"}))
    assert [(o["title"], o["room"]) for o in found] == [("親子ひろば", room.id),
                                                       ("囲碁", other.id)]
    assert set(found[0]) == {"booking_id", "recurrence_id", "room", "title", "program",
                             "start", "end", "all_day", "status", "moved"}
    only = client.get(f"{API}/occurrences", params={"start": "2027-06-01",
                                                    "end": "2027-06-30", "room": other.id})
    assert [o["title"] for o in conforms(doc, "listOccurrences", only)] == ["囲碁"]
    # A range the other way round, or too long, is refused.
    r = client.get(f"{API}/occurrences", params={"start": "2027-06-09", "end": "2027-06-01"})
    assert r.status_code == 422 and conforms(doc, "listOccurrences", r)
    r = client.get(f"{API}/occurrences", params={"start": "2027-01-01", "end": "2028-01-01"})
    assert r.status_code == 422
    r = client.get(f"{API}/occurrences", params={"start": "2027-06-01"})
    assert r.status_code == 422


def test_invalid_and_closed_are_422_and_override_needs_the_right(client, doc, room, site,
                                                                 settings):
    r = book(client, room, title="", rrule="FREQ=HOURLY")
    body = conforms(doc, "createBooking", r)
    assert r.status_code == 422 and {"title", "rrule"} & set(body["fields"])
    hours.set_opening_hours(site, [(d, dt.time(9), dt.time(17)) for d in range(5)])
    r = book(client, room, start="2027-06-07T18:00:00+09:00", end="2027-06-07T19:00:00+09:00")
    assert r.status_code == 422 and "17:00" in conforms(doc, "createBooking", r)["fields"]["start"]
    # Staff may book but not override the opening hours.
    with user_client(settings, ("staff", site), email="staff@test.example.jp") as staff:
        r = staff.post(BOOKINGS, json={"room": room.id, "title": "夜の会", "override": True,
                                       "start": "2027-06-07T18:00:00+09:00",
                                       "end": "2027-06-07T19:00:00+09:00"})
        assert r.status_code == 403
    # The site manager may.
    r = book(client, room, start="2027-06-07T18:00:00+09:00", end="2027-06-07T19:00:00+09:00",
             override=True)
    assert r.status_code == 201, r.text


def test_viewer_reads_but_cannot_book(client, room, site, settings):
    created = book(client, room).json()
    with user_client(settings, ("viewer", site), email="viewer@test.example.jp") as viewer:
        assert viewer.get(created["url"]).status_code == 200
        assert viewer.get(f"{API}/occurrences", params={
            "start": "2027-06-01", "end": "2027-06-30"}).status_code == 200
        assert book(viewer, room, start="2027-06-08T10:00:00+09:00",
                    end="2027-06-08T11:00:00+09:00").status_code == 403
        assert viewer.patch(created["url"], json={"title": "x"}).status_code == 403
        assert viewer.delete(created["url"]).status_code == 403


def test_another_sites_booking_is_not_found(client, room):
    from hubcore.calendar import operations as ops

    other = make_site("other-site", municipality="other-town")
    other_room = Room.create(site=other, name="別の部屋", capacity=5)
    b = ops.create_booking(other, {"room": other_room.id, "title": "秘密",
                                   "start": "2027-06-07T10:00", "end": "2027-06-07T11:00"})
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"title": "x"}} if method == "patch" else {}
        assert getattr(client, method)(f"{BOOKINGS}/{b.id}", **kwargs).status_code == 404
    # Nor can a booking of this site name the other site's room.
    r = book(client, other_room)
    assert r.status_code == 422 and "room" in r.json()["fields"]
