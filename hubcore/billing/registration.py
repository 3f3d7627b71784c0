"""The qualified-invoice registration number (適格請求書発行事業者登録番号).

Format: "T" and 13 digits. A corporation's number is "T" + its corporate number
(法人番号), whose first digit is a check digit over the other twelve
(財務省令第七十号 第二条): 9 − (Σ Pn × Qn mod 9), Pn the n-th digit counted from
the right of the twelve, Qn = 1 for odd n and 2 for even n. Sole proprietors
and unincorporated associations get a 13-digit number that is neither a My
Number nor a corporate number; the NTA publishes no check-digit rule for those,
so the check digit is verified only for corporations (the site's setting
``issuer_is_corporation``, true by default: hubs are mostly run by NPOs,
社会福祉法人, companies or the municipality). Full-width input (Ｔ１２…) and
spaces or hyphens are accepted and normalised away.
"""

from __future__ import annotations

import re
import unicodedata

from hubcore.i18n import N_

_FORMAT = re.compile(r"T(\d{13})")


def normalise(value: str) -> str:
    text = unicodedata.normalize("NFKC", value).upper()
    return re.sub(r"[\s\-]", "", text)


def corporate_check_digit(base12: str) -> int:
    """The check digit of a corporate number's twelve base digits."""
    if not re.fullmatch(r"\d{12}", base12):
        raise ValueError("twelve digits expected")
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base12), start=1))
    return 9 - total % 9


def registration_number_error(value: str, corporation: bool = True) -> str | None:
    """Why ``value`` is not a valid registration number (an English msgid, translate it
    where shown), or None."""
    m = _FORMAT.fullmatch(normalise(value))
    if m is None:
        return N_("A registration number is T followed by 13 digits.")
    digits = m.group(1)
    if corporation and int(digits[0]) != corporate_check_digit(digits[1:]):
        return N_("The check digit of this registration number is wrong (check for a typo).")
    return None
