"""The audit log: one row per event worth answering for later."""

from __future__ import annotations

import peewee

from hubcore.db import BaseModel, utcnow


class AuditEvent(BaseModel):
    """Who did what, where, when. Rows are only ever added.

    User, site and municipality are kept as ids and copied names, not foreign keys:
    the log must outlive what it names, and must not slow down deleting a test site.
    """

    at = peewee.DateTimeField(default=utcnow, index=True)
    action = peewee.CharField(max_length=64, index=True)
    user_id = peewee.IntegerField(null=True, index=True)
    user_email = peewee.CharField(max_length=254, default="")
    municipality_id = peewee.IntegerField(null=True, index=True)
    site_id = peewee.IntegerField(null=True, index=True)
    site_slug = peewee.CharField(max_length=64, default="")
    subject = peewee.CharField(max_length=200, default="")  # e.g. "person:12"
    detail = peewee.TextField(default="")  # JSON
    ip = peewee.CharField(max_length=64, default="")

    class Meta:
        table_name = "audit_event"


MODELS = [AuditEvent]
