"""Translations: Japanese by default, English second.

Message ids are English; the ja catalogue (``locale/ja/LC_MESSAGES/messages.po``,
the core's merged with each plugin's own) is compiled in memory at start-up with
Babel, so no .mo files are committed.
"""

from __future__ import annotations

import gettext as _gettext
import io
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
CORE_LOCALE_DIR = Path(__file__).parent / "locale"

current_language: ContextVar[str] = ContextVar("hubcore_language", default=DEFAULT_LANGUAGE)
_catalogues: dict[str, _gettext.NullTranslations] = {}


def _compile(po_path: Path, lang: str) -> Translations:
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def load_catalogues(locale_dirs: list[Path]) -> None:
    """Build each language's translations from the core's and the plugins' .po files."""
    _catalogues.clear()
    for lang in LANGUAGES:
        merged: Translations | None = None
        for d in [CORE_LOCALE_DIR, *locale_dirs]:
            po = d / lang / "LC_MESSAGES" / "messages.po"
            if not po.exists():
                continue
            tr = _compile(po, lang)
            if merged is None:
                merged = tr
            else:
                merged.merge(tr)
        _catalogues[lang] = merged or _gettext.NullTranslations()


def translations(lang: str | None = None) -> _gettext.NullTranslations:
    if not _catalogues:
        load_catalogues([])
    return _catalogues.get(lang or current_language.get()) or _gettext.NullTranslations()


def gettext(message: str) -> str:
    return translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations().ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark a string for the catalogue without translating it yet (translated where shown)."""
    return message


def pick_language(query: str | None, cookie: str | None) -> str:
    """?lang= first, then the lang cookie, else Japanese.

    The browser's Accept-Language is ignored on purpose: a shared front-desk tablet
    bought abroad must still show Japanese; English is chosen explicitly.
    """
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE
