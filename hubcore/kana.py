"""Kana normalisation: search by kana or kanji, and 五十音 (gojūon) order.

Names are sorted the way Japanese directories sort them (after JIS X 4061): by
the plain kana first — voiced and small kana count as their plain letter and the
long-vowel mark as the vowel it lengthens — and only then by the exact spelling,
so カトウ, ガトウ and かとう sit together instead of ガ after all of カ.
"""

from __future__ import annotations

import unicodedata

_HIRA_START, _HIRA_END = 0x3041, 0x3096
_SMALL = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_VOWEL_OF = {}
for _row, _vowel in (
    ("アカサタナハマヤラワガザダバパャ", "ア"),
    ("イキシチニヒミリギジヂビピ", "イ"),
    ("ウクスツヌフムユルグズヅブプュヴ", "ウ"),
    ("エケセテネヘメレゲゼデベペ", "エ"),
    ("オコソトノホモヨロヲゴゾドボポョ", "オ"),
):
    for _ch in _row:
        _VOWEL_OF[_ch] = _vowel


def to_katakana(text: str) -> str:
    """Full-width katakana: NFKC (half-width kana, full-width latin), hiragana → katakana."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        chr(ord(c) + 0x60) if _HIRA_START <= ord(c) <= _HIRA_END else c for c in text
    )


def normalize(text: str) -> str:
    """What search compares: katakana, no spaces of any width, lower-case latin."""
    return "".join(to_katakana(text).split()).lower()


def _plain(ch: str) -> str:
    # Strip dakuten/handakuten by decomposing: ガ → カ + ゛.
    return unicodedata.normalize("NFD", ch)[0].translate(_SMALL)


def sort_key(kana: str) -> str:
    """A string whose plain code-point order is 五十音 order of ``kana``.

    Store it in an indexed column and ORDER BY it (with binary collation).
    """
    full = normalize(kana)
    primary = []
    for ch in full:
        if ch == "ー" and primary:
            primary.append(_VOWEL_OF.get(primary[-1], "ー"))
        else:
            primary.append(_plain(ch))
    # A space sorts below every kana: カト comes before カトウ, and ties fall to spelling.
    return "".join(primary) + " " + full


def like_pattern(query: str) -> str:
    """A LIKE pattern matching ``query`` anywhere, its own % and _ escaped with \\."""
    q = normalize(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{q}%"
