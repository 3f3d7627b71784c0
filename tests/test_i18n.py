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
