"""The notice board: plain functions over the models, no HTTP."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hubcore.db import write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.i18n import gettext as _
from hubcore.sites.models import Site
from hubcore_noticeboard.models import Notice, utc_now
from hubcore_noticeboard.schemas import NoticeIn


def site_today(site: Site, now: dt.datetime | None = None) -> dt.date:
    """Today where the site is: a UTC server's date would turn at 09:00 in Japan.

    ``now`` (timezone-aware) is for tests; by default the current time.
    """
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(ZoneInfo(site.timezone or "Asia/Tokyo")).date()


def current_notices(site: Site, now: dt.datetime | None = None,
                    limit: int | None = None) -> list[Notice]:
    """The notices shown at the site: not taken down, not past their last day.

    Pinned ones first, then the newest first.
    """
    today = site_today(site, now)
    q = (Notice.select()
         .where((Notice.site == site) & Notice.archived_at.is_null()
                & (Notice.show_until.is_null() | (Notice.show_until >= today)))
         .order_by(Notice.pinned.desc(), Notice.created_at.desc(), Notice.id.desc()))
    if limit is not None:
        q = q.limit(limit)
    return list(q)


def get_notice(site: Site, notice_id: int | str) -> Notice:
    """A notice of this site (taken down or not), or NotFound."""
    try:
        nid = int(notice_id)
    except (TypeError, ValueError):
        raise NotFound(notice_id) from None
    notice = Notice.get_or_none((Notice.id == nid) & (Notice.site == site))
    if notice is None:
        raise NotFound(notice_id)
    return notice


def create_notice(site: Site, data: NoticeIn, now: dt.datetime | None = None) -> Notice:
    """Post a notice. A last day before today (at the site) is refused: it would never show."""
    if data.show_until is not None and data.show_until < site_today(site, now):
        raise Invalid({"show_until": _("{label} must be today or later.").format(
            label=_(NoticeIn.model_fields["show_until"].title))})
    with write_transaction():
        return Notice.create(site=site, title=data.title, body=data.body,
                             show_until=data.show_until, pinned=data.pinned)


def archive_notice(notice: Notice) -> Notice:
    """Take a notice down: it is no longer shown, and its row is kept. Idempotent."""
    if notice.archived_at is None:
        with write_transaction():
            notice.archived_at = utc_now()
            (Notice.update(archived_at=notice.archived_at)
             .where((Notice.id == notice.id) & Notice.archived_at.is_null()).execute())
    return notice
