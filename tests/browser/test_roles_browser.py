"""Each demo account, logged in through the real form in Chromium, sees exactly its
role's world; the same accounts' API tokens see the same sites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hubcore.demo import DEMO_ACCOUNTS
from hubcore.testing import browser_login

pytestmark = pytest.mark.browser

ALL = {"midorino-school", "ekimae-engawa", "kawabe-hoikuen"}
# email → (sites they see, may read people at midorino-school, may add rooms there)
WORLDS = {
    "platform@example.jp": (ALL, False, True),
    "town@example.jp": ({"midorino-school", "ekimae-engawa"}, False, True),
    "manager@example.jp": ({"midorino-school"}, True, True),
    "staff@example.jp": ({"midorino-school"}, True, False),
    "viewer@example.jp": ({"midorino-school"}, True, False),
    "kawabe@example.jp": ({"kawabe-hoikuen"}, False, False),
}
PASSWORDS = {email: password for email, _n, _r, _p, password in DEMO_ACCOUNTS}


def test_every_demo_account_is_described():
    assert set(WORLDS) == set(PASSWORDS)


@pytest.mark.parametrize("email", sorted(WORLDS))
def test_each_role_sees_exactly_its_world(live_server, page: Page, email):
    sites, people, rooms = WORLDS[email]
    browser_login(page, live_server, email, PASSWORDS[email])
    for slug in sorted(ALL):
        answer = page.goto(f"{live_server}/s/{slug}/")
        assert answer.status == (200 if slug in sites else 404), slug
    if "midorino-school" not in sites:
        return
    page.goto(f"{live_server}/s/midorino-school/")
    menu = page.locator("nav.sitenav")
    expect(menu.get_by_role("link", name="部屋")).to_be_visible()
    expect(menu.get_by_role("link", name="利用者")).to_have_count(1 if people else 0)
    answer = page.goto(f"{live_server}/s/midorino-school/people/")
    assert answer.status == (200 if people else 403)
    page.goto(f"{live_server}/s/midorino-school/rooms/")
    expect(page.locator("#room-form")).to_have_count(1 if rooms else 0)
    # Log out: the pages are gone again.
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(f"{live_server}/login")
    page.goto(f"{live_server}/s/midorino-school/")
    expect(page).to_have_url(f"{live_server}/login?next=/s/midorino-school/")


def _token(live_env: dict[str, str], email: str) -> str:
    exe = str(Path(sys.executable).parent / "hubcore")
    out = subprocess.run([exe, "user", "token", "create", email, "--name", "test"],
                         env=live_env, check=True, capture_output=True, text=True).stdout
    return out.strip().rsplit(" ", 1)[-1]


def test_each_roles_api_token_sees_the_same_sites(live_server, db_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": db_url, "HUBCORE_INSTANCE": str(tmp_path / "live")}
    for email, (sites, people, _rooms) in WORLDS.items():
        token = _token(env, email)

        def get(path: str, token: str = token) -> tuple[int, object]:
            req = urllib.request.Request(live_server + "/api/v1" + path,
                                         headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status, json.load(r)
            except urllib.error.HTTPError as e:
                return e.code, None

        status, listed = get("/sites")
        assert status == 200 and {s["slug"] for s in listed} == sites, email
        for slug in ALL - sites:
            assert get(f"/sites/{slug}/rooms")[0] == 404, (email, slug)
        if "midorino-school" in sites:
            assert get("/sites/midorino-school/people")[0] == (200 if people else 403), email
