"""The audit log pages: whose events each log holds, filters, paging, Tokyo times, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest

from hubcore.audit import operations as ops
from hubcore.audit.models import AuditEvent
from hubcore.auth.permissions import load_principal
from hubcore.testing import TEST_USER, make_site, make_user

LOG = "/m/test-town/audit/"
CSV = "/m/test-town/audit.csv"


def event(action: str, at: dt.datetime | None = None, *, user=None, email: str = "",
          site=None, municipality=None, detail: dict | None = None) -> AuditEvent:
    """An event as record() would write it, at a chosen time."""
    m_id = site.municipality_id if site is not None else (
        municipality.id if municipality is not None else None)
    return AuditEvent.create(
        at=at or dt.datetime.now(dt.UTC), action=action, user_id=user.id if user else None,
        user_email=email or (user.email if user else ""), municipality_id=m_id,
        site_id=site.id if site else None, site_slug=site.slug if site else "",
        detail=json.dumps(detail) if detail else "")


@pytest.fixture
def world(client, site):
    """Events of test-town, of other-town, and placeless ones of members and outsiders."""
    other = make_site("elsewhere", municipality="other-town", name="よその拠点")
    member = make_user("member@t.jp", ("staff", site))
    outsider = make_user("outsider@t.jp", ("viewer", other))
    AuditEvent.delete().execute()  # start from a clean log: fixtures wrote their own events
    t = dt.datetime(2026, 4, 1, 3, 0, tzinfo=dt.UTC)
    ev = {
        "site": event("plugin_enabled", t, user=member, site=site, detail={"plugin": "garden"}),
        "town": event("role_granted", t, user=member, municipality=site.municipality),
        "member_login": event("login", t, user=member),
        "member_failed": event("login_failed", t, user=member),
        "outsider_login": event("login", t, user=outsider),
        "unknown_failed": event("login_failed", t, email="nobody@t.jp"),
        "other_site": event("plugin_enabled", t, user=outsider, site=other),
        "other_town": event("role_granted", t, user=outsider, municipality=other.municipality),
    }
    return site, other, ev


def shown_ids(page: str) -> int:
    return len(re.findall(r"<tr data-action=", page))


def test_a_municipality_log_holds_its_places_and_its_members_placeless_events(world):
    site, other, ev = world
    principal = load_principal(make_user(TEST_USER))
    rows, total = ops.search(principal, ops.AuditFilter(municipality_id=site.municipality_id))
    want = {ev[k].id for k in ("site", "town", "member_login", "member_failed")}
    assert {e.id for e in rows} == want and total == len(want)
    # A municipality admin's reach is the same without the filter: never other-town's events.
    rows, _ = ops.search(principal, ops.AuditFilter())
    assert {e.id for e in rows} == want


def test_the_platform_log_holds_everything_and_filters_by_municipality(world, login_as):
    site, other, ev = world
    make_user("root@t.jp", ("platform_admin", None))
    c = login_as("root@t.jp")
    page = c.get("/audit/?lang=en")
    assert page.status_code == 200
    # Everything: the world's events, the root's creation (by "cli") and log-in.
    assert shown_ids(page.text) == AuditEvent.select().count() == len(ev) + 3
    assert re.search(r'<tr data-action="login">\s*<td><time>[^<]+</time></td>\s*'
                     r'<td>Logged in</td>\s*<td>root@t.jp</td>', page.text)
    page = c.get("/audit/?lang=en&municipality=other-town").text
    assert shown_ids(page) == 3  # its site, its own event, the outsider's log-in
    assert "よその拠点" in page
    page = c.get("/audit/?lang=en&municipality=nowhere").text
    assert 'id="municipality-error"' in page


def test_filters_on_the_page(client, world):
    site, other, ev = world
    page = client.get(LOG + "?lang=en")
    assert page.status_code == 200
    # The admin's own log-in (by the client fixture) was cleared; only the world's four.
    assert shown_ids(page.text) == 4
    assert "<td>Program switched on</td>" in page.text and "plugin: garden" in page.text
    assert "outsider@t.jp" not in page.text and "よその拠点" not in page.text
    # By part of the email, site, event, all at once.
    assert shown_ids(client.get(LOG + "?user=MEMBER@").text) == 4
    assert shown_ids(client.get(LOG + "?user=nobody").text) == 0
    assert shown_ids(client.get(LOG + "?site=test-site").text) == 1
    assert shown_ids(client.get(LOG + "?action=login_failed").text) == 1
    assert shown_ids(client.get(LOG + "?action=login&user=member&site=test-site").text) == 0
    # The action select lists every event kind with its label.
    assert '<option value="password_reset">Password reset</option>' in page.text
    # Filters that cannot be used are named and left out.
    page = client.get(LOG + "?lang=en&site=elsewhere&action=drop_tables&from=2026-13-01").text
    for field in ("site", "action", "from"):
        assert f'id="{field}-error"' in page
    assert shown_ids(page) == 4


def test_dates_are_japanese_days_and_times_are_shown_in_tokyo(client, site):
    ops_user = make_user(TEST_USER)
    # 2026-04-01 23:30 in Tokyo is 14:30 UTC; 2026-04-02 00:30 in Tokyo is 15:30 UTC.
    late = event("login", dt.datetime(2026, 4, 1, 14, 30, tzinfo=dt.UTC), user=ops_user)
    after_midnight = event("login", dt.datetime(2026, 4, 1, 15, 30, tzinfo=dt.UTC),
                           user=ops_user)
    page = client.get(LOG + "?from=2026-04-02&to=2026-04-02").text
    assert shown_ids(page) == 1 and "<time>2026-04-02 00:30:00</time>" in page
    page = client.get(LOG + "?from=2026-04-01&to=2026-04-01").text
    assert shown_ids(page) == 1 and "<time>2026-04-01 23:30:00</time>" in page
    assert late.id != after_midnight.id


def test_newest_first_and_a_hundred_per_page(client, site):
    user = make_user(TEST_USER)
    AuditEvent.delete().execute()
    start = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    AuditEvent.insert_many([
        {"at": start + dt.timedelta(minutes=i), "action": "login", "user_id": user.id,
         "user_email": user.email, "subject": f"n:{i}"} for i in range(130)
    ]).execute()
    page = client.get(LOG + "?lang=en&action=login").text
    subjects = re.findall(r"<td>n:(\d+)</td>", page)
    assert len(subjects) == 100 and subjects[0] == "129" and subjects[-1] == "30"
    assert "Page 1 of 2" in page
    nxt = re.search(r'<a rel="next" href="([^"]+)"', page).group(1)
    assert "action=login" in nxt and "page=2" in nxt
    page2 = client.get(nxt.replace("&amp;", "&")).text
    assert re.findall(r"<td>n:(\d+)</td>", page2) == [str(i) for i in range(29, -1, -1)]
    # A page past the end shows the last one.
    assert "Page 2 of 2" in client.get(LOG + "?action=login&page=9").text


def read_csv(response) -> list[dict]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_csv_export_uses_the_filters_and_is_recorded(client, world):
    site, other, ev = world
    r = client.get(CSV + "?action=login&user=member")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = read_csv(r)
    assert [(x["action"], x["user"]) for x in rows] == [("login", "member@t.jp")]
    assert rows[0]["at"] == "2026-04-01T12:00:00+09:00"
    assert list(rows[0]) == list(ops.CSV_HEADER)
    everything = read_csv(client.get(CSV))
    assert {x["user"] for x in everything} == {"member@t.jp", TEST_USER}
    assert "outsider@t.jp" not in r.text
    exported = list(AuditEvent.select().where(AuditEvent.action == "audit_exported")
                    .order_by(AuditEvent.id))
    assert len(exported) == 2
    first = exported[0]
    assert first.municipality_id == site.municipality_id and first.user_email == TEST_USER
    assert json.loads(first.detail)["action"] == "login"
    # The export is in the log it exported from.
    assert "<td>Audit log exported</td>" in client.get(LOG + "?lang=en").text


def test_a_long_csv_comes_in_chunks_without_gaps_or_repeats(client, site):
    user = make_user(TEST_USER)
    AuditEvent.delete().execute()
    same_time = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    # Many events share one timestamp: the export pages by (time, id), not by time alone.
    AuditEvent.insert_many([
        {"at": same_time + dt.timedelta(seconds=i // 300), "action": "login",
         "user_id": user.id, "user_email": user.email, "subject": f"n:{i}"}
        for i in range(1203)
    ]).execute()
    rows = read_csv(client.get(CSV + "?action=login"))
    assert [x["subject"] for x in rows] == [f"n:{i}" for i in range(1203)]


def test_csv_cells_that_look_like_formulas_are_made_text(client, site):
    event("login_failed", email="=cmd|' /C calc'!A0", user=make_user(TEST_USER))
    rows = read_csv(client.get(CSV + "?action=login_failed"))
    assert rows[0]["user"] == "'=cmd|' /C calc'!A0"


def test_the_platform_csv(world, login_as, client):
    make_user("root@t.jp", ("platform_admin", None))
    c = login_as("root@t.jp")
    rows = read_csv(c.get("/audit.csv?municipality=other-town"))
    assert {x["user"] for x in rows} == {"outsider@t.jp"}
    exported = AuditEvent.select().where(AuditEvent.action == "audit_exported").get()
    assert exported.municipality_id is None and exported.user_email == "root@t.jp"
    # A municipality admin may not read the platform's log.
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit.csv").status_code == 403


def test_who_may_read_a_municipality_log(client, site, login_as, anonymous_client):
    make_user("staff@t.jp", ("staff", site))
    make_user("manager2@t.jp", ("site_manager", site))
    for email in ("staff@t.jp", "manager2@t.jp"):
        c = login_as(email)
        for url in (LOG, CSV, "/audit/", "/audit.csv"):
            assert c.get(url).status_code == 403, (email, url)
    other = make_site("elsewhere", municipality="other-town")
    make_user("other-admin@t.jp", ("municipality_admin", other.municipality))
    c = login_as("other-admin@t.jp")
    assert c.get(LOG).status_code == 404 and c.get(CSV).status_code == 404
    assert c.get("/m/other-town/audit/").status_code == 200
    for url in (LOG, CSV, "/audit/"):
        r = anonymous_client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert not AuditEvent.select().where(AuditEvent.action == "audit_exported").exists()


def test_a_head_request_is_not_an_export(client, site):
    r = client.head(CSV)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert not AuditEvent.select().where(AuditEvent.action == "audit_exported").exists()
