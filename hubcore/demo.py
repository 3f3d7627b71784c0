"""The demo municipality: two hubs, their rooms, about 60 people in households.

みどり野町 is invented; its town names are of one plausible place, and every
person's フリガナ matches their kanji (Faker's *_pair methods, seeded).
"""

from __future__ import annotations

import datetime as dt
import random

from faker import Faker

from hubcore.db import database, write_transaction
from hubcore.plugins import get_host
from hubcore.rooms.models import Room
from hubcore.sites import operations as site_ops
from hubcore.sites.models import Municipality, Site

DEMO_MUNICIPALITY = "midorino"
TODAY = dt.date(2026, 4, 1)  # ages are reckoned from a fixed day so the demo is stable

SITES = [
    {
        "slug": "midorino-school",
        "name": "旧みどり野小学校 ごちゃまぜ広場",
        "name_kana": "キュウミドリノショウガッコウ ゴチャマゼヒロバ",
        "address": "長野県みどり野町上原1200",
        "description": "2019年に閉校した小学校の教室を使う多世代交流拠点。"
                       "一時預かり、デイサービス、こども食堂が同じ建物で過ごします。",
        "rooms": [
            ("多目的室(旧3年1組)", 30, "2F", "projector,wifi", True, "黒板を残した元教室"),
            ("和室(旧家庭科準備室)", 15, "1F", "tatami,nap_area", False, "午睡スペース"),
            ("調理室", 20, "1F", "kitchen,accessible_toilet", False, "こども食堂・料理教室"),
            ("図書コーナー", 10, "2F", "wifi", True, ""),
            ("相談室", 4, "1F", "", False, "個別相談用。要予約"),
        ],
        "towns": ["上原", "下原", "緑ヶ丘"],
    },
    {
        "slug": "ekimae-engawa",
        "name": "えきまえ商店街 まちの縁側",
        "name_kana": "エキマエショウテンガイ マチノエンガワ",
        "address": "長野県みどり野町栄町2-14",
        "description": "シャッターが下りていた元呉服店を改修した拠点。"
                       "テレワーク、しごとコンビニ、空き家相談の窓口があります。",
        "rooms": [
            ("土間スペース", 20, "1F", "accessible_toilet,wifi", True, "元店舗の売り場"),
            ("小上がり", 8, "1F", "tatami", False, ""),
            ("キッチン", 10, "1F", "kitchen", False, ""),
            ("ワークスペース", 12, "2F", "wifi,projector", True, "コワーキング"),
        ],
        "towns": ["栄町", "本町", "駅前"],
    },
]

# A second, small municipality, so that tenancy shows: みどり野町's users never see it.
NEIGHBOUR = {"slug": "kawabe", "name": "かわべ村", "name_kana": "カワベムラ",
             "site": ("kawabe-hoikuen", "旧かわべ保育園 みんなの家",
                      "キュウカワベホイクエン ミンナノイエ", "長野県かわべ村中組300"),
             "rooms": [("遊戯室", 25, "1F", "accessible_toilet", True, "元保育園の遊戯室"),
                       ("給食室", 8, "1F", "kitchen", False, "")]}

# One account per role; demo passwords, printed by `hubcore demo` and listed in the
# README. Never use them outside a demo.
DEMO_ACCOUNTS = [
    # email, name, role, place (site or municipality slug; None: the platform), password
    ("platform@example.jp", "長野 県子", "platform_admin", None, "demo-platform-2026"),
    ("town@example.jp", "山本 さくら", "municipality_admin", "midorino", "demo-town-2026"),
    ("manager@example.jp", "小林 健一", "site_manager", "midorino-school", "demo-manager-2026"),
    ("staff@example.jp", "高橋 美咲", "staff", "midorino-school", "demo-staff-2026"),
    ("viewer@example.jp", "中村 修", "viewer", "midorino-school", "demo-viewer-2026"),
    ("kawabe@example.jp", "川辺 一郎", "municipality_admin", "kawabe", "demo-kawabe-2026"),
]

# (relationship, age range, sex); each household shape is a list of members.
HOUSEHOLD_SHAPES = [
    [("世帯主", (30, 42), "m"), ("配偶者", (29, 40), "f"), ("子", (0, 5), "x"),
     ("子", (3, 11), "x")],
    [("世帯主", (33, 45), "f"), ("子", (6, 12), "x")],
    [("世帯主", (70, 84), "m"), ("配偶者", (68, 82), "f")],
    [("世帯主", (76, 92), "f")],
    [("世帯主", (38, 50), "m"), ("配偶者", (36, 48), "f"), ("子", (12, 17), "x"),
     ("父", (68, 80), "m"), ("母", (66, 78), "f")],
    [("世帯主", (24, 39), "x")],
    [("世帯主", (28, 36), "m"), ("配偶者", (27, 35), "f"), ("子", (0, 2), "x")],
]


def _person_name(fake: Faker, rng: random.Random, sex: str) -> tuple[str, str]:
    if sex == "x":
        sex = rng.choice("mf")
    kanji, kana, _ = fake.first_name_male_pair() if sex == "m" else fake.first_name_female_pair()
    return kanji, kana


# 斎藤 and 斉藤 are different families, but side by side in a demo they look like a typo.
_VARIANTS = str.maketrans("斉齋齊邊邉濱嶋﨑", "斎斎斎辺辺浜島崎")


def _unused_family(fake: Faker, used: set[str]) -> tuple[str, str]:
    """A family name not yet in the demo, so two households never look like one entered twice."""
    while True:
        kanji, kana, _romaji = fake.last_name_pair()
        plain = kanji.translate(_VARIANTS)
        if plain not in used:
            used.add(plain)
            return kanji, kana


def _emergency_contact(fake: Faker, rng: random.Random, family: str, age: int) -> dict:
    """Whom a hub would call: a grandparent for a child, a grown-up child living
    elsewhere for an elderly person, a parent or sibling for other adults."""
    if age < 18:
        given, relation = fake.first_name_female_pair()[0], "祖母"
        surname = family
    elif age >= 65:
        given, relation = fake.first_name_male_pair()[0], rng.choice(["長男", "次男"])
        surname = family
    else:
        given, relation = fake.first_name_female_pair()[0], rng.choice(["母", "姉", "妹"])
        surname = fake.last_name_pair()[0]
    return {"emergency_contact_name": f"{surname} {given}",
            "emergency_contact_phone": _phone(rng, mobile=True),
            "emergency_contact_relation": relation}


def _phone(rng: random.Random, mobile: bool) -> str:
    # Faker's ja_JP numbers may lack the leading 0; these are shaped like real ones:
    # mobiles 090/080/070, landlines in northern Nagano's 0269 area.
    if mobile:
        return f"0{rng.choice('987')}0-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
    return f"0269-{rng.randint(10, 89)}-{rng.randint(1000, 9999)}"


def _birth_date(rng: random.Random, ages: tuple[int, int]) -> dt.date:
    age = rng.randint(*ages)
    return TODAY - dt.timedelta(days=age * 365 + rng.randint(0, 364))


def load_demo_accounts() -> list[str]:
    """The demo accounts, created where missing (also for a demo loaded before they
    existed). Returns lines for the terminal."""
    from hubcore.auth import operations as auth
    from hubcore.auth.actions import ROLES

    lines = ["demo accounts (demo only — change or delete them before real use):"]
    with database.connection_context(), write_transaction():
        if not Municipality.select().where(Municipality.slug == NEIGHBOUR["slug"]).exists():
            _neighbour()
        for email, name, role, place, password in DEMO_ACCOUNTS:
            user = auth.find_user(email) or auth.create_user(email, name, password)
            scope = ROLES[role]
            site = Site.get(Site.slug == place) if scope == "site" else None
            municipality = (Municipality.get(Municipality.slug == place)
                            if scope == "municipality" else None)
            auth.grant_role(user, role, municipality=municipality, site=site)
            lines.append(f"  {email:<22} {password:<20} {role} {place or ''}")
    return lines


def _neighbour() -> None:
    m = Municipality.create(slug=NEIGHBOUR["slug"], name=NEIGHBOUR["name"],
                            name_kana=NEIGHBOUR["name_kana"], prefecture="長野県")
    slug, name, kana, address = NEIGHBOUR["site"]
    site = Site.create(municipality=m, slug=slug, name=name, name_kana=kana, address=address)
    for order, (room, cap, floor, feats, share, notes) in enumerate(NEIGHBOUR["rooms"]):
        Room.create(site=site, name=room, capacity=cap, floor=floor, features=feats,
                    shareable=share, notes=notes, sort_order=order)


def load_demo() -> str:
    """Create the demo municipality unless it exists, and the demo accounts. Returns a
    summary for the terminal."""
    with database.connection_context():
        loaded = Municipality.select().where(Municipality.slug == DEMO_MUNICIPALITY).exists()
    if loaded:
        return "\n".join(["demo data already loaded (municipality 'midorino')",
                          *load_demo_accounts()])
    summary = _load_demo()
    return "\n".join([summary, *load_demo_accounts()])


def _load_demo() -> str:
    from hubcore.people.operations import create_household_from_parts, create_person_from_parts

    host = get_host()
    with database.connection_context():
        fake = Faker("ja_JP")
        fake.seed_instance(2026)
        rng = random.Random(2026)
        with write_transaction():
            m = Municipality.create(slug=DEMO_MUNICIPALITY, name="みどり野町",
                                    name_kana="ミドリノマチ", prefecture="長野県")
            sites = []
            total_people = 0
            used_families: set[str] = set()
            for spec in SITES:
                site = Site.create(municipality=m, slug=spec["slug"], name=spec["name"],
                                   name_kana=spec["name_kana"], address=spec["address"],
                                   description=spec["description"])
                for order, (name, cap, floor, feats, share, notes) in enumerate(spec["rooms"]):
                    Room.create(site=site, name=name, capacity=cap, floor=floor, features=feats,
                                shareable=share, notes=notes, sort_order=order)
                people = []
                for i in range(15):
                    shape = HOUSEHOLD_SHAPES[i % len(HOUSEHOLD_SHAPES)]
                    family, family_kana = _unused_family(fake, used_families)
                    town = spec["towns"][i % len(spec["towns"])]
                    address = f"長野県みどり野町{town}{rng.randint(1, 30)}-{rng.randint(1, 20)}"
                    household = create_household_from_parts(
                        site, name=f"{family}家", name_kana=f"{family_kana}ケ",
                        postal_code=f"399-{4300 + i:04d}", address=address,
                        phone=_phone(rng, mobile=False))
                    given_here: set[str] = set()
                    for relationship, ages, sex in shape:
                        if len(people) >= 30:
                            break
                        given, given_kana = _person_name(fake, rng, sex)
                        while given in given_here:  # a father and son both 智也 reads as a typo
                            given, given_kana = _person_name(fake, rng, sex)
                        given_here.add(given)
                        adult = ages[0] >= 18
                        people.append(create_person_from_parts(
                            site, household=household, family_name=family, given_name=given,
                            family_name_kana=family_kana, given_name_kana=given_kana,
                            birth_date=_birth_date(rng, ages), relationship=relationship,
                            phone=_phone(rng, mobile=True) if adult else "",
                            email=(f"{fake.user_name()}@example.jp" if adult and rng.random() < .5
                                   else ""),
                            **_emergency_contact(fake, rng, family, ages[0]),
                        ))
                    if len(people) >= 30:
                        break
                total_people += len(people)
                sites.append((site, people))
            for name in host.optional_names():
                site_ops.set_municipality_plugin(m, name, True)
                for site, _ in sites:
                    site_ops.set_site_plugin(site, name, True)
            for site, people in sites:
                site._hooks = None
                site._enabled = None
                site.hooks.load_demo_data(site=site, people=people)
    lines = [f"demo municipality みどり野町 (midorino): {len(sites)} sites, {total_people} people"]
    lines += [f"  /s/{s.slug}/  {s.name}" for s, _ in sites]
    return "\n".join(lines)
