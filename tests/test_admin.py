"""Municipality administration: programs per site, and the municipality's users and roles."""

from __future__ import annotations

import html
import re

import pytest
from testplugins import garden, kitchen

from hubcore.audit.models import AuditEvent
from hubcore.auth import operations as auth_ops
from hubcore.auth.models import RoleGrant, User
from hubcore.migrations import migrate
from hubcore.plugins import get_host
from hubcore.sites import operations as site_ops
from hubcore.testing import (
    TEST_USER,
    hub_client,
    login,
    make_site,
    make_user,
    registered,
    without_optional_plugins,
)

HX = {"HX-Request": "true"}
PLUGINS = "/m/test-town/plugins/"
USERS = "/m/test-town/users/"


@pytest.fixture
def plugged(database):
    """garden and kitchen installed (kitchen needs garden); nothing switched on yet."""
    with registered(garden, kitchen):
        migrate(get_host())
        yield make_site()


@pytest.fixture
def gclient(plugged, client):
    return client


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def switch(c, scope: str, plugin: str, enabled: bool, htmx: bool = True, lang: str = "en"):
    return c.post(f"{PLUGINS}?lang={lang}", headers=HX if htmx else {},
                  data={"scope": scope, "plugin": plugin, "enabled": "1" if enabled else "0"},
                  follow_redirects=False)


def fresh_site(slug: str = "test-site"):
    return site_ops.get_site(slug)


# --- programs per site ------------------------------------------------------------------


def test_the_grid_shows_sites_by_optional_plugins(gclient, plugged):
    make_site("second", name="第二拠点")
    make_site("elsewhere", municipality="other-town", name="よその拠点")
    page = gclient.get(PLUGINS + "?lang=en")
    assert page.status_code == 200
    grid = re.search(r'<div id="plugin-grid".*?</table>', page.text, re.S).group(0)
    assert 'data-plugin="garden"' in grid and 'data-plugin="kitchen"' in grid
    assert ">Garden<" in grid and ">Kitchen<" in grid
    assert 'data-plugin="rooms"' not in grid  # core areas are not switched
    # The municipality's row first, then its sites (and no other municipality's).
    rows = re.findall(r'data-cell="([^"]+):garden"', grid)
    assert rows == ["-", "test-site", "second"]
    assert "よその拠点" not in grid
    # What each plugin needs, and that a site needs the municipality's permission.
    assert '<small class="needs">Needs: Garden</small>' in grid
    assert "Needs the municipality's permission first." in grid
    # Japanese labels by default.
    ja = gclient.get(PLUGINS + "?lang=ja").text
    assert ">菜園<" in ja and ">台所<" in ja


def test_switching_with_htmx_answers_the_grid_and_records_it(gclient, plugged):
    r = switch(gclient, "", "garden", True)
    assert r.status_code == 200
    assert r.text.lstrip().startswith("<div id=\"plugin-grid\"") and "<html" not in r.text
    assert "“Garden” is now allowed for the municipality." in r.text
    # The site cell that depended on the municipality is now a live switch.
    cell = re.search(r'data-cell="test-site:garden">.*?</td>', r.text, re.S).group(0)
    assert "disabled" not in cell and 'aria-pressed="false"' in cell

    r = switch(gclient, "test-site", "garden", True)
    assert r.status_code == 200 and "“Garden” is now on at テスト拠点." in r.text
    assert site_ops.is_enabled(fresh_site(), "garden")
    cell = re.search(r'data-cell="test-site:garden">.*?</td>', r.text, re.S).group(0)
    assert 'aria-pressed="true"' in cell
    assert 'hx-confirm="Switch “Garden” off at テスト拠点? Its data is kept' in cell

    r = switch(gclient, "test-site", "garden", False)
    assert r.status_code == 200 and "Its data is kept." in r.text
    assert not site_ops.is_enabled(fresh_site(), "garden")

    assert [e.detail for e in events("plugin_allowed")] == [
        '{"plugin": "garden", "sites": []}']
    on, off = events("plugin_enabled"), events("plugin_disabled")
    assert len(on) == len(off) == 1 and on[0].site_slug == "test-site"
    assert on[0].user_email == TEST_USER  # the web user, not "cli"


def test_switching_without_javascript_redirects_back(gclient, plugged):
    r = switch(gclient, "", "garden", True, htmx=False)
    assert r.status_code == 303 and r.headers["location"] == PLUGINS
    r = switch(gclient, "test-site", "garden", True, htmx=False)
    assert r.status_code == 303
    assert site_ops.is_enabled(fresh_site(), "garden")
    page = gclient.get(PLUGINS)
    assert 'data-cell="test-site:garden"' in page.text


def test_forbidding_for_the_municipality_switches_its_sites_off_and_back(gclient, plugged):
    switch(gclient, "", "garden", True)
    switch(gclient, "test-site", "garden", True)
    r = switch(gclient, "", "garden", False)
    assert r.status_code == 200 and "off at every site" in r.text
    assert not site_ops.is_enabled(fresh_site(), "garden")
    cell = re.search(r'data-cell="test-site:garden">.*?</td>', r.text, re.S).group(0)
    assert "disabled" in cell and "Comes back on when the municipality allows it." in cell
    r = switch(gclient, "", "garden", True)
    assert "it is on again at: テスト拠点" in r.text
    assert site_ops.is_enabled(fresh_site(), "garden")


@pytest.mark.parametrize("lang, words", [("en", ("Kitchen", "Garden")), ("ja", ("台所", "菜園"))])
def test_a_missing_requirement_is_refused_in_place_and_changes_nothing(gclient, plugged, lang,
                                                                       words):
    # The municipality: kitchen before garden is allowed.
    before = AuditEvent.select().count()
    r = switch(gclient, "", "kitchen", True, lang=lang)
    assert r.status_code == 422
    error = re.search(r'<p class="form-error" role="alert" id="plugin-error">(.*?)</p>',
                      r.text, re.S).group(1)
    assert all(w in error for w in words)
    assert 'class="switch-cell refused" data-cell="-:kitchen"' in r.text
    assert "kitchen" not in site_ops.allowed_for_municipality(plugged.municipality)
    assert AuditEvent.select().count() == before

    # A site: both allowed, garden off at the site.
    switch(gclient, "", "garden", True)
    switch(gclient, "", "kitchen", True)
    r = switch(gclient, "test-site", "kitchen", True, lang=lang)
    assert r.status_code == 422 and all(w in r.text for w in words)
    assert not site_ops.is_enabled(fresh_site(), "kitchen")

    # Switching garden off while kitchen needs it, at the site and for the municipality.
    switch(gclient, "test-site", "garden", True)
    switch(gclient, "test-site", "kitchen", True)
    before = AuditEvent.select().count()
    for scope in ("test-site", ""):
        r = switch(gclient, scope, "garden", False, lang=lang)
        assert r.status_code == 422 and all(w in r.text for w in words), scope
    assert site_ops.is_enabled(fresh_site(), "garden")
    assert "garden" in site_ops.allowed_for_municipality(plugged.municipality)
    assert AuditEvent.select().count() == before


def test_a_site_needs_the_municipality_first(gclient, plugged):
    r = switch(gclient, "test-site", "garden", True)
    assert r.status_code == 422
    assert "a site needs the municipality's permission first" in html.unescape(r.text)
    assert not site_ops.is_enabled(fresh_site(), "garden")


def test_refusals_without_javascript_answer_the_whole_page(gclient, plugged):
    r = switch(gclient, "", "kitchen", True, htmx=False)
    assert r.status_code == 422 and "<html" in r.text and 'id="plugin-error"' in r.text


def test_bad_switch_requests(gclient, plugged):
    make_site("elsewhere", municipality="other-town")
    assert switch(gclient, "elsewhere", "garden", True).status_code == 404
    assert switch(gclient, "no-such-site", "garden", True).status_code == 404
    r = switch(gclient, "test-site", "rooms", False)  # a core area
    assert r.status_code == 422 and "Program: choose one of the listed programs." in r.text
    assert switch(gclient, "", "nope", True).status_code == 422
    r = gclient.post(PLUGINS, headers=HX, data={"scope": "", "plugin": "garden",
                                                "enabled": "maybe"})
    assert r.status_code == 422
    assert "garden" not in site_ops.allowed_for_municipality(make_site().municipality)


def test_the_plugins_page_without_optional_plugins(client):
    with without_optional_plugins():  # the repository's own programs are installed
        page = client.get(PLUGINS + "?lang=en")
    assert page.status_code == 200 and "No optional program is installed" in page.text


# --- who may see these pages ----------------------------------------------------------------

ADMIN_PAGES = (PLUGINS, USERS, "/m/test-town/audit/", "/m/test-town/audit.csv")


def test_staff_and_viewers_are_refused(client, site, login_as):
    make_user("staff@t.jp", ("staff", site))
    make_user("viewer@t.jp", ("viewer", site))
    target = make_user("target@t.jp", ("viewer", site))
    for email in ("staff@t.jp", "viewer@t.jp"):
        c = login_as(email)
        for url in (*ADMIN_PAGES, f"{USERS}{target.id}/"):
            assert c.get(url).status_code == 403, (email, url)
        assert c.post(PLUGINS, data={"scope": "", "plugin": "x", "enabled": "1"}
                      ).status_code == 403
        r = c.post(USERS, data={"email": "new@t.jp", "name": "新人", "role": "staff",
                                "site": "test-site"})
        assert r.status_code == 403
        assert c.post(f"{USERS}{target.id}/remove", data={"confirm": "yes"}).status_code == 403
    assert auth_ops.find_user("new@t.jp") is None
    assert RoleGrant.select().where(RoleGrant.user == target).count() == 1


def test_another_municipality_is_not_found_and_anonymous_must_log_in(client, site, login_as,
                                                                       anonymous_client):
    other = make_site("elsewhere", municipality="other-town")
    make_user("other-admin@t.jp", ("municipality_admin", other.municipality))
    c = login_as("other-admin@t.jp")
    for url in ADMIN_PAGES:
        assert c.get(url).status_code == 404, url
    assert c.post(PLUGINS, data={"scope": "", "plugin": "x", "enabled": "1"}).status_code == 404
    for url in ADMIN_PAGES:
        r = anonymous_client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), url


def test_the_municipality_page_links_to_what_the_user_may_do(client, site, login_as):
    page = client.get("/m/test-town/").text
    for url in ("/m/test-town/plugins/", "/m/test-town/users/", "/m/test-town/audit/"):
        assert f'href="{url}"' in page
    make_user("staff@t.jp", ("staff", site))
    page = login_as("staff@t.jp").get("/m/test-town/").text
    assert "/m/test-town/plugins/" not in page and "/m/test-town/users/" not in page
    assert "/m/test-town/audit/" not in page


# --- users ------------------------------------------------------------------------------------


def add(c, **fields):
    data = {"email": "", "name": "", "role": "", "site": "", **fields}
    return c.post(USERS + "?lang=en", data=data)


def test_the_user_list_shows_roles_here_and_state(client, site):
    other = make_site("elsewhere", municipality="other-town")
    make_user("both@t.jp", ("staff", site), ("viewer", other), name="両方 さん")
    make_user("outsider@t.jp", ("viewer", other))
    page = client.get(USERS + "?lang=en").text
    assert TEST_USER in page and "both@t.jp" in page and "outsider@t.jp" not in page
    assert "Municipality administrator (テスト町)" in page and "Staff (テスト拠点)" in page
    assert "Viewer (" not in page  # the role at another municipality's site is not shown


def test_creating_a_user_shows_the_password_once(client, site):
    r = add(client, email="Hanako@Example.jp", name="佐藤 花子", role="staff", site="test-site")
    assert r.status_code == 201
    password = re.search(r'<code class="secret" id="new-password">([^<]+)</code>', r.text).group(1)
    assert len(password) >= 16
    user = auth_ops.find_user("hanako@example.jp")
    assert user.name == "佐藤 花子" and user.active
    assert [(g.role, g.site_id) for g in user.grants] == [("staff", site.id)]
    # Shown once: the list page does not have it.
    assert password not in client.get(USERS).text
    # The new account can log in with it and sees the site.
    with _client(client) as c:
        assert login(c, "hanako@example.jp", password).status_code == 303
        assert c.get("/s/test-site/").status_code == 200
    created, granted = events("user_created"), events("role_granted")
    assert created[-1].subject == f"user:{user.id}" and created[-1].user_email == TEST_USER
    assert granted[-1].site_slug == "test-site" and "hanako@example.jp" in granted[-1].detail


def _client(client):
    """Another browser on the same app as ``client``."""
    return hub_client(client.app)


def test_an_existing_email_just_gets_the_role(client, site):
    other = make_site("elsewhere", municipality="other-town")
    user = make_user("known@t.jp", ("viewer", other), name="既存 さん")
    r = add(client, email="KNOWN@t.jp", name="別の名前", role="viewer", site="test-site")
    assert r.status_code == 200 and "had an account already" in r.text
    assert 'id="new-password"' not in r.text
    user = User.get_by_id(user.id)
    assert user.name == "既存 さん"
    assert sorted(g.site_id for g in user.grants) == sorted([other.id, site.id])
    r = add(client, email="known@t.jp", role="viewer", site="test-site")
    assert r.status_code == 200 and "held this role already" in r.text


def test_inviting_a_deactivated_account_makes_it_active_again(client, site):
    user = make_user("gone@t.jp", ("viewer", site))
    auth_ops.remove_from_municipality(user, site.municipality)
    assert not User.get_by_id(user.id).active
    r = add(client, email="gone@t.jp", role="staff", site="test-site")
    assert r.status_code == 200 and "active again" in r.text
    assert User.get_by_id(user.id).active


@pytest.mark.parametrize("fields, field", [
    ({"email": "x@t.jp", "name": "X", "role": "staff"}, "site"),
    ({"email": "x@t.jp", "name": "X", "role": "platform_admin"}, "role"),
    ({"email": "x@t.jp", "name": "X", "role": "boss"}, "role"),
    ({"email": "x@t.jp", "name": "X", "role": "viewer", "site": "elsewhere"}, "site"),
    ({"email": "not-an-email", "name": "X", "role": "viewer", "site": "test-site"}, "email"),
    ({"email": "", "name": "X", "role": "viewer", "site": "test-site"}, "email"),
    ({"email": "x@t.jp", "name": "", "role": "viewer", "site": "test-site"}, "name"),
])
def test_invalid_new_users_are_refused_with_the_field_named(client, site, fields, field):
    make_site("elsewhere", municipality="other-town")
    before = (User.select().count(), RoleGrant.select().count())
    r = add(client, **fields)
    assert r.status_code == 422
    assert f'id="{field}-error"' in r.text
    assert (User.select().count(), RoleGrant.select().count()) == before


def test_a_municipality_admin_is_granted_without_a_site(client, site):
    r = add(client, email="chief@t.jp", name="課長", role="municipality_admin", site="test-site")
    assert r.status_code == 201
    grants = list(auth_ops.find_user("chief@t.jp").grants)
    assert [(g.role, g.municipality_id, g.site_id) for g in grants] == [
        ("municipality_admin", site.municipality_id, None)]


def user_url(user) -> str:
    return f"{USERS}{user.id}/"


def test_the_user_page_is_for_users_of_this_municipality_only(client, site):
    other = make_site("elsewhere", municipality="other-town")
    here = make_user("here@t.jp", ("staff", site), name="ここ さん")
    outsider = make_user("outsider@t.jp", ("viewer", other))
    page = client.get(user_url(here) + "?lang=en")
    assert page.status_code == 200 and "here@t.jp" in page.text
    assert "Staff (テスト拠点)" in page.text
    assert client.get(user_url(outsider)).status_code == 404
    for bad in ("999999", "abc", "0", "99999999999999999999999"):
        assert client.get(f"{USERS}{bad}/").status_code == 404
        assert client.post(f"{USERS}{bad}/roles", data={"role": "viewer",
                                                        "site": "test-site"}).status_code == 404
    r = client.post(user_url(outsider) + "roles", data={"role": "viewer", "site": "test-site"})
    assert r.status_code == 404
    assert not RoleGrant.select().where((RoleGrant.user == outsider)
                                        & (RoleGrant.site == site)).exists()


def test_grant_and_revoke_roles(client, site):
    second = make_site("second", name="第二拠点")
    user = make_user("worker@t.jp", ("staff", site))
    r = client.post(user_url(user) + "roles", data={"role": "viewer", "site": "second"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == user_url(user) + "?done=granted"
    again = client.post(user_url(user) + "roles", data={"role": "viewer", "site": "second"},
                        follow_redirects=False)
    assert again.headers["location"].endswith("?done=already")
    page = client.get(again.headers["location"] + "&lang=en").text
    assert "held this role already" in page and "Viewer (第二拠点)" in page

    # htmx: the same, answered with a redirect header.
    r = client.post(user_url(user) + "roles", headers=HX,
                    data={"role": "municipality_admin"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].endswith("?done=granted")
    roles = {(g.role, g.site_id) for g in User.get_by_id(user.id).grants}
    assert roles == {("staff", site.id), ("viewer", second.id), ("municipality_admin", None)}

    viewer = RoleGrant.get((RoleGrant.user == user) & (RoleGrant.role == "viewer"))
    r = client.post(user_url(user) + "roles/revoke", data={"grant": str(viewer.id)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=revoked")
    assert not RoleGrant.select().where(RoleGrant.id == viewer.id).exists()

    assert len(events("role_granted")) >= 3
    revoked = events("role_revoked")[-1]
    assert revoked.site_slug == "second" and revoked.user_email == TEST_USER


def test_invalid_grants_and_revokes_change_nothing(client, site):
    other = make_site("elsewhere", municipality="other-town")
    user = make_user("worker@t.jp", ("staff", site), ("viewer", other))
    foreign = RoleGrant.get((RoleGrant.user == user) & (RoleGrant.site == other))
    before = RoleGrant.select().count()
    for data, field in (({"role": "platform_admin"}, "role"),
                        ({"role": "viewer", "site": "elsewhere"}, "site"),
                        ({"role": "viewer"}, "site")):
        r = client.post(user_url(user) + "roles?lang=en", data=data)
        assert r.status_code == 422 and f'id="{field}-error"' in r.text, data
    # A grant of another municipality cannot be revoked from here.
    for grant_id in (str(foreign.id), "", "abc"):
        r = client.post(user_url(user) + "roles/revoke?lang=en", data={"grant": grant_id})
        assert r.status_code == 422 and "Nothing was changed." in r.text
    assert RoleGrant.select().count() == before


def test_revoking_the_last_role_here(client, site):
    other = make_site("elsewhere", municipality="other-town")
    only_here = make_user("only@t.jp", ("viewer", site))
    both = make_user("both@t.jp", ("viewer", site), ("viewer", other))
    for user, active in ((only_here, False), (both, True)):
        grant = RoleGrant.get((RoleGrant.user == user) & (RoleGrant.site == site))
        r = client.post(user_url(user) + "roles/revoke", data={"grant": str(grant.id)},
                        follow_redirects=False)
        assert r.headers["location"] == USERS + "?done=removed"
        assert User.get_by_id(user.id).active is active
        assert client.get(user_url(user)).status_code == 404
    assert events("user_deactivated")[-1].subject == f"user:{only_here.id}"


def test_an_admin_cannot_lock_themself_out(client, site):
    me = auth_ops.find_user(TEST_USER)
    mine = RoleGrant.get((RoleGrant.user == me) & (RoleGrant.role == "municipality_admin"))
    r = client.post(user_url(me) + "roles/revoke?lang=en", data={"grant": str(mine.id)})
    assert r.status_code == 422 and "own administrator role" in r.text
    r = client.post(user_url(me) + "remove?lang=en", data={"confirm": "yes"})
    assert r.status_code == 422 and "cannot remove yourself" in r.text
    r = client.post(user_url(me) + "password?lang=en")
    assert r.status_code == 422
    assert RoleGrant.select().where(RoleGrant.user == me).count() == 2


def test_reset_password(client, site):
    user = make_user("forgetful@t.jp", ("staff", site))
    page = client.get(user_url(user) + "?lang=en").text
    assert "Reset password" in page
    r = client.post(user_url(user) + "password?lang=en")
    assert r.status_code == 200
    password = re.search(r'id="new-password">([^<]+)<', r.text).group(1)
    with _client(client) as c:
        assert login(c, "forgetful@t.jp").status_code == 401  # the old one no longer works
        assert login(c, "forgetful@t.jp", password).status_code == 303
    reset = events("password_reset")[-1]
    assert reset.subject == f"user:{user.id}" and reset.user_email == TEST_USER


def test_no_password_reset_for_accounts_with_roles_elsewhere(client, site):
    other = make_site("elsewhere", municipality="other-town")
    user = make_user("both@t.jp", ("staff", site), ("municipality_admin", other.municipality))
    root = make_user("root@t.jp", ("platform_admin", None), ("viewer", site))
    for u in (user, root):
        page = client.get(user_url(u) + "?lang=en").text
        assert "Reset password</button>" not in page
        r = client.post(user_url(u) + "password?lang=en")
        assert r.status_code == 422 and 'id="new-password"' not in r.text
    assert not events("password_reset")


def test_remove_from_the_municipality(client, site):
    other = make_site("elsewhere", municipality="other-town")
    only_here = make_user("only@t.jp", ("staff", site), ("municipality_admin", site.municipality))
    both = make_user("both@t.jp", ("staff", site), ("viewer", other))
    r = client.post(user_url(only_here) + "remove?lang=en", data={})
    assert r.status_code == 422 and 'id="confirm-error"' in r.text
    assert RoleGrant.select().where(RoleGrant.user == only_here).count() == 2

    r = client.post(user_url(only_here) + "remove", data={"confirm": "yes"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == USERS + "?done=removed"
    assert not User.get_by_id(only_here.id).active
    assert client.get(user_url(only_here)).status_code == 404

    r = client.post(user_url(both) + "remove", headers=HX, data={"confirm": "yes"})
    assert r.status_code == 204 and r.headers["HX-Redirect"] == USERS + "?done=removed"
    both = User.get_by_id(both.id)
    assert both.active and [g.site_id for g in both.grants] == [other.id]
    assert "both@t.jp" not in client.get(USERS).text

    assert {e.subject for e in events("role_revoked")} == {f"user:{only_here.id}",
                                                          f"user:{both.id}"}
    assert [e.subject for e in events("user_deactivated")] == [f"user:{only_here.id}"]


def test_every_change_is_in_the_municipality_audit_log(gclient, plugged):
    switch(gclient, "", "garden", True)
    switch(gclient, "test-site", "garden", True)
    add(gclient, email="new@t.jp", name="新人", role="staff", site="test-site")
    user = auth_ops.find_user("new@t.jp")
    gclient.post(user_url(user) + "roles", data={"role": "viewer", "site": "test-site"})
    gclient.post(user_url(user) + "password")
    gclient.post(user_url(user) + "remove", data={"confirm": "yes"})
    log = gclient.get("/m/test-town/audit/?lang=en").text
    for label in ("Program allowed for the municipality", "Program switched on", "User created",
                  "Role granted", "Password reset", "Role revoked", "User deactivated"):
        assert f"<td>{label}</td>" in log, label
    assert "テスト拠点" in log
