"""A realistic week at the two demo hubs (``hubcore demo``). Idempotent: fixed UIDs."""

from __future__ import annotations

import datetime as dt

from hubcore.calendar import hours
from hubcore.calendar import operations as ops
from hubcore.calendar.models import Booking
from hubcore.db import utcnow
from hubcore.rooms.models import Room

# (key, room, title, weekday offset from Monday, start, end, rrule, attendance,
#  setup, cleanup, loud)
PATTERNS = {
    "midorino-school": [
        ("oyako", "多目的室(旧3年1組)", "親子ひろば", 0, "10:00", "12:00",
         "FREQ=WEEKLY;BYDAY=MO,WE,FR", 18, 15, 15, False),
        ("day-service", "和室(旧家庭科準備室)", "デイサービス 昼食とレクリエーション", 1,
         "11:30", "14:00", "FREQ=WEEKLY;BYDAY=TU,TH", 12, 30, 15, False),
        ("nap", "和室(旧家庭科準備室)", "一時預かり 午睡", 0, "12:30", "14:30",
         "FREQ=WEEKLY;BYDAY=MO,WE,FR", 8, 0, 0, False),
        ("kodomo-shokudo", "調理室", "こども食堂", 3, "17:00", "20:00",
         "FREQ=WEEKLY;BYDAY=TH", 20, 60, 30, False),
        ("cooking", "調理室", "男の料理教室", 5, "10:00", "13:00",
         "FREQ=MONTHLY;BYDAY=2SA", 12, 30, 30, False),
        ("homework", "図書コーナー", "宿題カフェ", 1, "15:30", "17:30",
         "FREQ=WEEKLY;BYDAY=TU,TH", 8, 0, 0, False),
        ("kosodate-soudan", "相談室", "子育て相談", 2, "13:00", "15:00",
         "FREQ=MONTHLY;BYDAY=2WE,4WE", 2, 0, 0, False),
        ("taiso", "多目的室(旧3年1組)", "いきいき体操", 1, "10:00", "11:00",
         "FREQ=WEEKLY;BYDAY=TU", 15, 15, 15, True),
    ],
    "ekimae-engawa": [
        ("telework", "ワークスペース", "テレワーク開放", 0, "09:00", "18:00",
         "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", 8, 0, 0, False),
        ("akiya", "小上がり", "空き家相談会", 1, "10:00", "12:00",
         "FREQ=MONTHLY;BYDAY=2TU", 4, 15, 15, False),
        ("engawa-cafe", "土間スペース", "まちの縁側カフェ", 2, "13:00", "16:00",
         "FREQ=WEEKLY;BYDAY=WE,SA", 15, 30, 30, False),
        ("kodomo-shokudo", "キッチン", "こども食堂", 3, "17:00", "20:00",
         "FREQ=WEEKLY;BYDAY=TH", 10, 60, 30, False),
    ],
}

HIRE = {"midorino-school": [("多目的室(旧3年1組)", 500)]}  # yen an hour, tax included

ADJACENT = {"midorino-school": [("和室(旧家庭科準備室)", "調理室"),
                                ("和室(旧家庭科準備室)", "相談室")]}


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def load(site, people) -> None:
    patterns = PATTERNS.get(site.slug)
    if patterns is None:
        return
    rooms = {r.name: r for r in Room.select().where(Room.site == site)}
    tz = ops.site_zone(site)
    # Mon–Sat 9:00–21:00, closed on Sundays and public holidays (the default).
    hours.set_opening_hours(site, [(d, dt.time(9), dt.time(21)) for d in range(6)])
    today = utcnow().astimezone(tz).date()
    for year in (today.year - 1, today.year):
        hours.add_closed_day(site, dt.date(year, 12, 29), dt.date(year + 1, 1, 3), "年末年始")
    for a, b in ADJACENT.get(site.slug, []):
        if a in rooms and b in rooms:
            ops.set_adjacent(site, rooms[a], rooms[b])
    # The multipurpose room is hired out to residents' groups (room hire is billed).
    from hubcore.billing.models import Price
    from hubcore.calendar.hire import PROGRAM, hire_code, set_hourly_price

    for name, yen in HIRE.get(site.slug, []):
        if name in rooms and not Price.select().where(
                (Price.site == site) & (Price.program == PROGRAM)
                & (Price.code == hire_code(rooms[name].id))).exists():
            set_hourly_price(site, rooms[name], yen, today - dt.timedelta(days=365))
    adults = [p for p in people if (p.age_on(today) or 0) >= 20]
    # Series begin four weeks ago so that the calendar has a little history.
    monday = today - dt.timedelta(days=today.weekday() + 28)
    for i, (key, room, title, offset, start, end, rule, attendance, setup, cleanup,
            loud) in enumerate(patterns):
        uid = f"demo-{site.slug}-{key}@hubcore"
        if room not in rooms or Booking.select().where(
                (Booking.site == site) & (Booking.uid == uid)).exists():
            continue
        day = _first_day(monday + dt.timedelta(days=offset), rule)
        ops.create_booking(site, {
            "room": rooms[room].id, "title": title, "attendance": attendance,
            "start": dt.datetime.combine(day, _time(start)),
            "end": dt.datetime.combine(day, _time(end)), "rrule": rule,
            "setup_minutes": setup, "cleanup_minutes": cleanup, "loud": loud,
            "organiser": adults[i % len(adults)].id if adults else None,
        }, uid=uid, skip_closed=True, skip_conflicts=True)


def _first_day(day: dt.date, rule: str) -> dt.date:
    """The first date on or after ``day`` that the rule gives (monthly ones need it)."""
    from zoneinfo import ZoneInfo

    from hubcore.calendar import recurrence as rec

    tz = ZoneInfo("UTC")
    start = dt.datetime.combine(day, dt.time(0), tz)
    month_start = dt.datetime.combine(day.replace(day=1), dt.time(0), tz)
    series = rec.Series(month_start, dt.timedelta(hours=1), rule)
    after = rec.expand(series, start + dt.timedelta(days=62), after=start - dt.timedelta(days=1))
    return after.starts[0].date() if after.starts else day
