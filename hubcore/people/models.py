"""People and households. A person's ties to programs live in each plugin's tables."""

from __future__ import annotations

import datetime as dt

import peewee

from hubcore.db import BaseModel, utcnow
from hubcore.sites.models import Site


class Household(BaseModel):
    """A household: the payer of a family's bills, registered at a site."""

    site = peewee.ForeignKeyField(Site, backref="households", on_delete="RESTRICT")
    name = peewee.CharField(max_length=100)  # e.g. 佐藤家
    name_kana = peewee.CharField(max_length=200)
    kana_key = peewee.CharField(max_length=200, index=True)  # 五十音 sort key
    postal_code = peewee.CharField(max_length=8, default="")
    address = peewee.CharField(max_length=300, default="")
    phone = peewee.CharField(max_length=20, default="")
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "household"


class Person(BaseModel):
    site = peewee.ForeignKeyField(Site, backref="people", on_delete="RESTRICT")
    household = peewee.ForeignKeyField(
        Household, backref="members", null=True, on_delete="SET NULL"
    )
    family_name = peewee.CharField(max_length=50)
    given_name = peewee.CharField(max_length=50)
    family_name_kana = peewee.CharField(max_length=100)
    given_name_kana = peewee.CharField(max_length=100)
    # Normalised full-width katakana of family+given name: 五十音 order and kana search.
    kana_key = peewee.CharField(max_length=200, index=True)
    # Kanji and kana without spaces, for search by either.
    search_text = peewee.CharField(max_length=400)
    birth_date = peewee.DateField(null=True)
    relationship = peewee.CharField(max_length=30, default="")  # 続柄 in the household
    phone = peewee.CharField(max_length=20, default="")
    email = peewee.CharField(max_length=200, default="")
    emergency_contact_name = peewee.CharField(max_length=100, default="")
    emergency_contact_phone = peewee.CharField(max_length=20, default="")
    emergency_contact_relation = peewee.CharField(max_length=30, default="")
    notes = peewee.TextField(default="")
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "person"

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}"

    def age_on(self, day: dt.date) -> int | None:
        return age_on(self.birth_date, day)


def age_on(birth: dt.date | None, day: dt.date) -> int | None:
    """Completed years on ``day`` (a birthday counts from the day itself)."""
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


MODELS = [Household, Person]
