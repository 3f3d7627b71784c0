"""Childcare demo data (``hubcore demo``) for 旧みどり野小学校 and えきまえ まちの縁側.

Invented, deterministic (seeded by the site), and placed around the day the demo is
loaded, so that every childcare page has something to show on that day:

- care rooms, the nap room next to the hall above it, sessions in the calendar: drop-in
  care Mon–Sat 9:00–17:00, the after-school club on school days 14:30–18:30 and the
  nap (the calendar demo's 一時預かり 午睡, made a nap session) at the school; 親子ひろば
  weekday mornings at the station hub. A day the hub is closed gets a special opening
  of drop-in care today and tomorrow, so the tablet always has children to expect;
- children: the site's demo people under 12 and families with small children (every
  class age 0–5 and school age), their guardians and a grandparent or neighbour as
  pickup people, emergency contacts, allergies for a few, photo consent for most;
- the staff roster with check-ins, reservations today and tomorrow (a full session
  with a waitlist today), four weeks of attendance (core visits recorded), a late
  pickup, after-school enrolments, ひろば head counts;
- settings, prices, the town's relief brackets and payer, two households with relief.

Rows are written with the models (bulk inserts: the demo runs before every browser
test). Where an operation exists for a row (children.register_child, add_pickup,
reservations.reserve, attendance.check_in/check_out, relief.set_household_relief,
settings.add_staff), it checks one request at a time; the demo writes what those
checks would accept, and ``tests/childcare/test_demo.py`` holds it to that.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hubcore.billing import TaxCategory
from hubcore.billing.models import Organisation, Price
from hubcore.billing.operations import add_price
from hubcore.calendar import operations as cal
from hubcore.calendar.models import Booking
from hubcore.db import utcnow
from hubcore.errors import Invalid
from hubcore.people.models import Person
from hubcore.people.operations import create_household_from_parts, create_person_from_parts
from hubcore.rooms.models import Room
from hubcore.sites.models import Site
from plugins.childcare import sessions
from plugins.childcare.ages import class_age, school_year
from plugins.childcare.models import (
    AFTERSCHOOL,
    BOOKED,
    CANCELLED,
    DROPIN,
    HIROBA,
    NAP,
    WAITLISTED,
    Attendance,
    CareRoom,
    Child,
    EmergencyContact,
    Enrolment,
    HeadCount,
    HouseholdRelief,
    PickupPerson,
    ReliefBracket,
    Reservation,
    Settings,
    Staff,
    StaffAttendance,
)
from plugins.childcare.settings import get_settings

log = logging.getLogger(__name__)

PROGRAM = "childcare"
MONTHS_BACK = 28  # days of attendance history


@dataclass(frozen=True)
class SessionSpec:
    key: str
    kind: str
    room: str
    title: str
    days: str  # BYDAY of the weekly rule
    start: str
    end: str
    capacity: int | None


@dataclass(frozen=True)
class Hub:
    care_rooms: dict[str, int]  # room → children at once
    adjacent: tuple[tuple[str, str], ...]
    sessions: tuple[SessionSpec, ...]
    # The calendar demo's bookings (calendar/demo.py keys) that are childcare sessions.
    adopt: tuple[tuple[str, str, int | None], ...]
    closing_time: str
    price_shape: str
    relief_mode: str
    sibling_discount: int
    # Families with small children: members (relation to the child, age; "子" with a
    # class age), then the bracket of relief they get ("" none).
    families: tuple[tuple[tuple[tuple[str, int], ...], str], ...]
    # (family index, relation, note) of pickup people from outside the household.
    outside_pickups: tuple[tuple[int, str, str], ...]
    staff: tuple[tuple[str, str, bool], ...]  # name, kana, 保育士
    allergies: tuple[str, ...]  # for the first children with a family of ours


SCHOOL_ROOM, NAP_ROOM = "多目的室(旧3年1組)", "和室(旧家庭科準備室)"
HUBS = {
    "midorino-school": Hub(
        care_rooms={SCHOOL_ROOM: 8, NAP_ROOM: 15},
        # The multipurpose room is right above the tatami room: footsteps carry.
        adjacent=((NAP_ROOM, SCHOOL_ROOM),),
        sessions=(
            SessionSpec("dropin", DROPIN, SCHOOL_ROOM, "一時預かり", "MO,TU,WE,TH,FR,SA",
                        "09:00", "17:00", 8),
            SessionSpec("afterschool", AFTERSCHOOL, NAP_ROOM, "放課後児童クラブ",
                        "MO,TU,WE,TH,FR", "14:30", "18:30", 15),
        ),
        adopt=(("nap", NAP, 8), ("oyako", HIROBA, None)),
        closing_time="18:30", price_shape="band_session", relief_mode="discount",
        sibling_discount=10,
        families=(
            ((("母", 33), ("父", 35), ("子", 0), ("子", 3)), ""),
            ((("母", 29), ("子", 1)), "welfare"),
            ((("母", 36), ("父", 38), ("子", 2), ("子", 5)), ""),
            ((("父", 41), ("母", 39), ("子", 4), ("子", 7)), ""),
            ((("母", 27), ("子", 1), ("子", 3)), "exempt"),
            ((("母", 34), ("父", 34), ("子", 0)), ""),
            ((("母", 40), ("子", 8), ("子", 10)), ""),
        ),
        outside_pickups=((0, "祖母", "徒歩でお迎え。紺色の帽子、小柄な方"),
                         (3, "近所の方", "同じ町内の友人。青い軽自動車(ナンバー末尾 28)")),
        staff=(("中島 由美", "ナカジマ ユミ", True), ("村田 恵子", "ムラタ ケイコ", True),
               ("石井 直美", "イシイ ナオミ", True), ("松本 大輔", "マツモト ダイスケ", True),
               ("林 千代子", "ハヤシ チヨコ", False)),
        allergies=("卵", "小麦"),
    ),
    "ekimae-engawa": Hub(
        care_rooms={"小上がり": 5, "土間スペース": 15},
        adjacent=(("小上がり", "土間スペース"),),
        sessions=(
            SessionSpec("dropin", DROPIN, "小上がり", "一時預かり", "MO,TU,WE,TH,FR",
                        "09:00", "17:00", 5),
            SessionSpec("hiroba", HIROBA, "土間スペース", "親子ひろば えんがわ",
                        "MO,TU,WE,TH,FR", "10:00", "12:00", None),
        ),
        adopt=(),
        closing_time="17:00", price_shape="per_30min", relief_mode="refund",
        sibling_discount=0,
        families=(
            ((("母", 31), ("子", 2)), "exempt"),
            ((("母", 35), ("父", 37), ("子", 0), ("子", 4)), ""),
            ((("父", 30), ("母", 28), ("子", 1)), ""),
            ((("母", 38), ("子", 3), ("子", 5)), ""),
        ),
        outside_pickups=((1, "祖父", "白髪で杖をついています。駅前の青果店の店主"),),
        staff=(("岡田 里美", "オカダ サトミ", True), ("藤井 真由美", "フジイ マユミ", True),
               ("森 春香", "モリ ハルカ", False)),
        allergies=("乳",),
    ),
}

# The price codes billing reads (care fees 非課税, meals 8 %), as the demo's hubs charge.
_CARE, _FOOD = TaxCategory.NON_TAXABLE, TaxCategory.REDUCED
PRICES = (
    ("dropin_half_0", "一時預かり 半日(0歳)", 1300, _CARE),
    ("dropin_day_0", "一時預かり 1日(0歳)", 2300, _CARE),
    ("dropin_half_1", "一時預かり 半日(1・2歳)", 1200, _CARE),
    ("dropin_day_1", "一時預かり 1日(1・2歳)", 2100, _CARE),
    ("dropin_half_3", "一時預かり 半日(3歳以上)", 900, _CARE),
    ("dropin_day_3", "一時預かり 1日(3歳以上)", 1900, _CARE),
    ("dropin_30min", "一時預かり 30分", 200, _CARE),
    ("snack", "おやつ", 50, _FOOD),
    ("lunch", "昼食", 300, _FOOD),
    ("late_block", "延長(お迎え遅れ)30分", 500, _CARE),
    ("afterschool_month", "放課後児童クラブ 月額", 8000, _CARE),
)
# The school's club fee went down this April (a price revision shows in the table).
REVISIONS = {"midorino-school": (("afterschool_month", "放課後児童クラブ 月額", 7000),)}

RELIEF_PAYER = {"name": "みどり野町 こども家庭課", "name_kana": "ミドリノマチ コドモカテイカ",
                "kind": "municipality", "department": "子育て支援係",
                "postal_code": "399-4300", "address": "長野県みどり野町役場通り1",
                "phone": "0269-00-0101"}
BRACKETS = (("welfare", "生活保護世帯", 3000), ("exempt", "住民税非課税世帯", 2400),
            ("low_income", "所得割 77,101円未満の世帯", 2100),
            ("other", "その他 町長が認める世帯", 1500))
BRACKETS_FROM = dt.date(2024, 4, 1)


def load_demo_data(site: Site, people: list[Person]) -> None:
    hub = HUBS.get(site.slug)
    if hub is None or Child.select().where(Child.site == site).exists():
        return  # not a demo hub, or loaded already
    Demo(site, hub, people).load()


class Demo:
    """One hub's demo, built step by step around today (the site's zone)."""

    def __init__(self, site: Site, hub: Hub, people: list[Person]):
        self.site, self.hub, self.people = site, hub, people
        self.tz: ZoneInfo = cal.site_zone(site)
        self.now = utcnow().astimezone(self.tz)
        self.today = self.now.date()
        self.rng = random.Random(f"childcare-{site.slug}")
        self.rooms = {r.name: r for r in Room.select().where(Room.site == site)}

    def at(self, day: dt.date, hhmm: str | dt.time) -> dt.datetime:
        t = dt.time.fromisoformat(hhmm) if isinstance(hhmm, str) else hhmm
        return dt.datetime.combine(day, t, self.tz)

    def load(self) -> None:
        from hubcore.calendar.demo import load as calendar_demo

        # The calendar's demo first (idempotent; its hook may come after ours): its
        # opening hours and bookings are what the sessions must fit around.
        calendar_demo(self.site, self.people)
        self.settings_and_prices()
        self.rooms_and_sessions()
        children = self.children()
        self.staff()
        self.enrolments(children)
        self.reservations_and_attendance(children)
        self.head_counts()

    # --- settings, prices, relief -----------------------------------------------------

    def settings_and_prices(self) -> None:
        site, hub = self.site, self.hub
        payer, _new = Organisation.get_or_create(
            municipality=site.municipality_id, name=RELIEF_PAYER["name"],
            defaults={k: v for k, v in RELIEF_PAYER.items() if k != "name"})
        for code, label, yen in BRACKETS:
            ReliefBracket.get_or_create(municipality=site.municipality_id, code=code,
                                        valid_from=BRACKETS_FROM,
                                        defaults={"label": label, "amount": yen})
        get_settings(site)
        Settings.update(closing_time=hub.closing_time, price_shape=hub.price_shape,
                        relief_mode=hub.relief_mode, relief_payer=payer,
                        sibling_discount_percent=hub.sibling_discount).where(
            Settings.site == site).execute()
        have = {c for (c,) in Price.select(Price.code).where(
            (Price.site == site) & (Price.program == PROGRAM)).tuples()}
        since = dt.date(school_year(self.today) - 1, 4, 1)
        for code, label, yen, tax in PRICES:
            if code not in have:  # settings.on_enabled seeds them as the site is switched on
                add_price(site, PROGRAM, code, label, yen, tax, since)
        april = dt.date(school_year(self.today), 4, 1)
        for code, label, yen in REVISIONS.get(site.slug, ()):
            if not Price.select().where((Price.site == site) & (Price.code == code)
                                        & (Price.valid_from == april)).exists():
                add_price(site, PROGRAM, code, label, yen, _CARE, april)

    # --- rooms and sessions -------------------------------------------------------------

    def rooms_and_sessions(self) -> None:
        site, hub, rooms = self.site, self.hub, self.rooms
        for name, capacity in hub.care_rooms.items():
            CareRoom.get_or_create(room=rooms[name], defaults={"capacity": capacity})
        for a, b in hub.adjacent:
            cal.set_adjacent(site, rooms[a], rooms[b])
        for key, kind, capacity in hub.adopt:
            booking = Booking.get_or_none((Booking.site == site)
                                          & (Booking.uid == f"demo-{site.slug}-{key}@hubcore"))
            if booking is not None:
                sessions.adopt_booking(site, booking, kind, capacity)
        # Series begin four weeks back (a Monday), like the calendar demo's.
        monday = self.today - dt.timedelta(days=self.today.weekday() + MONTHS_BACK)
        for spec in hub.sessions:
            uid = f"childcare-demo-{site.slug}-{spec.key}@hubcore"
            if Booking.select().where((Booking.site == site) & (Booking.uid == uid)).exists():
                continue
            first = monday
            while first.weekday() not in _weekdays(spec.days):
                first += dt.timedelta(days=1)
            data = self._booking(spec, first, {"rrule": f"FREQ=WEEKLY;BYDAY={spec.days}"})
            sessions.create_session(site, spec.kind, data, capacity=spec.capacity,
                                    skip_closed=True, skip_conflicts=True, uid=uid)
        # A closed day today or tomorrow (Sunday, a holiday): a special opening of drop-in
        # care, so that reservations and the tablet have children to show. Where its room
        # is taken that day (a monthly consultation), in the other care room.
        dropin = next(s for s in hub.sessions if s.kind == DROPIN)
        for day in (self.today, self.today + dt.timedelta(days=1)):
            if sessions.sittings(site, day, day + dt.timedelta(days=1), kinds=(DROPIN,)):
                continue
            for room in sorted(hub.care_rooms, key=lambda r: r != dropin.room):
                spec = SessionSpec(dropin.key, DROPIN, room, dropin.title + "(特別開所)",
                                   "", dropin.start, dropin.end, dropin.capacity)
                try:
                    sessions.create_session(
                        site, DROPIN, self._booking(spec, day), override=True,
                        capacity=spec.capacity,
                        uid=f"childcare-demo-{site.slug}-open-{day}-{self.rooms[room].id}"
                            "@hubcore")
                    break
                except (Invalid, cal.BookingConflict) as exc:
                    log.info("no special opening in %s on %s: %s", room, day, exc)

    def _booking(self, spec: SessionSpec, day: dt.date, extra: dict | None = None) -> dict:
        return {"room": self.rooms[spec.room].id, "title": spec.title,
                "start": self.at(day, spec.start), "end": self.at(day, spec.end),
                "attendance": spec.capacity or self.hub.care_rooms.get(spec.room, 1),
                **(extra or {})}

    # --- children and the people around them ------------------------------------------

    def children(self) -> list[DemoChild]:
        """Child rows for the demo people under 12 and new families; their pickup
        people and emergency contacts (children.register_child, add_pickup, add_contact)."""
        site, rng = self.site, self.rng
        out: list[DemoChild] = []
        adults_of: dict[int, list[Person]] = defaultdict(list)
        for p in Person.select().where((Person.site == site) & Person.household.is_null(False)):
            if (p.age_on(self.today) or 0) >= 18:
                adults_of[p.household_id].append(p)
        for p in self.people:
            age = p.age_on(self.today)
            if age is not None and age < 12:
                out.append(DemoChild(p, [(a, _relation_of(a)) for a in adults_of[p.household_id]],
                                     family=None))
        out += self._families()
        # The new families are demo people of the site now: later hooks (the reports'
        # demo visits run last) see them in the list they are given, as a rerun would.
        known = {p.id for p in self.people}
        self.people.extend(p for p in Person.select().where(Person.site == site)
                           .order_by(Person.id) if p.id not in known)
        ours = [c for c in out if c.family is not None]
        allergic = {id(c): a for c, a in zip(ours, self.hub.allergies, strict=False)}
        for i, c in enumerate(out):
            c.child = Child.create(
                site=site, person=c.person, photo_consent=rng.random() < 0.85,
                allergies=allergic.get(id(c), ""),
                medical_notes=("熱性けいれんの既往あり(2歳時)。37.5℃以上で保護者に連絡"
                               if i == len(out) // 2 else ""))
        pickups, contacts = [], []
        for c in out:
            for adult, relation in c.guardians:
                pickups.append({"child": c.child, "person": adult, "name": adult.full_name,
                                "relation": relation, "phone": adult.phone})
            contacts += self._contacts(c)
        for family, relation, note in self.hub.outside_pickups:
            for c in (c for c in out if c.family == family):
                pickups.append({"child": c.child, "person": None, "name": c.outside_name,
                                "relation": relation, "note": note, "phone": c.outside_phone})
        _insert(PickupPerson, pickups)
        _insert(EmergencyContact, contacts)
        rows = PickupPerson.select().where(PickupPerson.child.in_([c.child.id for c in out]))
        by_child: dict[int, list[PickupPerson]] = defaultdict(list)
        for row in rows.order_by(PickupPerson.id):
            by_child[row.child_id].append(row)
        for c in out:
            c.pickups = by_child[c.child.id]
        return out

    def _families(self) -> list[DemoChild]:
        from faker import Faker

        from hubcore.demo import SITES

        fake = Faker("ja_JP")
        fake.seed_instance(f"childcare-{self.site.slug}")
        rng = self.rng
        used = {f for (f,) in Person.select(Person.family_name).join(
            Site, on=(Person.site == Site.id)).where(
            Site.municipality == self.site.municipality_id).tuples()}
        towns = next((s["towns"] for s in SITES if s["slug"] == self.site.slug), [""])
        out: list[DemoChild] = []
        year = school_year(self.today)
        for index, (members, bracket) in enumerate(self.hub.families):
            family, kana = _new_family(fake, used)
            household = create_household_from_parts(
                self.site, name=f"{family}家", name_kana=f"{kana}ケ",
                postal_code=f"399-{4320 + index:04d}",
                address=f"長野県みどり野町{towns[index % len(towns)]}{rng.randint(1, 30)}"
                        f"-{rng.randint(1, 20)}",
                phone=f"0269-{rng.randint(10, 89)}-{rng.randint(1000, 9999)}")
            adults: list[tuple[Person, str]] = []
            kids: list[Person] = []
            given_here: set[str] = set()
            for relation, age in members:
                child = relation == "子"
                female = relation == "母" or (child and rng.random() < 0.5)
                given, given_kana = _given(fake, female, given_here)
                if child:  # ``age`` is the class age: born in the school year it gives
                    birth = dt.date(year - age, 4, 1) - dt.timedelta(days=rng.randint(20, 330))
                else:
                    birth = self.today - dt.timedelta(days=age * 365 + rng.randint(0, 300))
                head = not adults and not child
                person = create_person_from_parts(
                    self.site, household=household, family_name=family, given_name=given,
                    family_name_kana=kana, given_name_kana=given_kana, birth_date=birth,
                    relationship="子" if child else ("世帯主" if head else "配偶者"),
                    phone="" if child else _mobile(rng),
                    email="" if child else f"{fake.user_name()}@example.jp")
                (kids if child else adults).append(person if child else (person, relation))
            outsider = f"{family if index % 2 == 0 else _new_family(fake, used)[0]} " \
                       f"{_given(fake, index % 2 == 0, set())[0]}"
            relation = next((r for f, r, _note in self.hub.outside_pickups if f == index), "")
            phone = _mobile(rng)
            for kid in kids:
                out.append(DemoChild(kid, adults, family=index, outside_name=outsider,
                                     outside_phone=phone, outside_relation=relation))
            if bracket:  # relief.set_household_relief later
                HouseholdRelief.create(household=household, bracket=bracket,
                                       valid_from=dt.date(year, 4, 1) if self.today.month > 5
                                       else dt.date(year - 1, 4, 1))
        return out

    def _contacts(self, c: DemoChild) -> list[dict]:
        """A parent first (the mother where there is one), then the grandparent the
        family gave (the core demo's emergency contact) or the outside pickup person."""
        rows = []
        parents = sorted((g for g in c.guardians if g[0].phone), key=lambda g: g[1] != "母")
        if parents:
            adult, relation = parents[0]
            rows.append({"child": c.child, "name": adult.full_name, "relation": relation,
                         "phone": adult.phone, "priority": 1})
        p = c.person
        if p.emergency_contact_name and p.emergency_contact_phone:
            rows.append({"child": c.child, "name": p.emergency_contact_name,
                         "relation": p.emergency_contact_relation or "親族",
                         "phone": p.emergency_contact_phone, "priority": 2})
        elif c.outside_relation:
            rows.append({"child": c.child, "name": c.outside_name,
                         "relation": c.outside_relation, "phone": c.outside_phone,
                         "priority": 2})
        return rows

    # --- staff ----------------------------------------------------------------------------

    def staff(self) -> None:
        """The roster and four weeks of check-ins; today's up to now (staff_check_in)."""
        site = self.site
        for name, kana, qualified in self.hub.staff:
            Staff.create(site=site, name=name, name_kana=kana, qualified=qualified)
        roster = list(Staff.select().where(Staff.site == site).order_by(Staff.id))
        rows = []
        n = len(roster)
        for day, sits in self._sittings_by_day().items():
            kinds = {s.kind: s.room_id for s in sits}
            turn = day.toordinal()
            plan: list[tuple[Staff, int, str, str]] = []  # who, room, from, until
            if DROPIN in kinds:  # one opens, one comes later (short before 10:00)
                plan += [(roster[turn % 3], kinds[DROPIN], "08:45", "17:15"),
                         (roster[(turn + 1) % 3], kinds[DROPIN], "10:00", "17:15")]
            if HIROBA in kinds:
                plan.append((roster[(turn + 2) % 3 if n == 3 else n - 1], kinds[HIROBA],
                             "09:45", "12:15"))
            if AFTERSCHOOL in kinds and n > 4:
                plan += [(roster[3], kinds[AFTERSCHOOL], "14:15", "18:45"),
                         (roster[4], kinds[AFTERSCHOOL], "14:15", "18:45")]
            for member, room, start, end in plan:
                t_in, t_out = self.at(day, start), self.at(day, end)
                if t_in > self.now:
                    continue
                rows.append({"site": site, "staff": member, "room": room, "day": day,
                             "checked_in_at": t_in,
                             "checked_out_at": t_out if t_out <= self.now else None})
        _insert(StaffAttendance, rows)

    # --- enrolments, reservations, attendance -----------------------------------------------

    def enrolments(self, children: list[DemoChild]) -> None:
        """School-age children at a hub with a club are enrolled (children.enrol), but one."""
        if not any(s.kind == AFTERSCHOOL for s in self.hub.sessions):
            return
        year = school_year(self.today)
        pupils = [c for c in children if 6 <= (class_age(c.person.birth_date, self.today)
                                                or 0) <= 11]
        for i, c in enumerate(pupils[:-1] if len(pupils) > 2 else pupils):
            first = dt.date(year - (1 if i == 0 else 0), 4, 1)
            Enrolment.create(site=self.site, child=c.child, first_month=first)
            c.enrolled = True

    def reservations_and_attendance(self, children: list[DemoChild]) -> None:
        """Past four weeks, today and tomorrow. reservations.reserve and
        attendance.check_in/check_out would accept each row: places within the
        session's capacity, the waitlist in order of request, authorised pickup people,
        late minutes after closing time."""
        young = [c for c in children if (class_age(c.person.birth_date, self.today) or 0) <= 5]
        pupils = [c for c in children if c.enrolled]
        self._late = False
        self._res: list[dict] = []
        self._stays: list[tuple[dict, int | None]] = []  # attendance, index of its place
        for day, sits in sorted(self._sittings_by_day().items()):
            kinds = {s.kind: s for s in sits}
            if DROPIN in kinds and young:
                self._dropin_day(day, kinds[DROPIN], young)
            if AFTERSCHOOL in kinds and day <= self.today:
                self._club_day(day, kinds[AFTERSCHOOL], pupils)
        _insert(Reservation, self._res)
        ids = {(r.child_id, r.day, r.start_at): r.id for r in Reservation.select(
            Reservation.id, Reservation.child, Reservation.day, Reservation.start_at).where(
            Reservation.site == self.site)}
        rows = []
        for stay, index in self._stays:
            if index is not None:
                r = self._res[index]
                stay["reservation"] = ids[(r["child"].id, r["day"], r["start_at"])]
            rows.append(stay)
        _insert(Attendance, rows)
        self._visits(rows)

    def _dropin_day(self, day: dt.date, s: sessions.Sitting, young: list[DemoChild]) -> None:
        """Places of one day. Today: the session full, two children still to come in
        the afternoon and two on the waitlist; tomorrow: a few places booked."""
        rng, cap = self.rng, s.capacity
        if day == self.today:
            n = min(len(young), cap + 2)
        elif day > self.today:
            n = min(len(young), max(1, cap - 2))
        else:
            n = rng.randint(min(len(young), max(1, cap // 2)), min(cap, len(young)))
        booked = 0
        closes_early = self.hub.closing_time <= f"{s.end:%H:%M}"  # late pickups are drop-in
        for j, c in enumerate(rng.sample(young, n)):
            waitlisted = booked >= cap
            later = day == self.today and not waitlisted and booked >= cap - 2
            if day == self.today:
                # Everyone booked is in at 13:00–14:00, so the waitlist cannot fit.
                start = self.at(day, "13:00") if later else \
                    s.start + dt.timedelta(minutes=rng.choice((0, 0, 30, 60)))
                end = s.end - dt.timedelta(hours=rng.choice((0, 0, 1, 2)))
                if waitlisted:
                    start, end = self.at(day, "10:00"), self.at(day, "15:00")
            else:
                start = s.start + dt.timedelta(minutes=rng.choice((0, 0, 30, 60)))
                end = min(s.end, start + dt.timedelta(hours=rng.choice((3, 5, 6, 7, 8))))
            late = (not self._late and closes_early and day < self.today and j == 0)
            if late:
                end = s.end
            booked += not waitlisted
            requested = self.at(day, "08:00") - dt.timedelta(days=7) + dt.timedelta(hours=j)
            cancelled = day < self.today and j > 0 and rng.random() < 0.06
            self._res.append({
                "site": self.site, "child": c.child, "room": s.room_id, "program": DROPIN,
                "day": day, "start_at": start, "end_at": end,
                "status": WAITLISTED if waitlisted else (CANCELLED if cancelled else BOOKED),
                "lunch": end >= self.at(day, "13:00"), "snack": end >= self.at(day, "15:00"),
                "notes": "午後から。祖母が送ってきます" if later and j == cap - 1 else "",
                "requested_at": requested, "created_at": requested})
            if waitlisted or later or cancelled or day > self.today:
                continue
            stay = self._stay(c, s.room_id, DROPIN, day, start, end, late)
            if stay is not None:
                self._stays.append((stay, len(self._res) - 1))

    def _club_day(self, day: dt.date, s: sessions.Sitting, pupils: list[DemoChild]) -> None:
        """Enrolled pupils come after school (no reservation); the first to stay past
        closing time is the late pickup of the demo."""
        rng = self.rng
        for c in pupils:
            if rng.random() > 0.8:
                continue
            start = s.start + dt.timedelta(minutes=rng.choice((10, 20, 40, 50)))
            end = s.end - dt.timedelta(minutes=rng.choice((0, 30, 60, 90)))
            stay = self._stay(c, s.room_id, AFTERSCHOOL, day, start, end,
                              late=not self._late and day < self.today)
            if stay is not None:
                self._stays.append((stay, None))

    def _stay(self, c: DemoChild, room_id: int, program: str, day: dt.date,
              start: dt.datetime, end: dt.datetime, late: bool) -> dict | None:
        """An attendance row (None before its check-in): in a little around the start,
        out around the end, by one of the child's pickup people (mostly a parent);
        ``late``: 15–25 minutes after closing time."""
        rng = self.rng
        t_in = start + dt.timedelta(minutes=rng.randint(-5, 10))
        if t_in > self.now:
            return None
        closes = self.at(day, self.hub.closing_time)
        t_out = end - dt.timedelta(minutes=rng.randint(0, 15))
        if late:
            t_out = closes + dt.timedelta(minutes=25 if program == DROPIN else 15)
            self._late = True
        out = t_out if t_out <= self.now else None
        picked = None
        if out is not None and c.pickups:
            outsiders = [p for p in c.pickups if p.person_id is None]
            parents = [p for p in c.pickups if p.person_id is not None] or outsiders
            picked = rng.choice(outsiders if outsiders and rng.random() < 0.25 else parents)
        return {"site": self.site, "child": c.child, "room": room_id, "program": program,
                "day": day, "checked_in_at": t_in, "checked_out_at": out,
                "picked_up_by": picked, "picked_up_name": picked.name if picked else "",
                "late_minutes": max(0, int((out - closes).total_seconds() // 60)) if out else 0,
                "lunch": program == DROPIN and t_out >= self.at(day, "13:00"),
                "snack": t_out >= self.at(day, "15:00"), "reservation": None}

    def _visits(self, rows: Iterable[dict]) -> None:
        """The core visits of the stays, with the session key check_in gives them."""
        from hubcore.reports import VisitIn, record_visits
        from plugins.childcare.attendance import VISIT_PROGRAM, session_key

        record_visits(self.site, [
            VisitIn(r["child"].person_id, VISIT_PROGRAM,
                    session_key(r["program"], r["room"], r["day"]), r["day"],
                    r["checked_in_at"]) for r in rows])

    def head_counts(self) -> None:
        """親子ひろば: children and adults per hour (attendance.change_head_count)."""
        rows = []
        for day, sits in self._sittings_by_day().items():
            for s in sits:
                if s.kind != HIROBA:
                    continue
                for hour in range(s.start.hour, s.end.hour):
                    if self.at(day, dt.time(hour)) + dt.timedelta(minutes=30) > self.now:
                        continue
                    kids = self.rng.randint(2, 9)
                    rows.append({"site": self.site, "room": s.room_id, "day": day,
                                 "hour": hour, "children": kids,
                                 "adults": max(1, kids - self.rng.randint(0, 3))})
        _insert(HeadCount, rows)

    def _sittings_by_day(self) -> dict[dt.date, list[sessions.Sitting]]:
        if not hasattr(self, "_by_day"):
            first = self.today - dt.timedelta(days=MONTHS_BACK)
            self._by_day: dict[dt.date, list[sessions.Sitting]] = defaultdict(list)
            for s in sessions.sittings(self.site, first, self.today + dt.timedelta(days=2)):
                self._by_day[s.start.date()].append(s)
        return self._by_day


@dataclass(eq=False)
class DemoChild:
    person: Person
    guardians: list[tuple[Person, str]]  # household adults and their relation to the child
    family: int | None  # index into Hub.families; None: a demo person of the core
    outside_name: str = ""
    outside_phone: str = ""
    outside_relation: str = ""  # set where the family has a pickup person from outside
    child: Child | None = None
    pickups: list[PickupPerson] | None = None
    enrolled: bool = False


def _insert(model, rows: list[dict]) -> None:
    """Many rows in a few statements (peewee's insert_many, in batches)."""
    for i in range(0, len(rows), 200):
        model.insert_many(rows[i:i + 200]).execute()


def _weekdays(days: str) -> set[int]:
    return {("MO", "TU", "WE", "TH", "FR", "SA", "SU").index(d) for d in days.split(",") if d}


def _relation_of(adult: Person) -> str:
    """The relation to a child of an adult of the core demo's households."""
    return {"父": "祖父", "母": "祖母"}.get(adult.relationship, "保護者")


def _mobile(rng: random.Random) -> str:
    return f"0{rng.choice('987')}0-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"


def _new_family(fake, used: set[str]) -> tuple[str, str]:
    while True:
        kanji, kana, _romaji = fake.last_name_pair()
        if kanji not in used:
            used.add(kanji)
            return kanji, kana


def _given(fake, female: bool, taken: set[str]) -> tuple[str, str]:
    while True:
        kanji, kana, _romaji = (fake.first_name_female_pair() if female
                                else fake.first_name_male_pair())
        if kanji not in taken:
            taken.add(kanji)
            return kanji, kana
