"""Two notices per demo site, dated from today where the site is."""

from __future__ import annotations

import datetime as dt

from hubcore.rooms.models import Room
from hubcore.sites.models import Site
from hubcore_noticeboard import operations as ops
from hubcore_noticeboard.schemas import NoticeIn

WEEKDAYS = "月火水木金土日"


def _day(d: dt.date) -> str:
    return f"{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）"


def _rooms(site: Site) -> tuple[str, str]:
    """The site's kitchen and its largest other room, by name (with fallbacks)."""
    rooms = list(Room.select().where((Room.site == site) & ~Room.retired)
                 .order_by(Room.sort_order, Room.name))
    kitchen = next((r.name for r in rooms if "kitchen" in r.feature_list), "調理室")
    others = [r for r in rooms if "kitchen" not in r.feature_list]
    hall = max(others, key=lambda r: r.capacity).name if others else "多目的室"
    return kitchen, hall


def add_demo_notices(site: Site, now: dt.datetime | None = None) -> None:
    today = ops.site_today(site, now)
    friday = today + dt.timedelta(days=(4 - today.weekday()) % 7)  # today when it is Friday
    kitchen, hall = _rooms(site)
    ops.create_notice(site, NoticeIn(
        title=f"{_day(friday)} こども食堂をひらきます",
        body=(f"17:00〜19:00、{kitchen}で。子ども（高校生まで）は無料、大人は300円です。\n"
              "食物アレルギーのある方は、前日までに受付へお知らせください。"),
        show_until=friday,
        pinned=True,
    ), now=now)
    ops.create_notice(site, NoticeIn(
        title="健康体操は毎週火曜 10:00から",
        body=(f"{hall}で、椅子に座ったままできる体操を30分ほど行います。"
              "どなたでも参加できます（申込不要・参加費無料）。\n"
              "動きやすい服装で、飲み物をお持ちください。"),
    ), now=now)
