"""The plugin machinery: discovery, per-site scoping, the 404 guard, enablement, templates."""

from __future__ import annotations

import pytest
from testplugins import garden, kitchen

from hubcore import db
from hubcore.migrations import migrate
from hubcore.plugins import PluginError, PluginHost, PluginMeta, get_host
from hubcore.sites import operations as ops
from hubcore.testing import make_site, registered, user_client


@pytest.fixture
def plugged(database):
    """garden and kitchen registered and migrated; site 'a' has garden on, 'b' has it off."""
    garden.EVENTS.clear()
    with registered(garden, kitchen):
        migrate(get_host())
        a = make_site("a", plugins=("garden",))
        b = make_site("b")
        yield a, b


@pytest.fixture
def gclient(plugged, settings):
    a, b = plugged
    with user_client(settings, ("site_manager", a), ("site_manager", b)) as c:
        yield c


def test_core_areas_come_from_entry_points():
    host = get_host()
    for name in ("sites", "rooms", "people"):
        loaded = host.plugins[name]
        assert loaded.meta.core and loaded.source == "entry point"
    # Core areas come first and before anything that requires them.
    order = [p.meta.name for p in host.ordered()]
    assert order.index("sites") < order.index("rooms")


def test_site_hooks_leave_out_plugins_that_are_off(plugged):
    a, b = plugged
    labels_a = [i.key for batch in a.hooks.navigation_items(site=a, request=None) for i in batch]
    labels_b = [i.key for batch in b.hooks.navigation_items(site=b, request=None) for i in batch]
    assert "garden" in labels_a and "garden" not in labels_b
    # Core areas answer on every site.
    assert {"dashboard", "rooms"} <= set(labels_a) & set(labels_b)


def test_relay_is_shared_by_sites_with_the_same_plugins(plugged):
    a, b = plugged
    c = make_site("c")
    assert b.hooks is c.hooks
    assert a.hooks is not b.hooks


def test_site_hooks_refuse_global_hook_names(plugged):
    a, _ = plugged
    with pytest.raises(AttributeError):
        a.hooks.register_routes  # noqa: B018 - global hooks are not on the site relay


def test_plugin_routes_answer_404_where_the_plugin_is_off(gclient):
    assert gclient.get("/s/a/garden/ping").text == "garden at a"
    assert gclient.get("/s/a/garden/async").text == "async garden at a"
    for path in ("/s/b/garden/ping", "/s/b/garden/async", "/s/b/garden/", "/s/zz/garden/ping",
                 "/s/a/kitchen/", "/s/a/nosuchplugin/"):
        r = gclient.get(path)
        assert r.status_code == 404, path
        assert "<html" in r.text  # the 404 page, not a traceback


def test_disabling_hides_and_reenabling_shows_the_same_data(plugged, gclient):
    a, _ = plugged
    garden.Plot.create(site=a, name="トマト畑")
    assert "トマト畑!" in gclient.get("/s/a/garden/").text  # filter from prepare_jinja2_environment
    assert ops.set_site_plugin(a, "garden", False) is True
    assert gclient.get("/s/a/garden/").status_code == 404
    assert garden.Plot.select().count() == 1  # nothing deleted
    assert ops.set_site_plugin(a, "garden", True) is True
    assert "トマト畑!" in gclient.get("/s/a/garden/").text


def test_enable_and_disable_events_reach_only_that_plugin(plugged):
    a, b = plugged
    ops.set_municipality_plugin(b.municipality, "garden", True)
    garden.EVENTS.clear()
    ops.set_site_plugin(b, "garden", True)
    ops.set_site_plugin(b, "garden", True)  # no change, no event
    ops.set_site_plugin(b, "garden", False)
    assert garden.EVENTS == [("enabled", "b"), ("disabled", "b")]
    # kitchen implements neither hook; a relay for one plugin reaches no other.
    relay = get_host().only("kitchen")
    assert relay.plugin_enabled(site=b) == []


def test_a_site_needs_its_municipality_to_allow_the_plugin(database):
    with registered(garden):
        other = make_site("x", municipality="elsewhere")
        with pytest.raises(PluginError, match="municipality"):
            ops.set_site_plugin(other, "garden", True)
        ops.set_municipality_plugin(other.municipality, "garden", True)
        assert ops.set_site_plugin(other, "garden", True)
        # Forbidding it for the municipality switches it off on its sites, keeping their rows.
        changed = ops.set_municipality_plugin(other.municipality, "garden", False)
        assert [s.slug for s in changed] == ["x"]
        assert not ops.is_enabled(other, "garden")
        ops.set_municipality_plugin(other.municipality, "garden", True)
        assert ops.is_enabled(other, "garden")


def test_requirements_are_enforced_both_ways(plugged):
    a, b = plugged
    ops.set_municipality_plugin(b.municipality, "kitchen", True)
    with pytest.raises(PluginError, match="requires garden"):
        ops.set_site_plugin(b, "kitchen", True)  # garden is off at b
    assert ops.set_site_plugin(a, "kitchen", True)
    with pytest.raises(PluginError, match="kitchen"):
        ops.set_site_plugin(a, "garden", False)
    with pytest.raises(PluginError, match="core"):
        ops.set_site_plugin(a, "rooms", False)


def test_unknown_plugin_name_is_a_clear_error(plugged):
    a, _ = plugged
    with pytest.raises(PluginError, match="no plugin named 'nope'"):
        ops.set_site_plugin(a, "nope", True)


def test_plugin_registration_is_checked():
    host = PluginHost()

    class Fake:
        __name__ = "fake"
        PLUGIN = PluginMeta(name="Bad-Name", label_ja="x", label_en="x")

    with pytest.raises(PluginError, match="lower-case identifier"):
        host.register(Fake)
    host.register(garden)
    with pytest.raises(PluginError, match="two plugins"):
        host.register(garden)
    host.register(kitchen)
    host.unregister("garden")
    with pytest.raises(PluginError, match="requires 'garden'"):
        host.ordered()


def test_plugin_tables_carry_the_plugin_prefix(plugged):
    host = get_host()
    impls = host.pm.hook.register_models.get_hookimpls()
    assert impls, "no plugin registers models"
    for impl in impls:
        meta = host.plugins[impl.plugin_name].meta
        for model in impl.function():
            table = model._meta.table_name
            if not meta.core:
                assert table.startswith(meta.name + "_"), f"{meta.name}: table {table}"


def test_dashboard_widgets_slots_and_templates(gclient):
    page = gclient.get("/s/a/").text
    assert "garden-count" in page  # the plugin's widget
    assert "&lt;b&gt;garden slot &amp; escaped&lt;/b&gt;" in page  # slot text is escaped
    assert "garden-count" not in gclient.get("/s/b/").text


def test_plugin_static_files_are_served(gclient):
    r = gclient.get("/static/garden/garden.css")
    assert r.status_code == 200 and ".garden" in r.text


def test_plugin_catalogue_is_merged_into_the_core_one(gclient):
    assert ">菜園<" in gclient.get("/s/a/garden/?lang=ja").text
    assert ">Garden<" in gclient.get("/s/a/garden/?lang=en").text


def test_theme_override_can_extend_the_core_template(plugged, settings, tmp_path):
    a, _ = plugged
    theme = settings.instance / "themes" / "sakura"
    (theme / "templates" / "sites").mkdir(parents=True)
    (theme / "static").mkdir()
    (theme / "static" / "theme.css").write_text(":root { --accent: pink; }")
    (theme / "templates" / "sites" / "dashboard.html").write_text(
        '{% extends "core:sites/dashboard.html" %}'
        '{% block content %}<p id="sakura">桜テーマ</p>{{ super() }}{% endblock %}'
    )
    a.theme = "sakura"
    a.save()
    b = plugged[1]
    with user_client(settings, ("site_manager", a), ("site_manager", b)) as c:
        page = c.get("/s/a/").text
        assert 'id="sakura"' in page and "garden-count" in page  # override + original
        assert "/themes/sakura/theme.css" in page
        assert c.get("/themes/sakura/theme.css").status_code == 200
        assert 'id="sakura"' not in c.get("/s/b/").text  # other site keeps the default


def test_person_changed_runs_in_the_write_transaction(plugged):
    from hubcore.people.models import Person
    from hubcore.people.operations import create_person_from_parts

    a, b = plugged
    create_person_from_parts(a, family_name="山田", given_name="花子", family_name_kana="ヤマダ",
                             given_name_kana="ハナコ")
    assert ("person_changed", "a:山田:True") in garden.EVENTS
    with pytest.raises(ValueError, match="refuses"):
        create_person_from_parts(a, family_name="川口", given_name="一郎",
                                 family_name_kana="カワグチ", given_name_kana="イチロウ",
                                 notes="garden-veto")
    assert not Person.select().where(Person.family_name == "川口").exists()
    # garden is off at b: its hook does not run there, so no veto.
    create_person_from_parts(b, family_name="川口", given_name="一郎", family_name_kana="カワグチ",
                             given_name_kana="イチロウ", notes="garden-veto")
    assert db.database.obj is not None
