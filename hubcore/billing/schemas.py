"""What a billing settings or organisation form may contain."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hubcore.billing import registration
from hubcore.forms import nfkc
from hubcore.i18n import N_
from hubcore.i18n import gettext as _


def _text(v):
    return unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v


def _checkbox(v):
    return True if v == "on" else v


class BillingSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    issuer_name: str = Field("", title=N_("Issuer name"), max_length=200)
    issuer_address: str = Field("", title=N_("Issuer address"), max_length=300)
    issuer_phone: str = Field("", title=N_("Issuer phone"), max_length=20)
    # Before registration_number: its validator needs it (the check digit is corporate).
    issuer_is_corporation: bool = Field(True, title=N_("The issuer is a corporation"))
    registration_number: str = Field("", title=N_("Registration number (T + 13 digits)"),
                                     max_length=40)
    bank_account: str = Field("", title=N_("Bank account for transfers"), max_length=1000)
    due_rule: Literal["end_of_next_month", "days_after_issue"] = Field(
        "end_of_next_month", title=N_("Due date"))
    due_days: int = Field(30, title=N_("Days after issue"), ge=0, le=365)
    number_prefix: str = Field("", title=N_("Invoice number prefix"), max_length=10,
                               pattern=r"^[A-Za-z0-9\-]*$")

    _text_fields = field_validator("issuer_name", "issuer_address", "number_prefix",
                                   mode="before")(_text)
    _numbers = field_validator("issuer_phone", "due_days", mode="before")(nfkc)
    _box = field_validator("issuer_is_corporation", mode="before")(_checkbox)

    @field_validator("registration_number", mode="before")
    @classmethod
    def _t_number(cls, v, info: ValidationInfo):
        if not isinstance(v, str) or not v.strip():
            return ""
        corporation = info.data.get("issuer_is_corporation", True)
        error = registration.registration_number_error(v, corporation)
        if error:
            raise ValueError(_(error))
        return registration.normalise(v)


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(title=N_("Name"), min_length=1, max_length=200)
    name_kana: str = Field("", title=N_("Name (kana)"), max_length=300)
    kind: Literal["company", "insurer", "municipality", "other"] = Field(
        "company", title=N_("Kind"))
    department: str = Field("", title=N_("Department or contact"), max_length=200)
    postal_code: str = Field("", title=N_("Postal code"), max_length=8)
    address: str = Field("", title=N_("Address"), max_length=300)
    phone: str = Field("", title=N_("Phone"), max_length=20)
    registration_number: str = Field("", title=N_("Registration number (T + 13 digits)"),
                                     max_length=40)

    _text_fields = field_validator("name", "name_kana", "department", "address",
                                   mode="before")(_text)
    _numbers = field_validator("postal_code", "phone", mode="before")(nfkc)

    @field_validator("registration_number", mode="before")
    @classmethod
    def _t_number(cls, v):
        if not isinstance(v, str) or not v.strip():
            return ""
        # Another business's number: its kind is unknown here, so the format only.
        error = registration.registration_number_error(v, corporation=False)
        if error:
            raise ValueError(_(error))
        return registration.normalise(v)


# The biggest amount a form or the API takes: far above any hub's bill, far below 2**63.
MAX_YEN = 100_000_000


class AdjustmentIn(BaseModel):
    """A line added by hand to a draft: a correction, a discount (negative) or an extra."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(title=N_("Description"), min_length=1, max_length=300)
    amount: int = Field(title=N_("Amount (yen, tax included)"), ge=-MAX_YEN, le=MAX_YEN)
    tax: Literal["standard", "reduced", "non_taxable"] = Field("standard", title=N_("Tax rate"))

    _text_fields = field_validator("description", mode="before")(_text)
    _numbers = field_validator("amount", mode="before")(nfkc)


class PaymentIn(BaseModel):
    """Money received, as the invoice page's form and the API take it."""

    model_config = ConfigDict(extra="forbid")

    amount: int = Field(title=N_("Amount received (yen)"), ge=-MAX_YEN, le=MAX_YEN,
                        description="Yen; a part payment is fine, a negative amount is a refund")
    method: str = Field(title=N_("Payment method"), min_length=1, max_length=40,
                        description="A code from the payment methods (cash, bank_transfer, "
                                    "direct_debit or a plugin's)")
    received_on: dt.date = Field(title=N_("Received on"))
    reference: str = Field("", title=N_("Reference (transfer name, receipt number)"),
                           max_length=200)
    note: str = Field("", title=N_("Note"), max_length=2000)

    _text_fields = field_validator("reference", "note", mode="before")(_text)
    _numbers = field_validator("amount", "received_on", mode="before")(nfkc)
