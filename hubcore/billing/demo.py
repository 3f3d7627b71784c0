"""Billing settings for the demo hubs (``hubcore demo``), all invented.

The demo has no program that bills, so it has no invoices: a monthly run there finds
nothing to bill until a program plugin is installed and records something.
"""

from __future__ import annotations

from hubcore.billing import operations as ops
from hubcore.billing.models import Organisation
from hubcore.billing.registration import corporate_check_digit
from hubcore.billing.schemas import BillingSettingsIn, OrganisationIn
from hubcore.sites.models import Site


def invented_registration_number(base12: str) -> str:
    """"T" + check digit + ``base12``: valid in form, invented (not looked up anywhere).
    Use it for demos only."""
    return f"T{corporate_check_digit(base12)}{base12}"


ISSUERS = {
    "midorino-school": {
        "issuer_name": "特定非営利活動法人 みどり野ごちゃまぜネット",
        "issuer_address": "〒399-4301 長野県みどり野町上原1200 旧みどり野小学校内",
        "issuer_phone": "0269-00-1200",
        "registration_number": invented_registration_number("999900012026"),
        "bank_account": "みどり野信用金庫 上原支店 普通 0000001\n"
                        "トクヒ)ミドリノゴチャマゼネット",
        "number_prefix": "MS-",
    },
    "ekimae-engawa": {
        "issuer_name": "一般社団法人 えきまえ縁側舎",
        "issuer_address": "〒399-4310 長野県みどり野町栄町2-14",
        "issuer_phone": "0269-00-0214",
        "registration_number": invented_registration_number("999900022026"),
        "bank_account": "みどり野信用金庫 駅前支店 普通 0000002\n"
                        "シャ)エキマエエンガワシャ",
        "due_rule": "days_after_issue",
        "due_days": 14,
        "number_prefix": "EE-",
    },
}

# Payers that are not households: the town itself pays for some services.
ORGANISATIONS = [
    {"name": "みどり野町役場 福祉課", "name_kana": "ミドリノマチヤクバ フクシカ",
     "kind": "municipality", "department": "高齢者支援係",
     "postal_code": "399-4300", "address": "長野県みどり野町役場通り1"},
]


def load(site: Site) -> None:
    """The site's billing settings and the town's organisations (once per town)."""
    spec = ISSUERS.get(site.slug)
    if spec is not None:
        ops.update_settings(site, BillingSettingsIn(**spec))
    for org in ORGANISATIONS:
        exists = Organisation.select().where((Organisation.municipality == site.municipality_id)
                                             & (Organisation.name == org["name"])).exists()
        if not exists:
            ops.create_organisation(site.municipality, OrganisationIn(**org))
