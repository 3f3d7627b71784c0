"""Factories for tests of childcare and of plugins that build on it (no pytest needed)."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from hubcore.people.operations import create_household_from_parts, create_person_from_parts
from hubcore.rooms.models import Room
from hubcore.testing import make_site
from plugins.childcare.models import CareRoom, Child
from plugins.childcare.sessions import create_session

TOKYO = ZoneInfo("Asia/Tokyo")
_names = itertools.count(1)


def childcare_site(slug: str = "test-site"):
    """A site with childcare switched on, a care room (和室, 10 children, nap area) and a
    room next to nothing (ホール)."""
    site = make_site(slug, plugins=("childcare",))
    room = Room.create(site=site, name="和室", capacity=12, features="tatami,nap_area")
    CareRoom.create(room=room, capacity=10)
    Room.create(site=site, name="ホール", capacity=40)
    return site


def care_room(site) -> Room:
    return Room.get((Room.site == site) & (Room.name == "和室"))


def make_household(site, name: str = "佐藤"):
    n = next(_names)
    return create_household_from_parts(site, name=f"{name}家{n}", name_kana="サトウケ")


def make_child(site, birth: dt.date, household=None, given: str = "はな", **child_fields) -> Child:
    """A child (core Person in ``household``, one made if None) with a childcare record."""
    household = household or make_household(site)
    person = create_person_from_parts(site, household=household, family_name="佐藤",
                                      given_name=f"{given}{next(_names)}",
                                      family_name_kana="サトウ", given_name_kana="ハナ",
                                      birth_date=birth, relationship="子")
    return Child.create(site=site, person=person, **child_fields)


def make_guardian(site, household, given: str = "花子"):
    return create_person_from_parts(site, household=household, family_name="佐藤",
                                    given_name=given, family_name_kana="サトウ",
                                    given_name_kana="ハナコ", birth_date=dt.date(1990, 5, 5),
                                    relationship="母")


def local(day: dt.date, hhmm: str) -> dt.datetime:
    h, m = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(h, m), TOKYO)


def make_session(site, day: dt.date, kind: str = "dropin", start: str = "09:00",
                 end: str = "17:00", room: Room | None = None, capacity: int | None = None,
                 rrule: str = ""):
    """A childcare session in the care room (override: tests ignore opening hours)."""
    room = room or care_room(site)
    return create_session(site, kind, {"room": room.id, "title": f"{kind} session",
                                       "start": local(day, start), "end": local(day, end),
                                       "rrule": rrule}, capacity=capacity, override=True)
