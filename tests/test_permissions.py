"""Every route the app has × every role × own site / foreign site.

Routes are read from the app's router (core, built-in and test plugins, the API), so
a new route is in this test the moment it exists: without a permission decision it
fails here, and with one the guard must enforce it for every role, here and at
another tenant's site. Path ids are filled with real records of the site the URL
names; a new kind of id needs a sample in SAMPLES below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from testplugins import garden, kitchen

from hubcore.api.http import ApiRoute
from hubcore.app import create_app
from hubcore.auth.actions import MUNICIPALITY_ADMIN, PLATFORM_ADMIN, get_action
from hubcore.auth.guard import Decision, decision_of
from hubcore.auth.operations import create_token
from hubcore.migrations import migrate
from hubcore.plugins import get_host
from hubcore.testing import api_token, hub_client, login, make_site, make_user, registered

ROLES = ("anonymous", PLATFORM_ADMIN, MUNICIPALITY_ADMIN, "site_manager", "staff", "viewer")


@dataclass(frozen=True)
class Endpoint:
    path: str  # full path template, e.g. /s/{site}/rooms/{room_id}/edit/
    method: str
    decision: Decision | None
    api: bool = False


def _walk(routes: list[BaseRoute], prefix: str = "") -> list[Endpoint | str]:
    out: list[Endpoint | str] = []
    for r in routes:
        if isinstance(r, ApiRoute):
            for method, op in r.operations.items():
                d = (Decision(login=False) if op.action == "public" else
                     Decision(login=True, action=None if op.action == "login" else op.action))
                out.append(Endpoint(prefix + r.path, method, d, api=True))
        elif isinstance(r, Route):
            for method in sorted((r.methods or {"GET"}) - {"HEAD"}):
                out.append(Endpoint(prefix + r.path, method, decision_of(r.endpoint)))
        elif isinstance(r, Mount):
            if isinstance(r.app, StaticFiles):
                out.append(prefix + r.path)  # static files: public by nature
            else:
                out += _walk(r.routes, prefix + r.path)
    return out


def _endpoints(app) -> list[Endpoint]:
    return [e for e in _walk(app.routes) if isinstance(e, Endpoint)]


@pytest.fixture
def world(database, settings):
    """Two municipalities with a site each (every plugin on), a user per role, records."""
    with registered(garden, kitchen):
        migrate(get_host())
        optional = tuple(get_host().optional_names())
        own = make_site("own", municipality="town-a", plugins=optional)
        foreign = make_site("foreign", municipality="town-b", plugins=optional)
        users = {
            PLATFORM_ADMIN: make_user("platform@t.jp", (PLATFORM_ADMIN, None)),
            MUNICIPALITY_ADMIN: make_user("town@t.jp", (MUNICIPALITY_ADMIN, own.municipality)),
            "site_manager": make_user("manager@t.jp", ("site_manager", own)),
            "staff": make_user("staff@t.jp", ("staff", own)),
            "viewer": make_user("viewer@t.jp", ("viewer", own)),
        }
        samples = {"own": _records(own), "foreign": _records(foreign)}
        yield create_app(settings), own, foreign, users, samples


def _records(site) -> dict[str, str]:
    """One record of each kind a path can name, at ``site``."""
    from hubcore.people import operations as people
    from hubcore.people.schemas import HouseholdIn, PersonIn
    from hubcore.rooms import operations as rooms
    from hubcore.rooms.schemas import RoomIn

    room = rooms.create_room(site, RoomIn(name="会議室", capacity=10))
    household = people.create_household(site, HouseholdIn(name="佐藤家", name_kana="サトウケ"))
    person = people.create_person(site, PersonIn(
        family_name="佐藤", given_name="花子", family_name_kana="サトウ",
        given_name_kana="ハナコ", household_id=household.id))
    # A user of this municipality for the user-administration pages to act on.
    sample_user = make_user(f"sample-{site.slug}@t.jp", ("viewer", site))
    out = {"site": site.slug, "municipality": site.municipality.slug, "room_id": room.id,
           "person_id": person.id, "household_id": household.id, "user_id": sample_user.id,
           **_billing_records(site, household), **_calendar_records(site, room)}
    if "noticeboard" in get_host().plugins:
        from hubcore_noticeboard import operations as notices
        from hubcore_noticeboard.schemas import NoticeIn

        out["notice_id"] = notices.create_notice(site, NoticeIn(title="お知らせ")).id
    if "childcare" in get_host().plugins:
        out.update(_childcare_session_records(site, room))
        out.update(_childcare_attendance_records(site, room, household))
        out.update(_childcare_children_records(site))
    return {k: str(v) for k, v in out.items()}


def _childcare_children_records(site) -> dict[str, int]:
    """A registered school child with a pickup person, an emergency contact and an
    enrolment (the matrix's empty POSTs are refused with 422: nothing is removed)."""
    import datetime as dt

    from hubcore.people.operations import create_person_from_parts
    from plugins.childcare import children

    person = create_person_from_parts(site, family_name="鈴木", given_name="れん",
                                      family_name_kana="スズキ", given_name_kana="レン",
                                      birth_date=dt.date(2019, 5, 1))
    child = children.register_child(site, person)
    pickup = children.add_pickup(site, child, children.PickupIn(name="鈴木 とし",
                                                                relation="祖母"))
    contact = children.add_contact(site, child, children.ContactIn(name="鈴木 とし",
                                                                   phone="090-1234-5678"))
    enrolment = children.enrol(site, child, children.EnrolmentIn(
        first_month=dt.date(2027, 4, 1)))
    return {"child_id": child.id, "pickup_id": pickup.id, "contact_id": contact.id,
            "enrolment_id": enrolment.id}


def _childcare_session_records(site, room) -> dict[str, int]:
    """A childcare session (a weekly calendar booking with its kind)."""
    import datetime as dt

    from plugins.childcare.sessions import create_session

    session = create_session(site, "dropin", {
        "room": room.id, "title": "一時預かり", "rrule": "FREQ=WEEKLY;COUNT=3",
        "start": dt.datetime(2027, 6, 9, 9), "end": dt.datetime(2027, 6, 9, 12)})
    return {"session_id": session.id}


def _childcare_attendance_records(site, room, household) -> dict[str, int]:
    """A child with a drop-in place (in a session of its own) and a stay checked in."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from hubcore.people.operations import create_person_from_parts
    from plugins.childcare import attendance, reservations
    from plugins.childcare.models import Child
    from plugins.childcare.sessions import create_session

    day, tz = dt.date(2027, 6, 10), ZoneInfo("Asia/Tokyo")
    create_session(site, "dropin", {"room": room.id, "title": "一時預かり",
                                    "start": dt.datetime(2027, 6, 10, 9),
                                    "end": dt.datetime(2027, 6, 10, 12)}, override=True)
    person = create_person_from_parts(site, household=household, family_name="佐藤",
                                      given_name="はな", family_name_kana="サトウ",
                                      given_name_kana="ハナ", birth_date=dt.date(2024, 5, 1),
                                      relationship="子")
    child = Child.create(site=site, person=person)
    r = reservations.reserve(site, child, room, day, "09:00", "10:00")
    stay = attendance.check_in(site, child, room, dt.datetime(2027, 6, 10, 9, tzinfo=tz),
                               reservation=r)
    return {"reservation_id": r.id, "attendance_id": stay.id}


def _billing_records(site, household) -> dict[str, int]:
    """An issued invoice (so that no POST of the matrix deletes or changes it), a payment
    and an organisation of the site's municipality."""
    import datetime as dt

    from hubcore.billing import LineItem, Payer, TaxCategory
    from hubcore.billing import operations as billing
    from hubcore.billing.models import Invoice, Organisation

    payer = Payer("household", household.id, household.name)
    inv = Invoice.create(site=site, period="2026-04", payer_key=payer.key, household=household,
                         payer_name=household.name)
    billing.add_manual_line(inv, LineItem(billing.MANUAL, "調整", 1000, TaxCategory.STANDARD))
    inv = billing.issue_invoice(billing.review_invoice(inv))
    payment = billing.record_payment(site, payer, 100, "cash", dt.date(2026, 5, 1), invoice=inv)
    org = Organisation.create(municipality=site.municipality, name="株式会社サンプル")
    return {"invoice_id": inv.id, "payment_id": payment.id, "organisation_id": org.id}


def _calendar_records(site, room) -> dict[str, object]:
    """A weekly booking, a feed to revoke, and another feed whose token stays live."""
    import datetime as dt

    from hubcore.calendar import ics
    from hubcore.calendar import operations as cal

    booking = cal.create_booking(site, {
        "room": room.id, "title": "体操", "rrule": "FREQ=WEEKLY;COUNT=3",
        "start": dt.datetime(2027, 6, 8, 10), "end": dt.datetime(2027, 6, 8, 11)})
    feed, _token = ics.create_feed(site, "site", label="revoke me")
    _live, token = ics.create_feed(site, "room", room)
    return {"booking_id": booking.id, "feed_id": feed.id, "feed_token": token}


def _fill(path: str, values: dict[str, str]) -> str:
    def one(m: re.Match) -> str:
        name = m.group(1).split(":")[0]
        assert name in values, (f"{path}: the matrix test has no sample for {{{name}}}; "
                                "add one to _records()")
        return values[name]

    return re.sub(r"{([^}]+)}", one, path)


def _visible(role: str, place: str) -> bool:
    """Whether a user holding ``role`` (at site "own" / its municipality) sees ``place``."""
    return role == PLATFORM_ADMIN or place == "own"


def _granted(role: str, action: str | None) -> bool:
    if action is None:
        return True
    a = get_action(action)
    if a.scope == "platform":
        return role == PLATFORM_ADMIN and role in a.roles
    return role in a.roles


def expected(e: Endpoint, role: str, place: str) -> str:
    """'ok', 'login' (the log-in page or a 401), 'not_found' or 'forbidden'."""
    d = e.decision
    if not d.login:
        return "ok"
    if role == "anonymous":
        return "login"
    if "{site}" in e.path or "{municipality}" in e.path:
        if not _visible(role, place):
            return "not_found"
    return "ok" if _granted(role, d.action) else "forbidden"


def _matches(outcome: str, e: Endpoint, status: int, location: str) -> bool:
    if outcome == "ok":
        return status < 500 and status not in (401, 403, 404, 405)
    if outcome == "login":
        if e.api or e.method != "GET":
            return status == 401
        return status == 303 and location.startswith("/login?next=")
    return status == {"not_found": 404, "forbidden": 403}[outcome]


def test_every_route_has_a_permission_decision(world):
    app = world[0]
    undecided = sorted({f"{e.method} {e.path}" for e in _endpoints(app) if e.decision is None})
    assert not undecided, "routes without @requires/@login_required/@public: " + \
        ", ".join(undecided)
    for e in _endpoints(app):
        if e.decision.action:
            get_action(e.decision.action)  # declared by register_actions


def test_route_role_site_matrix(world):
    app, own, foreign, users, samples = world
    endpoints = _endpoints(app)
    assert len(endpoints) > 40  # the core, the test plugins and the API are all here
    failures = []
    for role in ROLES:
        with hub_client(app) as c:
            token, mine = None, {"token_id": "1"}
            if role != "anonymous":
                email = users[role].email
                assert login(c, email).status_code == 303
                token = api_token(email)
                # The user's own second token, for the page that revokes one.
                mine = {"token_id": str(create_token(users[role], "revoke me")[0].id)}
            for e in endpoints:
                places = ("own", "foreign") if re.search(r"{(site|municipality)}", e.path) \
                    else ("own",)
                for place in places:
                    url = _fill(e.path, {**samples[place], **mine})
                    headers = {"Authorization": f"Bearer {token}"} if e.api and token else {}
                    kwargs = {"json": {}} if e.api and e.method != "GET" else (
                        {"data": {}} if e.method != "GET" else {})
                    r = c.request(e.method, url, headers=headers, follow_redirects=False,
                                  **kwargs)
                    want = expected(e, role, place)
                    if not _matches(want, e, r.status_code, r.headers.get("location", "")):
                        failures.append(f"{role:<18} {place:<7} {e.method:<6} {url}: "
                                        f"got {r.status_code}, expected {want}")
                    if e.path == "/logout" and role != "anonymous":
                        assert login(c, users[role].email).status_code == 303
    assert not failures, "\n".join(failures)


def test_static_files_are_public(world, anonymous_client):
    app = world[0]
    statics = [p for p in _walk(app.routes) if isinstance(p, str)]
    assert "/static/hubcore" in statics
    r = anonymous_client.get("/static/hubcore/hubcore.css")
    assert r.status_code == 200 and "no-store" not in r.headers.get("cache-control", "")
