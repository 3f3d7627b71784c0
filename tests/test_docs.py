"""Every hook is documented: a docstring in hookspecs.py and a section in docs/hooks.md."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from hubcore import hookspecs

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _hookspecs() -> list[str]:
    return sorted(
        name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "hubcore_spec")
    )


def _sections() -> set[str]:
    text = (DOCS / "hooks.md").read_text(encoding="utf-8")
    return set(re.findall(r"^## (\w+)\s*$", text, flags=re.M))


@pytest.mark.parametrize("name", _hookspecs())
def test_hookspec_has_a_docstring(name):
    doc = inspect.getdoc(getattr(hookspecs, name))
    assert doc and len(doc) > 20, f"hookspec {name} has no docstring"


@pytest.mark.parametrize("name", _hookspecs())
def test_hook_has_a_section_in_docs_hooks_md(name):
    assert name in _sections(), f"docs/hooks.md has no '## {name}' section"


def test_docs_hooks_md_names_no_hook_that_does_not_exist():
    assert _sections() <= set(_hookspecs())


def test_site_hooks_take_the_site_first():
    for name in hookspecs.SITE_HOOKS:
        params = list(inspect.signature(getattr(hookspecs, name)).parameters)
        assert params[0] == "site", name
    for name in set(_hookspecs()) - set(hookspecs.SITE_HOOKS):
        params = list(inspect.signature(getattr(hookspecs, name)).parameters)
        assert "site" not in params, f"{name} takes a site but is not listed in SITE_HOOKS"
