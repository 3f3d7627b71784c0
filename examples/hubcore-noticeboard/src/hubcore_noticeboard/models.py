"""The notice board's one table: noticeboard_notice."""

from __future__ import annotations

import datetime as dt

import peewee

from hubcore.db import BaseModel
from hubcore.sites.models import Site


def utc_now() -> dt.datetime:
    """Now in UTC, without tzinfo: stored the same way on SQLite and PostgreSQL."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Notice(BaseModel):
    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    title = peewee.CharField(max_length=100)
    body = peewee.TextField(default="")
    # The last day the notice is shown, a date where the site is; None: until taken down.
    show_until = peewee.DateField(null=True)
    pinned = peewee.BooleanField(default=False)
    created_at = peewee.DateTimeField(default=utc_now)  # UTC
    # Taking a notice down archives it: the row is kept, it is no longer shown.
    archived_at = peewee.DateTimeField(null=True)  # UTC

    class Meta:
        table_name = "noticeboard_notice"
        indexes = ((("site", "archived_at"), False),)


MODELS = [Notice]
