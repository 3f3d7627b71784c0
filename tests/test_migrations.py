"""Per-plugin schema versions: fresh installs, upgrades, reruns, failures."""

from __future__ import annotations

import types

import peewee
import pytest
from testplugins import garden

from hubcore import db
from hubcore.migrations import Migrations, SchemaVersion, create_tables, migrate
from hubcore.plugins import PluginMeta, get_host
from hubcore.testing import registered


@pytest.fixture
def empty(empty_db_url):
    db.configure(empty_db_url)
    yield empty_db_url
    db.database.obj.close_all()


def _versions() -> dict[str, int]:
    with db.database.connection_context():
        return {r.plugin: r.version for r in SchemaVersion.select()}


def _tables() -> set[str]:
    with db.database.connection_context():
        return set(db.database.get_tables())


def test_fresh_install_then_rerun_changes_nothing(empty):
    applied = migrate(get_host())
    assert {"sites", "rooms", "people"} <= {a.plugin for a in applied}
    assert {"municipality", "site", "room", "person", "household", "schema_version"} <= _tables()
    before = (_versions(), _tables())
    assert migrate(get_host()) == []
    assert (_versions(), _tables()) == before


def test_upgrade_applies_only_the_new_step(empty):
    migrate(get_host())
    one_step = types.ModuleType("garden_v1")
    one_step.PLUGIN = garden.PLUGIN
    one_step.register_migrations = lambda: Migrations("garden", garden.STEPS[:1])
    one_step.register_migrations = garden.hookimpl(one_step.register_migrations)
    with registered(one_step):
        assert [(a.plugin, a.version) for a in migrate(get_host())] == [("garden", 1)]
    with registered(garden):
        assert [(a.plugin, a.version) for a in migrate(get_host())] == [("garden", 2)]
        assert migrate(get_host()) == []
    with db.database.connection_context():
        cols = {c.name for c in db.database.get_columns("garden_plot")}
    assert "size_m2" in cols and _versions()["garden"] == 2


class Broken(db.BaseModel):
    x = peewee.IntegerField()

    class Meta:
        table_name = "broken_thing"


def test_a_failing_step_leaves_no_trace_and_a_rerun_finishes(empty):
    migrate(get_host())
    state = {"fail": True}

    def step2(database, migrator):
        database.execute_sql("CREATE TABLE broken_half (id INTEGER)")
        if state["fail"]:
            raise RuntimeError("killed half way")

    mod = types.ModuleType("broken")
    mod.PLUGIN = PluginMeta(name="broken", label_ja="壊", label_en="Broken")
    mod.register_migrations = garden.hookimpl(
        lambda: Migrations("broken", [create_tables(Broken), step2]))
    with registered(mod):
        with pytest.raises(RuntimeError):
            migrate(get_host())
        assert _versions()["broken"] == 1  # step 1 committed on its own
        assert "broken_half" not in _tables()  # step 2 rolled back whole
        state["fail"] = False
        assert [(a.plugin, a.version) for a in migrate(get_host())] == [("broken", 2)]
        assert "broken_half" in _tables()
