"""Writing and reading the audit log.

``record()`` is called inside the transaction of the change it records, so a change
and its log row are saved together or not at all. Who is acting comes from
``current_actor``, which the web guard and the API set per request; the CLI leaves it
empty and events then say "cli".
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import peewee

from hubcore.audit.models import AuditEvent
from hubcore.i18n import N_, gettext

# Labels of the core's events; plugins' own events show their name as is.
EVENT_LABELS = {
    "login": N_("Logged in"),
    "login_failed": N_("Failed log-in"),
    "login_locked": N_("Log-in refused (locked)"),
    "logout": N_("Logged out"),
    "password_changed": N_("Password changed"),
    "password_reset": N_("Password reset"),
    "user_created": N_("User created"),
    "user_deactivated": N_("User deactivated"),
    "user_reactivated": N_("User reactivated"),
    "role_granted": N_("Role granted"),
    "role_revoked": N_("Role revoked"),
    "token_created": N_("API token created"),
    "token_revoked": N_("API token revoked"),
    "plugin_enabled": N_("Program switched on"),
    "plugin_disabled": N_("Program switched off"),
    "plugin_allowed": N_("Program allowed for the municipality"),
    "plugin_forbidden": N_("Program forbidden for the municipality"),
    "sensitive_read": N_("Sensitive data read"),
    "audit_exported": N_("Audit log exported"),
}


def event_label(action: str) -> str:
    return gettext(EVENT_LABELS[action]) if action in EVENT_LABELS else action


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    email: str
    ip: str = ""


current_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar(
    "hubcore_actor", default=None)


def record(action: str, *, site=None, municipality=None, subject: str = "",
           detail: dict[str, Any] | None = None, actor: Actor | None = None) -> AuditEvent:
    """Add an event. ``site`` or ``municipality`` place it (a site implies its municipality)."""
    actor = actor or current_actor.get() or Actor(None, "cli")
    municipality_id = site.municipality_id if site is not None else (
        municipality.id if municipality is not None else None)
    return AuditEvent.create(
        action=action, user_id=actor.user_id, user_email=actor.email[:254], ip=actor.ip[:64],
        municipality_id=municipality_id, site_id=site.id if site is not None else None,
        site_slug=site.slug if site is not None else "", subject=subject[:200],
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "",
    )


def sensitive_read(site, subject: str, what: str) -> None:
    """Log that the current user was shown sensitive data (要配慮個人情報).

    Plugins call this wherever they show such data, e.g.
    ``sensitive_read(site, f"person:{child.id}", "allergies")``; the permission
    to see it is checked separately (``principal.require(action, site=site)``).
    """
    record("sensitive_read", site=site, subject=subject, detail={"what": what})


TOKYO = "Asia/Tokyo"  # the log is read in Japan: filter days and shown times are Tokyo's
PAGE_SIZE = 100


@dataclass
class AuditFilter:
    user: str = ""  # part of an email
    site_id: int | None = None
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    municipality_id: int | None = None  # the municipality's log (see municipality_clause)

    def describe(self) -> dict[str, Any]:
        """The filter as plain values (for the export's own audit event)."""
        out = {"user": self.user, "site_id": self.site_id, "action": self.action,
               "from": self.since, "to": self.until, "municipality_id": self.municipality_id}
        return {k: v for k, v in out.items() if v not in (None, "")}


def municipality_clause(municipality_ids: list[int]) -> peewee.Expression:
    """A municipality's log: events placed at it or its sites, and placeless events (log-ins,
    failed log-ins, password and token events) by users who hold a role there now."""
    from hubcore.auth.models import RoleGrant

    if not municipality_ids:
        return AuditEvent.id == 0
    members = RoleGrant.select(RoleGrant.user).where(RoleGrant.municipality.in_(municipality_ids))
    return (AuditEvent.municipality_id.in_(municipality_ids)
            | (AuditEvent.municipality_id.is_null() & AuditEvent.user_id.in_(members)))


def _query(principal, f: AuditFilter) -> peewee.ModelSelect:
    """Events the principal may read (all for a platform admin, else the logs of the
    municipalities they administer), narrowed by the filter."""
    from hubcore.auth.actions import MUNICIPALITY_ADMIN
    from hubcore.db import like

    q = AuditEvent.select()
    if not principal.is_platform_admin:
        ids = sorted({g.municipality_id for g in principal.grants
                      if g.role == MUNICIPALITY_ADMIN})
        q = q.where(municipality_clause(ids))
    if f.municipality_id is not None:
        q = q.where(municipality_clause([f.municipality_id]))
    if f.user:
        escaped = f.user.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(like(AuditEvent.user_email, f"%{escaped}%"))
    if f.site_id is not None:
        q = q.where(AuditEvent.site_id == f.site_id)
    if f.action:
        q = q.where(AuditEvent.action == f.action)
    if f.since:
        q = q.where(AuditEvent.at >= _day_start_utc(f.since))
    if f.until:
        q = q.where(AuditEvent.at < _day_start_utc(f.until + dt.timedelta(days=1)))
    return q


def _day_start_utc(day: dt.date) -> dt.datetime:
    # Dates in the filter are Japanese calendar days.
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(), ZoneInfo(TOKYO)).astimezone(dt.UTC)


def tokyo_time(at: dt.datetime) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(ZoneInfo(TOKYO))


def search(principal, f: AuditFilter, limit: int = PAGE_SIZE, offset: int = 0
           ) -> tuple[list[AuditEvent], int]:
    """One page of the filtered log, newest first, and how many events match in all."""
    q = _query(principal, f)
    rows = list(q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                .limit(limit).offset(offset))
    return rows, q.count()


def parse_filter(params, sites: dict[str, int],
                 municipalities: dict[str, int] | None = None
                 ) -> tuple[AuditFilter, dict[str, str]]:
    """A filter from query parameters (user, site, action, from, to, municipality).

    ``sites`` and ``municipalities`` map the slugs a user may choose to ids. A value that
    cannot be used is left out of the filter and named in the returned errors.
    """
    from hubcore.i18n import gettext as _

    f = AuditFilter(user=(params.get("user") or "").strip()[:254])
    errors: dict[str, str] = {}
    site = params.get("site") or ""
    if site:
        if site in sites:
            f.site_id = sites[site]
        else:
            errors["site"] = _("Site: choose one from the list.")
    action = params.get("action") or ""
    if action:
        if action in EVENT_LABELS:
            f.action = action
        else:
            errors["action"] = _("Event: choose one from the list.")
    for key, attr in (("from", "since"), ("to", "until")):
        raw = (params.get(key) or "").strip()
        if raw:
            try:
                setattr(f, attr, dt.date.fromisoformat(raw))
            except ValueError:
                errors[key] = _("Date: use the form YYYY-MM-DD.")
    slug = params.get("municipality") or ""
    if slug and municipalities is not None:
        if slug in municipalities:
            f.municipality_id = municipalities[slug]
        else:
            errors["municipality"] = _("Municipality: choose one from the list.")
    return f, errors


def detail_text(event: AuditEvent) -> str:
    """The event's JSON detail as "key: value" pairs for people to read."""
    if not event.detail:
        return ""
    try:
        data = json.loads(event.detail)
    except ValueError:
        return event.detail
    if not isinstance(data, dict):
        return str(data)
    parts = []
    for key, value in data.items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        parts.append(f"{key}: {value}")
    return " · ".join(parts)


CSV_HEADER = ("at", "action", "user", "site", "subject", "detail", "ip")
_CSV_CHUNK = 500


@contextlib.contextmanager
def _connection() -> Iterator[None]:
    """A connection for this thread unless one is open (closing it would end the caller's)."""
    from hubcore.db import database

    if not database.is_closed():
        yield
        return
    with database.connection_context():
        yield


def _cell(value: str) -> str:
    # A cell starting like a formula would run in Excel (CSV injection): make it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(principal, f: AuditFilter) -> Iterator[str]:
    """The filtered log as CSV text chunks, oldest first: UTF-8 with a BOM, so Excel reads it.

    Streamed in chunks of rows fetched by key (time, id), each with its own short-lived
    connection: the response is sent after the request's connection went back to the pool,
    and each chunk may run in another worker thread.
    """
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(CSV_HEADER)
    yield buf.getvalue()
    last: tuple[dt.datetime, int] | None = None
    while True:
        buf.seek(0)
        buf.truncate()
        with _connection():
            q = _query(principal, f)
            if last is not None:
                q = q.where((AuditEvent.at > last[0])
                            | ((AuditEvent.at == last[0]) & (AuditEvent.id > last[1])))
            rows = list(q.order_by(AuditEvent.at, AuditEvent.id).limit(_CSV_CHUNK))
        for e in rows:
            writer.writerow([_cell(str(v)) for v in (
                tokyo_time(e.at).isoformat(timespec="seconds"), e.action, e.user_email,
                e.site_slug, e.subject, e.detail, e.ip)])
        if rows:
            yield buf.getvalue()
        if len(rows) < _CSV_CHUNK:
            return
        last = (rows[-1].at, rows[-1].id)
