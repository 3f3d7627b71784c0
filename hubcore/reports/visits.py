"""Visits: programs record who took part in which session; the rollups follow.

Why a core table that programs write to, rather than a hook that yields visits when a
report is asked for: the ごちゃまぜ measures are about persons — how many different
people came, how many came to two or more programs, in how many sessions children
and elderly people were together. Those cannot be added up from each program's own
totals (the same grandmother is in the kitchen's count and the exercise class's),
and asking every program for every attendance of a year at report time would read
millions of rows through as many plugin queries. So each program calls
``record_visit`` (or ``record_visits`` for a whole session) when it takes
attendance, and the core keeps, in the same transaction, two small rollups:

* ``visit_tally``: visits per site, month, person, program and age band (age on the
  visit day). Unique people, people in two or more programs and visits by age band
  of a month or a fiscal year are one indexed GROUP BY over it.
* ``visit_session``: per session, its visits and how many of them were by people
  under 18 and 65 or over. Mixed-generation sessions are a count over it.

Recording is idempotent: one visit per site, session, program and person; a second
call changes nothing. A birth date corrected later moves the person's visits to
their right age band (``person_changed``). ``rebuild`` recomputes the rollups from
``visit`` should they ever be doubted (``hubcore reports rebuild``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hubcore import db
from hubcore.db import utcnow, write_transaction
from hubcore.errors import Invalid
from hubcore.i18n import gettext as _
from hubcore.people.models import Person, age_on
from hubcore.people.operations import AGE_BANDS
from hubcore.plugins import get_host
from hubcore.reports.models import UNKNOWN_BAND, Visit, VisitSession, VisitTally
from hubcore.sites.models import Site

CHILD_UNDER = 18  # "under-18s": 17 and younger
ELDER_FROM = 65  # "over-65s": 65 and older (高齢者)
BATCH = 500  # rows per INSERT: far below SQLite's limit on parameters


@dataclass(frozen=True)
class VisitIn:
    """One attendance to record: ``session`` is the program's key of the event (see
    ``booking_session``); ``day`` the site's local date; ``start`` optional, aware."""

    person_id: int
    program: str
    session: str
    day: dt.date
    start: dt.datetime | None = None


def band_of(age: int | None) -> int:
    """The index of the age band in ``AGE_BANDS`` (UNKNOWN_BAND without a birth date)."""
    if age is None:
        return UNKNOWN_BAND
    for i, (low, high) in enumerate(AGE_BANDS):
        if age >= low and (high is None or age <= high):
            return i
    return UNKNOWN_BAND  # a negative age: a visit before the birth date


def booking_session(booking_id: int, recurrence_id: dt.datetime) -> str:
    """The session key of one occurrence of a calendar booking: programs that take
    attendance at the same booked event use it, so the event is one session."""
    return f"booking:{booking_id}:{recurrence_id.astimezone(dt.UTC):%Y%m%dT%H%M}"


def _p() -> str:
    return db.database.obj.param


def _day(day: dt.date):
    return day.isoformat() if db.is_sqlite() else day


def _time(value: dt.datetime | None):
    """As UTCField stores it: naive UTC (text on SQLite, so text order is time order)."""
    if value is None:
        return None
    naive = value.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    return naive.isoformat(" ") if db.is_sqlite() else naive


def _rows(rows: Sequence[tuple], width: int) -> str:
    one = "(" + ", ".join([_p()] * width) + ")"
    return ", ".join([one] * len(rows))


def _check(visits: Sequence[VisitIn]) -> None:
    programs = get_host().plugins
    for v in visits:
        if v.program not in programs:
            raise Invalid({"program": _("No program named {program} is installed.")
                           .format(program=v.program)})
        if not v.session or len(v.session) > 120:
            raise Invalid({"session": _("A session key is 1 to 120 characters long.")})
        if not isinstance(v.day, dt.date) or isinstance(v.day, dt.datetime):
            raise Invalid({"day": _("The day of a visit is a date.")})
        if v.start is not None and v.start.tzinfo is None:
            raise Invalid({"start": _("The start of a visit needs a time zone.")})


def _births(site: Site, person_ids: Iterable[int]) -> dict[int, dt.date | None]:
    ids = sorted(set(person_ids))
    out: dict[int, dt.date | None] = {}
    for i in range(0, len(ids), BATCH):
        chunk = ids[i:i + BATCH]
        q = (Person.select(Person.id, Person.birth_date)
             .where(Person.id.in_(chunk) & (Person.site == site)).tuples())
        out.update(q)
    missing = set(ids) - set(out)
    if missing:
        raise Invalid({"person": _("Person {id} is not registered at this site.")
                       .format(id=min(missing))})
    return out


def record_visit(site: Site, person: Person | int, program: str, day: dt.date, session: str,
                 start: dt.datetime | None = None) -> bool:
    """Record that ``person`` took part in ``program``'s ``session`` on ``day`` at
    ``site``. True if it was new, False if it was recorded already (nothing changes)."""
    pid = person if isinstance(person, int) else person.id
    return record_visits(site, [VisitIn(pid, program, session, day, start)]) == 1


def record_visits(site: Site, visits: Iterable[VisitIn]) -> int:
    """Record many attendances at once (a whole session's list); returns how many were
    new. Every person must be registered at ``site``; the program must be installed.
    Runs in one write transaction (inside the caller's, if there is one)."""
    visits = list(dict.fromkeys(visits))
    if not visits:
        return 0
    _check(visits)
    with write_transaction():
        births = _births(site, (v.person_id for v in visits))
        added: list[tuple[VisitIn, int | None]] = []
        now = _time(utcnow())
        for i in range(0, len(visits), BATCH):
            chunk = visits[i:i + BATCH]
            ages = {v: age_on(births[v.person_id], v.day) for v in chunk}
            rows = [(site.id, v.person_id, v.program, v.session, _day(v.day), _time(v.start),
                     ages[v], now) for v in chunk]
            sql = ("INSERT INTO visit (site_id, person_id, program, session, day, start_at, "
                   f"age, created_at) VALUES {_rows(rows, 8)} "
                   "ON CONFLICT (site_id, session, program, person_id) DO NOTHING "
                   "RETURNING person_id, program, session")
            cursor = db.database.execute_sql(sql, [x for r in rows for x in r])
            new = set(cursor.fetchall())
            by_key = {(v.person_id, v.program, v.session): v for v in chunk}
            added += [(by_key[k], ages[by_key[k]]) for k in new]
        _contribute(site.id, [(v.person_id, v.program, v.session, v.day, age)
                              for v, age in added], +1)
    return len(added)


def remove_visits(site: Site, program: str, session: str,
                  person_ids: Iterable[int] | None = None) -> int:
    """Take back recorded visits (attendance corrected): of the given people, or of
    everyone, in ``program``'s ``session``. Returns how many were removed."""
    with write_transaction():
        q = Visit.select(Visit.id, Visit.person, Visit.program, Visit.session, Visit.day,
                         Visit.age).where((Visit.site == site) & (Visit.program == program)
                                          & (Visit.session == session))
        if person_ids is not None:
            q = q.where(Visit.person.in_(sorted(set(person_ids))))
        rows = list(q.tuples())
        if not rows:
            return 0
        Visit.delete().where(Visit.id.in_([r[0] for r in rows])).execute()
        _contribute(site.id, [r[1:] for r in rows], -1)
    return len(rows)


def refresh_person(person: Person) -> int:
    """Recompute the age of the person's visits (their birth date changed) and move
    them to the right bands. Returns how many visits changed; cheap when none did."""
    rows = list(Visit.select(Visit.id, Visit.site, Visit.program, Visit.session, Visit.day,
                             Visit.age).where(Visit.person == person.id).tuples())
    changed = [(r, age_on(person.birth_date, r[4])) for r in rows]
    changed = [(r, new) for r, new in changed if new != r[5]]
    if not changed:
        return 0
    with write_transaction():
        for site_id in sorted({r[1] for r, _new in changed}):
            mine = [(r, new) for r, new in changed if r[1] == site_id]
            _contribute(site_id, [(person.id, r[2], r[3], r[4], r[5]) for r, _n in mine], -1)
            _contribute(site_id, [(person.id, r[2], r[3], r[4], new) for r, new in mine], +1)
        for r, new in changed:
            Visit.update(age=new).where(Visit.id == r[0]).execute()
    return len(changed)


def _contribute(site_id: int, visits: Sequence[tuple], sign: int) -> None:
    """Add (sign +1) or take away (-1) visits — (person, program, session, day, age) —
    to or from the rollups. Call inside a write transaction."""
    if not visits:
        return
    tally: Counter[tuple] = Counter()
    sessions: dict[str, list] = {}
    for person_id, program, session, day, age in visits:
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
        tally[(day.year * 100 + day.month, person_id, program, band_of(age))] += sign
        s = sessions.setdefault(session, [day, 0, 0, 0])
        s[0] = min(s[0], day)
        s[1] += sign
        s[2] += sign if age is not None and age < CHILD_UNDER else 0
        s[3] += sign if age is not None and age >= ELDER_FROM else 0
    trows = [(site_id, *k, n) for k, n in tally.items() if n]
    for i in range(0, len(trows), BATCH):
        chunk = trows[i:i + BATCH]
        db.database.execute_sql(
            "INSERT INTO visit_tally (site_id, month, person_id, program, band, visits) "
            f"VALUES {_rows(chunk, 6)} ON CONFLICT (site_id, month, person_id, program, band) "
            "DO UPDATE SET visits = visit_tally.visits + excluded.visits",
            [x for r in chunk for x in r])
    srows = [(site_id, key, _day(day), n, c, e) for key, (day, n, c, e) in sessions.items()]
    for i in range(0, len(srows), BATCH):
        chunk = srows[i:i + BATCH]
        db.database.execute_sql(
            "INSERT INTO visit_session (site_id, session, day, visits, children, elders) "
            f"VALUES {_rows(chunk, 6)} ON CONFLICT (site_id, session) DO UPDATE SET "
            "visits = visit_session.visits + excluded.visits, "
            "children = visit_session.children + excluded.children, "
            "elders = visit_session.elders + excluded.elders",
            [x for r in chunk for x in r])
    if sign < 0:  # rows counting nothing any more would still count as people/sessions
        VisitTally.delete().where((VisitTally.site == site_id)
                                  & (VisitTally.visits <= 0)).execute()
        VisitSession.delete().where((VisitSession.site == site_id)
                                    & (VisitSession.visits <= 0)).execute()


def rebuild(site: Site | None = None) -> int:
    """Recompute the rollups of ``site`` (or of every site) from the visits. Idempotent;
    returns the number of visits read."""
    sites = [site] if site is not None else list(Site.select())
    total = 0
    for s in sites:
        with write_transaction():
            VisitTally.delete().where(VisitTally.site == s).execute()
            VisitSession.delete().where(VisitSession.site == s).execute()
            rows = list(Visit.select(Visit.person, Visit.program, Visit.session, Visit.day,
                                     Visit.age).where(Visit.site == s).tuples())
            _contribute(s.id, rows, +1)
        total += len(rows)
    return total
