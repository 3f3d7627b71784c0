"""The example plugin in examples/ is found the way an installed plugin is: through the
``hubcore`` entry-point group, here without pip (a dist-info folder on sys.path)."""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from hubcore.plugins import ENTRY_POINT_GROUP, PluginHost, get_host

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "hubcore-noticeboard"
PACKAGE = "hubcore_noticeboard"


def _ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


@pytest.fixture
def installed_without_pip(tmp_path, monkeypatch):
    """What `pip install` leaves for importlib.metadata, in a temp folder on sys.path."""
    # Load the process's own host first, or it would find the fake installation too and
    # keep it for the rest of the session.
    get_host()
    dist = tmp_path / "hubcore_noticeboard-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hubcore-noticeboard\nVersion: 0.1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[hubcore]\nnoticeboard = hubcore_noticeboard\n", encoding="utf-8")
    # Import a fresh copy from examples/; put back whatever was imported before (the
    # example's own tests may have it) so no test sees another test's module objects.
    # The dist-info folder goes first: it must win over any src/*.egg-info that an
    # earlier `pip install -e` left next to the package.
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if _ours(name)}
    try:
        yield dist
    finally:
        for name in [n for n in sys.modules if _ours(n)]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_the_example_is_found_through_its_entry_point(installed_without_pip):
    ep = next(e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == "noticeboard")
    assert ep.value == PACKAGE and ep.dist.name == "hubcore-noticeboard"
    # Ours, not another copy (an editable install, a stale egg-info).
    assert Path(ep.dist.locate_file("")) == installed_without_pip.parent

    before = set(get_host().plugins)
    host = PluginHost()
    host.load_entry_points()
    assert {"sites", "rooms", "people", "noticeboard"} <= set(host.plugins)
    for name in ("sites", "rooms", "people", "noticeboard"):
        assert host.plugins[name].source == "entry point", name
    board = host.plugins["noticeboard"]
    assert not board.meta.core and board.meta.label_ja == "お知らせ掲示板"
    assert board.module.__file__ == str(EXAMPLE / "src" / PACKAGE / "__init__.py")
    assert board.templates_dir == EXAMPLE / "src" / PACKAGE / "templates"
    assert (board.templates_dir / "noticeboard" / "list.html").is_file()
    assert board.locale_dir == EXAMPLE / "src" / PACKAGE / "locale"
    assert (board.locale_dir / "ja" / "LC_MESSAGES" / "messages.po").is_file()
    assert board.static_dir is None
    # The core areas first, then the optional plugin; its hooks are registered.
    order = [p.meta.name for p in host.ordered()]
    assert max(order.index(n) for n in ("sites", "rooms", "people")) < order.index("noticeboard")
    assert "noticeboard" in host.optional_names()
    migrations = {m.plugin: m for m in host.pm.hook.register_migrations()}
    assert len(migrations["noticeboard"].steps) == 1
    # A fresh host, not the process's: the shared one is unchanged.
    assert set(get_host().plugins) == before


def test_the_examples_packaging_declares_that_entry_point_and_ships_its_files():
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["name"] == "hubcore-noticeboard"
    assert "hubcore" in meta["project"]["dependencies"]
    assert meta["project"]["entry-points"]["hubcore"] == {"noticeboard": PACKAGE}
    # Every template and catalogue is matched by package data, so a wheel carries it.
    package = EXAMPLE / "src" / PACKAGE
    patterns = meta["tool"]["setuptools"]["package-data"][PACKAGE]
    shipped = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    data = {p for p in package.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
    assert data and data <= shipped, sorted(str(p.relative_to(package)) for p in data - shipped)
