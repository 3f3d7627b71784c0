"""What a person or household form or API request may contain."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hubcore.forms import nfkc
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.kana import to_katakana

# Katakana, the long-vowel mark, the middle dot and spaces: what フリガナ may hold.
_KANA = re.compile(r"^[\u30A0-\u30FF\u3000 ]+$")
# Domestic numbers start with 0 (0263-12-3456, 090-1234-5678); international with +.
_PHONE = re.compile(r"^(0[0-9-]{8,14}|\+[1-9][0-9-]{7,15})$")
_POSTAL = re.compile(r"^\d{3}-?\d{4}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _text(v):
    return unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v


def _title(model: type[BaseModel], info: ValidationInfo) -> str:
    """The field's title (an English msgid), which messages name the field by."""
    return model.model_fields[info.field_name].title or info.field_name


def _kana(v, label: str):
    if not isinstance(v, str):
        return v
    k = to_katakana(v).strip()
    if k and not _KANA.match(k):
        raise ValueError(_("{label} must be written in kana.").format(label=_(label)))
    return k


def phone_number(v, label: str):
    """A phone number as written in Japan (half-width, hyphens), or ValueError naming the
    field ``label``: the rule for every phone field, core's and plugins'."""
    v = nfkc(v)
    if v and not _PHONE.match(v.replace("(", "-").replace(")", "-").replace("--", "-")):
        raise ValueError(_("{label} must be a phone number such as 0263-12-3456.").format(
            label=_(label)))
    return v


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    family_name: str = Field(title=N_("Family name"), min_length=1, max_length=50)
    given_name: str = Field(title=N_("Given name"), min_length=1, max_length=50)
    family_name_kana: str = Field(title=N_("Family name (kana)"), min_length=1, max_length=100)
    given_name_kana: str = Field(title=N_("Given name (kana)"), min_length=1, max_length=100)
    birth_date: dt.date | None = Field(None, title=N_("Birth date"))
    household_id: int | None = Field(None, title=N_("Household"), ge=1, le=2**63 - 1)
    relationship: str = Field("", title=N_("Relationship in the household"), max_length=30)
    phone: str = Field("", title=N_("Phone"), max_length=20)
    email: str = Field("", title=N_("Email"), max_length=200)
    emergency_contact_name: str = Field("", title=N_("Emergency contact"), max_length=100)
    emergency_contact_phone: str = Field("", title=N_("Emergency contact phone"), max_length=20)
    emergency_contact_relation: str = Field("", title=N_("Emergency contact relationship"),
                                            max_length=30)
    notes: str = Field("", title=N_("Notes"), max_length=2000)

    _names = field_validator("family_name", "given_name", "relationship",
                             "emergency_contact_name", "emergency_contact_relation",
                             mode="before")(lambda v: _text(v))

    @field_validator("family_name_kana", "given_name_kana", mode="before")
    @classmethod
    def _kana_fields(cls, v, info: ValidationInfo):
        return _kana(v, _title(cls, info))

    @field_validator("birth_date", "household_id", mode="before")
    @classmethod
    def _half_width(cls, v):
        return nfkc(v)

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth(cls, v):
        if v is not None and not (dt.date(1900, 1, 1) <= v <= dt.date.today()):
            raise ValueError(_("Birth date must be between 1900 and today."))
        return v

    @field_validator("phone", "emergency_contact_phone", mode="before")
    @classmethod
    def _phones(cls, v, info: ValidationInfo):
        return phone_number(v, _title(cls, info))

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, v):
        v = nfkc(v)
        if v and not _EMAIL.match(v):
            raise ValueError(_("Email must be an address such as name@example.jp."))
        return v


class HouseholdIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(title=N_("Household name"), min_length=1, max_length=100)
    name_kana: str = Field(title=N_("Household name (kana)"), min_length=1, max_length=200)
    postal_code: str = Field("", title=N_("Postal code"), max_length=8)
    address: str = Field("", title=N_("Address"), max_length=300)
    phone: str = Field("", title=N_("Phone"), max_length=20)

    _name = field_validator("name", "address", mode="before")(lambda v: _text(v))

    @field_validator("name_kana", mode="before")
    @classmethod
    def _kana(cls, v, info: ValidationInfo):
        return _kana(v, _title(cls, info))

    @field_validator("postal_code", mode="before")
    @classmethod
    def _postal(cls, v):
        v = nfkc(v).replace("〒", "").strip() if isinstance(v, str) else v
        if v and not _POSTAL.match(v):
            raise ValueError(_("Postal code must be seven digits such as 399-4301."))
        return f"{v[:3]}-{v[-4:]}" if v else v

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v, info: ValidationInfo):
        return phone_number(v, _title(cls, info))


class MemberIn(BaseModel):
    """Adding an existing person of the site to a household."""

    model_config = ConfigDict(extra="forbid")

    person_id: int = Field(title=N_("Person"))
    relationship: str = Field("", title=N_("Relationship in the household"), max_length=30)

    _relationship = field_validator("relationship", mode="before")(lambda v: _text(v))

    @field_validator("person_id", mode="before")
    @classmethod
    def _half_width(cls, v):
        return nfkc(v)


class PersonOut(BaseModel):
    id: int
    site: str
    household_id: int | None
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: dt.date | None
    relationship: str
    phone: str
    email: str
    emergency_contact_name: str
    emergency_contact_phone: str
    emergency_contact_relation: str
    notes: str


class HouseholdOut(BaseModel):
    id: int
    site: str
    name: str
    name_kana: str
    postal_code: str
    address: str
    phone: str
    member_ids: list[int]
