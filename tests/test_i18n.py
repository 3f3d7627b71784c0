"""Every user-facing string is in the Japanese catalogue, with its placeholders intact."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from hubcore import i18n

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "hubcore" / "locale" / "ja" / "LC_MESSAGES" / "messages.po"
METHODS = [
    ("hubcore/**.py", "python"),
    ("hubcore/**/templates/**.html", "jinja2"),
    ("hubcore/templates/**.html", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _extracted() -> dict[str, str]:
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS,
        options_map={"hubcore/**/templates/**.html": {"extensions": "jinja2.ext.i18n"},
                     "hubcore/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, filename)
    return found


def _catalogue():
    with PO.open("rb") as f:
        return read_po(f, locale="ja")


def test_every_message_has_a_japanese_translation():
    cat = _catalogue()
    missing = [f"{msgid!r} ({where})" for msgid, where in _extracted().items()
               if not (cat.get(msgid) and cat.get(msgid).string)]
    assert not missing, "missing from the ja catalogue:\n" + "\n".join(missing)


def test_extraction_finds_the_templates_and_the_code():
    found = _extracted()
    assert "Rooms" in found and "{label} is required." in found and len(found) > 80


def test_placeholders_survive_translation():
    for msg in _catalogue():
        if msg.id and msg.string and isinstance(msg.id, str):
            want, got = re.findall(r"{\w+}", msg.id), re.findall(r"{\w+}", msg.string)
            assert set(want) == set(got), msg.id


def test_japanese_is_the_default_and_english_the_second():
    i18n.load_catalogues([])
    token = i18n.current_language.set("ja")
    try:
        assert i18n.gettext("Rooms") == "部屋"
    finally:
        i18n.current_language.reset(token)
    token = i18n.current_language.set("en")
    try:
        assert i18n.gettext("Rooms") == "Rooms"
    finally:
        i18n.current_language.reset(token)
    assert i18n.pick_language(None, None) == "ja"
    assert i18n.pick_language("en", "ja") == "en"
    assert i18n.pick_language("fr", "en") == "en"


# --- the repository's program plugins: each has its own catalogue ----------------------

PLUGIN_DIRS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()
                     and p.name != "__pycache__")


def _plugin_extracted(plugin: Path) -> dict[str, str]:
    found = {}
    methods = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(plugin), methods, keywords=KEYWORDS,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, filename)
    return found


def test_every_plugin_message_has_a_japanese_translation():
    """A plugin's strings are in its own catalogue or the core's; a msgid in both must
    read the same (the plugin's would win where the core shows it too)."""
    core = _catalogue()
    assert PLUGIN_DIRS, "no plugin found under plugins/"
    for plugin in PLUGIN_DIRS:
        po = plugin / "locale" / "ja" / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as f:
            own = read_po(f, locale="ja")
        missing, differ = [], []
        for msgid, where in _plugin_extracted(plugin).items():
            mine, theirs = own.get(msgid), core.get(msgid)
            if not ((mine and mine.string) or (theirs and theirs.string)):
                missing.append(f"{msgid!r} ({where})")
            elif mine and mine.string and theirs and theirs.string and mine.string != theirs.string:
                differ.append(f"{msgid!r}: {mine.string!r} ≠ core {theirs.string!r}")
        assert not missing, f"missing from {po}:\n" + "\n".join(missing)
        assert not differ, "\n".join(differ)
        for msg in own:
            if msg.id and msg.string and isinstance(msg.id, str):
                assert set(re.findall(r"{\w+}", msg.id)) == set(re.findall(r"{\w+}", msg.string))
                # Jinja %-formats every translated template string: a bare % breaks the
                # page (write ％ in Japanese).
                assert not re.search(r"%(?![(%])", msg.string), msg.id
