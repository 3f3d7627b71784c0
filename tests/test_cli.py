"""The `hubcore` command: init, migrate, demo, plugins, and start-up errors."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from testplugins import garden

from hubcore import db
from hubcore.cli import cli, main
from hubcore.kana import to_katakana
from hubcore.testing import registered, without_optional_plugins


@pytest.fixture
def run(empty_db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("HUBCORE_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setenv("DATABASE_URL", empty_db_url)

    def invoke(*args: str):
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result

    yield invoke
    if db.database.obj is not None:
        db.database.obj.close_all()


def test_init_creates_instance_secret_and_schema(run, tmp_path):
    r = run("init")
    assert r.exit_code == 0, r.output
    key = (tmp_path / "inst" / "secret_key").read_text().strip()
    assert len(key) >= 40
    assert oct((tmp_path / "inst" / "secret_key").stat().st_mode)[-3:] == "600"
    again = run("init")
    assert again.exit_code == 0
    assert (tmp_path / "inst" / "secret_key").read_text().strip() == key  # kept, not replaced


def test_migrate_twice_changes_nothing_the_second_time(run):
    first = run("migrate")
    assert first.exit_code == 0 and "sites → 1" in first.output
    second = run("migrate")
    assert second.exit_code == 0 and "schema is up to date" in second.output


def test_demo_loads_two_hubs_and_sixty_people_once(run):
    # The core's demo alone: the repository's program plugins add their own people.
    with without_optional_plugins():
        from hubcore.auth.operations import authenticate
        from hubcore.demo import DEMO_ACCOUNTS
        from hubcore.people.models import Household, Person
        from hubcore.rooms.models import Room
        from hubcore.sites.models import Site

        r = run("demo")
        assert r.exit_code == 0, r.output
        with db.database.connection_context():
            # みどり野町's two hubs, and one of its neighbour village to show tenancy.
            assert Site.select().count() == 3
            assert Room.select().count() == 11
            for email, _name, _role, _place, password in DEMO_ACCOUNTS:
                assert f"{email:<22} {password}" in r.output  # printed for the demo's visitors
                assert authenticate(email, password).ok, email
            people = list(Person.select())
            assert 55 <= len(people) <= 65
            assert Household.select().count() >= 20
            ages = {p.age_on(dt.date(2026, 4, 1)) for p in people}
            assert min(ages) <= 5 and max(ages) >= 75  # all generations
            for p in people:
                # フリガナ is katakana and belongs to the kanji name (Faker pairs, not random).
                assert p.family_name_kana == to_katakana(p.family_name_kana)
                assert p.household is not None
        again = run("demo")
        assert again.exit_code == 0 and "already loaded" in again.output
        with db.database.connection_context():
            assert Person.select().count() == len(people)


def test_plugins_list_enable_disable(run):
    with registered(garden):
        run("migrate")
        run("demo")  # the demo switches every installed plugin on for both hubs
        listing = run("plugins")
        assert "garden" in listing.output and "midorino-school" in listing.output
        r = run("plugins", "disable", "garden", "--site", "ekimae-engawa")
        assert r.exit_code == 0 and "off" in r.output
        r = run("plugins", "disable", "garden", "--site", "ekimae-engawa")
        assert "no change" in r.output
        r = run("plugins", "enable", "garden", "--site", "ekimae-engawa")
        assert r.exit_code == 0 and "on for site" in r.output
        r = run("plugins", "enable", "garden", "--site", "nowhere")
        assert r.exit_code == 1 and "no such site" in r.output
        r = run("plugins", "enable", "nope", "--site", "ekimae-engawa")
        assert r.exit_code == 1 and "no plugin named 'nope'" in r.output
        r = run("plugins", "disable", "rooms", "--site", "ekimae-engawa")
        assert r.exit_code == 1 and "core" in r.output
        r = run("plugins", "enable", "garden")
        assert r.exit_code == 2  # needs --site or --municipality
        r = run("plugins", "disable", "garden", "--municipality", "midorino")
        assert r.exit_code == 0 and "ekimae-engawa" in r.output
        # demo data of the plugin was loaded through its load_demo_data hook, once per hub
        with db.database.connection_context():
            assert garden.Plot.select().count() == 2


def test_plugin_commands_are_added_through_a_hook(monkeypatch, capsys):
    with registered(garden):
        monkeypatch.setattr(sys, "argv", ["hubcore", "garden-hello"])
        with pytest.raises(SystemExit) as exit_:
            main()
    assert exit_.value.code == 0
    assert "hello from the garden" in capsys.readouterr().out


@pytest.mark.parametrize("url, words", [
    ("mysql://root@localhost/hub", "scheme 'mysql' is not supported"),
    ("postgresql://localhost", "names no database"),
    ("postgresql://u@localhost:notaport/db", "port that is not a number"),
    ("sqlite://", "needs a file path"),
])
def test_malformed_database_url_stops_with_one_clear_line(url, words, tmp_path):
    env = {**os.environ, "DATABASE_URL": url, "HUBCORE_INSTANCE": str(tmp_path)}
    exe = os.path.join(os.path.dirname(sys.executable), "hubcore")
    r = subprocess.run([exe, "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], r.stderr
    # The ASGI entry (uvicorn hubcore.asgi:app) says the same in one line.
    r = subprocess.run([sys.executable, "-c", "import hubcore.asgi"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and words in r.stderr


def test_unreachable_database_is_one_line_too(tmp_path):
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing",
           "HUBCORE_INSTANCE": str(tmp_path)}
    exe = os.path.join(os.path.dirname(sys.executable), "hubcore")
    r = subprocess.run([exe, "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith("Error: cannot open the database:")
    assert len(r.stderr.strip().splitlines()) == 1


def test_user_commands(run):
    from hubcore.auth.models import RoleGrant
    from hubcore.auth.operations import authenticate, find_user
    from hubcore.plugins import get_host

    get_host().pm.hook.register_commands(cli=cli)
    assert run("demo").exit_code == 0
    r = run("user", "create", "Sato@Example.jp", "--name", "佐藤 花子", "--role", "staff",
            "--site", "midorino-school")
    assert r.exit_code == 0, r.output
    password = r.output.split("password: ")[1].strip()
    assert run("user", "create", "sato@example.jp", "--name", "二人目").exit_code == 1
    bad = run("user", "create", "x@example.jp", "--name", "x", "--role", "staff")
    assert bad.exit_code == 1 and "拠点" in bad.output  # the operation's own message
    with db.database.connection_context():
        assert find_user("x@example.jp") is None  # a refused role creates no account either
        assert authenticate("sato@example.jp", password).ok
    r = run("user", "set-role", "sato@example.jp", "viewer", "--site", "ekimae-engawa")
    assert r.exit_code == 0 and "granted" in r.output
    r = run("user", "set-role", "sato@example.jp", "staff", "--site", "midorino-school",
            "--remove")
    assert r.exit_code == 0 and "removed" in r.output
    listed = run("user", "list").output
    assert "sato@example.jp" in listed and "viewer" in listed and "ekimae-engawa" in listed
    with db.database.connection_context():
        roles = [(g.role, g.site.slug) for g in RoleGrant.select().where(
            RoleGrant.user == find_user("sato@example.jp"))]
    assert roles == [("viewer", "ekimae-engawa")]
    r = run("user", "reset-password", "sato@example.jp", "--password", "a new one 123")
    assert r.exit_code == 0
    with db.database.connection_context():
        assert authenticate("sato@example.jp", "a new one 123").ok
    r = run("user", "token", "create", "sato@example.jp", "--name", "集計")
    assert r.exit_code == 0 and "hc_" in r.output
    token_id = r.output.split()[1]
    assert "read only" in run("user", "token", "list", "sato@example.jp").output
    assert run("user", "token", "revoke", "sato@example.jp", token_id).exit_code == 0
    assert "revoked" in run("user", "token", "list", "sato@example.jp").output
    assert run("user", "token", "revoke", "sato@example.jp", "999").exit_code == 1
