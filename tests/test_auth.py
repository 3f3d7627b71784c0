"""Log-in, sessions, throttling, CSRF, security headers, API tokens, roles."""

from __future__ import annotations

import datetime as dt

import pytest
from testplugins import garden

from hubcore.audit.models import AuditEvent
from hubcore.auth import operations as ops
from hubcore.auth.models import User
from hubcore.auth.permissions import load_principal
from hubcore.errors import Invalid
from hubcore.migrations import migrate
from hubcore.plugins import get_host
from hubcore.rooms.models import Room
from hubcore.testing import (
    TEST_PASSWORD,
    TEST_USER,
    api_token,
    hub_client,
    make_site,
    make_user,
    registered,
    user_client,
)

API = "/api/v1"


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


# --- log-in and sessions -------------------------------------------------------------------


def test_login_logout_and_the_session_cookie(anonymous_client, site):
    make_user("staff@t.jp", ("staff", site))
    c = anonymous_client
    r = c.get("/s/test-site/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/s/test-site/"
    page = c.get("/login?next=/s/test-site/")
    assert "ログイン" in page.text and 'name="csrftoken"' in page.text
    r = c.post("/login", data={"email": "STAFF@t.jp", "password": TEST_PASSWORD,
                               "next": "/s/test-site/",
                               "csrftoken": c.cookies["csrftoken"]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/s/test-site/"
    cookie = r.headers["set-cookie"]
    assert "hubcore_session=" in cookie and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower() and "secure" not in cookie.lower()  # plain http
    assert c.get("/s/test-site/").status_code == 200
    assert [e.user_email for e in events("login")] == ["staff@t.jp"]
    r = c.post("/logout", headers={"x-csrftoken": c.cookies["csrftoken"]},
               follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/s/test-site/", follow_redirects=False).status_code == 303
    assert len(events("logout")) == 1


def test_cookies_are_secure_behind_https(settings, site):
    from starlette.testclient import TestClient

    from hubcore.app import create_app

    make_user("staff@t.jp", ("staff", site))
    with TestClient(create_app(settings), base_url="https://hub.example.jp") as c:
        page = c.get("/login")
        assert "csrftoken=" in page.headers["set-cookie"]
        assert "secure" in page.headers["set-cookie"].lower()
        r = c.post("/login", data={"email": "staff@t.jp", "password": TEST_PASSWORD,
                                   "csrftoken": c.cookies["csrftoken"]}, follow_redirects=False)
        assert r.status_code == 303
        assert "secure" in r.headers["set-cookie"].lower()
        assert r.headers["strict-transport-security"].startswith("max-age=")


def test_a_redirect_after_login_never_leaves_the_site(anonymous_client, site):
    make_user("staff@t.jp", ("staff", site))
    c = anonymous_client
    c.get("/login")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        r = c.post("/login", data={"email": "staff@t.jp", "password": TEST_PASSWORD,
                                   "next": target, "csrftoken": c.cookies["csrftoken"]},
                   follow_redirects=False)
        assert r.headers["location"] == "/", target


def test_wrong_password_unknown_email_and_inactive_user_look_the_same(anonymous_client, site):
    user = make_user("staff@t.jp", ("staff", site))
    c = anonymous_client
    c.get("/login")
    answers = []
    for email, password in (("staff@t.jp", "wrong password"), ("nobody@t.jp", TEST_PASSWORD)):
        r = c.post("/login?lang=en", data={"email": email, "password": password,
                                           "csrftoken": c.cookies["csrftoken"]})
        answers.append((r.status_code, "The email address or the password is not right."
                        in r.text))
    ops.set_active(user, False)
    r = c.post("/login?lang=en", data={"email": "staff@t.jp", "password": TEST_PASSWORD,
                                       "csrftoken": c.cookies["csrftoken"]})
    answers.append((r.status_code, "The email address or the password is not right." in r.text))
    assert answers == [(401, True)] * 3
    assert len(events("login_failed")) == 3 and not events("login")
    # Empty fields are a form error, not an attempt.
    r = c.post("/login", data={"email": "", "password": "", "csrftoken": c.cookies["csrftoken"]})
    assert r.status_code == 422 and 'id="email-error"' in r.text and 'id="password-error"' in r.text


def test_brute_force_is_slowed_down_then_locked(database, site):
    make_user("staff@t.jp", ("staff", site))
    t0 = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    for _i in range(ops.SLOW_AFTER):  # the first few failures cost nothing
        assert ops.authenticate("staff@t.jp", "guess", ip="1.2.3.4", now=t0).wait is None
    # Now each try must wait longer; a try too soon is refused without checking,
    # even with the right password.
    refused = ops.authenticate("staff@t.jp", TEST_PASSWORD, ip="1.2.3.4", now=t0)
    assert not refused.ok and refused.wait == dt.timedelta(seconds=2)
    now = t0
    failures = ops.SLOW_AFTER
    while failures < ops.LOCK_AFTER:
        now += dt.timedelta(seconds=61)
        assert ops.authenticate("staff@t.jp", "guess", ip="1.2.3.4", now=now).wait is None
        failures += 1
    locked = ops.authenticate("staff@t.jp", TEST_PASSWORD, ip="1.2.3.4",
                              now=now + dt.timedelta(minutes=5))
    assert not locked.ok and dt.timedelta(minutes=9) < locked.wait <= ops.LOCK_FOR
    # Other accounts from the same address are not affected (a shared office address).
    make_user("other@t.jp", ("staff", site))
    assert ops.authenticate("other@t.jp", TEST_PASSWORD, ip="1.2.3.4", now=now).ok
    # After the lock the right password works, and clears the count.
    later = now + ops.LOCK_FOR + dt.timedelta(seconds=1)
    assert ops.authenticate("staff@t.jp", TEST_PASSWORD, ip="1.2.3.4", now=later).ok
    assert ops.authenticate("staff@t.jp", "guess", ip="1.2.3.4", now=later).wait is None
    assert len(events("login_locked")) == 2


def test_the_login_page_answers_429_while_locked(anonymous_client, site):
    make_user("staff@t.jp", ("staff", site))
    c = anonymous_client
    c.get("/login")
    statuses = []
    for _ in range(ops.SLOW_AFTER + 1):
        r = c.post("/login", data={"email": "staff@t.jp", "password": "guess",
                                   "csrftoken": c.cookies["csrftoken"]})
        statuses.append(r.status_code)
    assert statuses == [401] * ops.SLOW_AFTER + [429]
    assert r.headers["retry-after"] == "2" and "秒" in r.text


def test_password_change_ends_other_sessions(settings, site):
    make_user("staff@t.jp", ("staff", site))
    with user_client(settings, email="staff@t.jp") as a, \
            user_client(settings, email="staff@t.jp") as b:
        r = a.post("/account/password", data={"current": TEST_PASSWORD, "new": "a new secret 1",
                                              "repeat": "a new secret 1"})
        assert r.status_code == 200
        assert a.get("/account/").status_code == 200  # this session goes on
        assert b.get("/account/", follow_redirects=False).status_code == 303  # the other ends
        r = a.post("/account/password", data={"current": "wrong", "new": "short",
                                              "repeat": "other"})
        assert r.status_code == 422 and r.text.count('class="field-error"') == 2
    assert ops.verify_password(ops.find_user("staff@t.jp"), "a new secret 1")


# --- CSRF and headers ------------------------------------------------------------------------


def test_a_post_without_the_csrf_token_is_403_and_changes_nothing(settings, site):
    make_user("manager@t.jp", ("site_manager", site))
    with user_client(settings, email="manager@t.jp") as c:
        raw = hub_client(c.app, csrf=False)
        raw.cookies = c.cookies  # the same logged-in browser, without the token
        form = {"name": "会議室Z", "capacity": "5"}
        r = raw.post("/s/test-site/rooms/", data=form)
        assert r.status_code == 403 and "<h1>" in r.text
        r = raw.post("/s/test-site/rooms/", data={**form, "csrftoken": "forged"})
        assert r.status_code == 403
        r = raw.post("/s/test-site/rooms/", data=form, headers={"HX-Request": "true"})
        assert r.status_code == 403
        assert not Room.select().where(Room.name == "会議室Z").exists()
        # With the token (field or htmx header) it goes through.
        r = raw.post("/s/test-site/rooms/", data={**form, "csrftoken": c.cookies["csrftoken"]},
                     follow_redirects=False)
        assert r.status_code == 303 and Room.select().where(Room.name == "会議室Z").exists()
        # Logging in needs the token too (no login CSRF).
        r = raw.post("/login", data={"email": "manager@t.jp", "password": TEST_PASSWORD})
        assert r.status_code == 403


def test_security_headers(client, site):
    page = client.get("/s/test-site/people/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert client.get(f"{API}/sites/test-site/people").headers["cache-control"] == "no-store"
    # Templates never need inline scripts or styles, which the policy would block.
    assert "<script>" not in page.text and " style=" not in page.text


# --- roles and tenancy -------------------------------------------------------------------------


def test_roles_see_exactly_their_world(database, settings):
    own = make_site("own", municipality="town-a")
    make_site("own-2", municipality="town-a")
    make_site("foreign", municipality="town-b")
    make_user("m@t.jp", ("municipality_admin", own.municipality))
    make_user("v@t.jp", ("viewer", own))
    with user_client(settings, email="m@t.jp") as c:
        assert c.get("/", follow_redirects=False).headers["location"] == "/m/town-a/"
        town = c.get("/m/town-a/").text
        assert "/s/own/" in town and "/s/own-2/" in town
        assert c.get("/m/town-b/").status_code == 404
        assert c.get("/s/foreign/").status_code == 404
        assert c.get("/s/own/rooms/").status_code == 200
        # Administrators of the town do not read residents' records.
        assert c.get("/s/own/people/").status_code == 403
        assert "/people/" not in c.get("/s/own/").text  # nor see the menu item
    with user_client(settings, email="v@t.jp") as c:
        assert "/s/own-2/" not in c.get("/m/town-a/").text
        assert c.get("/s/own-2/").status_code == 404
        assert c.get("/s/own/people/").status_code == 200
        assert c.post("/s/own/rooms/", data={"name": "x", "capacity": "3"}).status_code == 403
        assert "room-form" not in c.get("/s/own/rooms/").text  # no form for a viewer


def test_plugin_decisions_and_sensitive_reads_are_logged(database, settings):
    from hubcore.people import operations as people
    from hubcore.people.schemas import PersonIn

    with registered(garden):
        migrate(get_host())
        site = make_site("a", plugins=("garden",))
        p = people.create_person(site, PersonIn(
            family_name="佐藤", given_name="花子", family_name_kana="サトウ",
            given_name_kana="ハナコ"))
        make_user("staff@t.jp", ("staff", site))
        make_user("viewer@t.jp", ("viewer", site))
        with user_client(settings, email="staff@t.jp") as c:
            assert "garden-allergies" in c.get(f"/s/a/people/{p.id}/").text
        with user_client(settings, email="viewer@t.jp") as c:
            assert "garden-allergies" not in c.get(f"/s/a/people/{p.id}/").text
        reads = events("sensitive_read")
        assert [(e.user_email, e.subject, e.site_slug) for e in reads] == [
            ("staff@t.jp", f"person:{p.id}", "a")]
        # permission_allowed: the plugin refuses its "closed" plot to everyone.
        principal = load_principal(ops.find_user("staff@t.jp"))
        assert principal.can("garden.view", site=site)
        assert not principal.can("garden.view", site=site, resource=garden.Plot(name="closed"))


# --- API tokens ----------------------------------------------------------------------------


def test_api_tokens_scoped_revocable_and_hashed(client, site, database):
    other = make_site("other", municipality="test-town")
    make_user(TEST_USER, ("site_manager", other))
    user = ops.find_user(TEST_USER)
    token, secret = ops.create_token(user, "集計スクリプト", read_only=True, site=site)
    assert token.token_hash != secret and secret not in str(token.__data__)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API}/sites/test-site/rooms", headers=bearer).status_code == 200
    # Limited to its site: the user's other site does not exist for this token.
    assert client.get(f"{API}/sites/other/rooms", headers=bearer).status_code == 404
    assert [s["slug"] for s in client.get(f"{API}/sites", headers=bearer).json()] == [
        "test-site"]
    # Read-only: no writes.
    r = client.post(f"{API}/sites/test-site/rooms", headers=bearer, json={"name": "x"})
    assert r.status_code == 403 and r.json()["error"] == "read_only_token"
    ops.revoke_token(token)
    r = client.get(f"{API}/sites/test-site/rooms", headers=bearer)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    for bad in ("", "Bearer ", "Bearer hc_nonsense", "Basic abc", f"Token {secret}"):
        r = client.get(f"{API}/sites/test-site/rooms", headers={"Authorization": bad})
        assert r.status_code == 401, bad
    # The API never takes the session cookie instead of a token.
    raw = hub_client(client.app)
    raw.cookies = client.cookies
    assert raw.get(f"{API}/sites/test-site/rooms").status_code == 401
    assert [e.action for e in events("token_revoked")] == ["token_revoked"]


def test_tokens_of_an_inactive_user_stop_working(client, site):
    secret = api_token(TEST_USER)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API}/sites", headers=bearer).status_code == 200
    ops.set_active(ops.find_user(TEST_USER), False)
    assert client.get(f"{API}/sites", headers=bearer).status_code == 401


def test_token_page_shows_the_secret_once_and_revokes(client, site):
    r = client.post("/account/tokens", data={"name": "表計算", "access": "read",
                                             "site": "test-site"})
    assert r.status_code == 201
    secret = r.text.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("hc_")
    page = client.get("/account/")
    assert secret not in page.text and secret[:10] in page.text
    token = ops.list_tokens(ops.find_user(TEST_USER))[0]
    assert client.get(f"{API}/sites/test-site", headers={
        "Authorization": f"Bearer {secret}"}).status_code == 200
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 200
    assert client.get(f"{API}/sites/test-site", headers={
        "Authorization": f"Bearer {secret}"}).status_code == 401
    # Another user's token is not found, and a site that is not the user's is refused.
    stranger = make_user("stranger@t.jp")
    theirs, _ = ops.create_token(stranger, "theirs")
    assert client.post(f"/account/tokens/{theirs.id}/revoke").status_code == 404
    assert ops.get_token(stranger, theirs.id).revoked_at is None
    r = client.post("/account/tokens", data={"name": "x", "site": "elsewhere"})
    assert r.status_code == 422 and 'id="site-error"' in r.text


# --- accounts as operations -------------------------------------------------------------------


def test_user_rules(database, site):
    with pytest.raises(Invalid) as e:
        ops.create_user("not-an-email", "名前", TEST_PASSWORD)
    assert set(e.value.errors) == {"email"}
    with pytest.raises(Invalid) as e:
        ops.create_user("a@t.jp", "名前", "short")
    assert set(e.value.errors) == {"password"}
    user = ops.create_user("Ａ@T.JP", "名前", TEST_PASSWORD)  # full-width, upper case
    assert user.email == "a@t.jp"
    with pytest.raises(Invalid):
        ops.create_user("a@t.jp", "別人", TEST_PASSWORD)
    assert User.select().count() == 1
    with pytest.raises(Invalid) as e:
        ops.grant_role(user, "staff")  # a site role needs a site
    assert set(e.value.errors) == {"site"}
    assert ops.grant_role(user, "staff", site=site)
    assert not ops.grant_role(user, "staff", site=site)  # held already
    assert ops.grant_role(user, "platform_admin") and not ops.grant_role(user, "platform_admin")
    assert ops.revoke_role(user, "staff", site=site)
    granted = [(e.action, e.site_slug) for e in AuditEvent.select().where(
        AuditEvent.action.in_(["role_granted", "role_revoked"])).order_by(AuditEvent.id)]
    assert granted == [("role_granted", "test-site"), ("role_granted", ""),
                       ("role_revoked", "test-site")]
