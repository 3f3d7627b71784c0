"""What the form for a new notice may contain."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hubcore.forms import nfkc
from hubcore.i18n import N_


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Titles are English message ids, translated when an error message names the field.
    title: str = Field(title=N_("Title"), min_length=1, max_length=100)
    body: str = Field("", title=N_("Text"), max_length=2000)
    show_until: dt.date | None = Field(None, title=N_("Show until"))
    pinned: bool = Field(False, title=N_("Pin to the top"))

    @field_validator("title", "body", mode="before")
    @classmethod
    def _strip(cls, v):
        # No NFKC here: （金） and ～ in a Japanese title are meant as typed.
        return v.strip() if isinstance(v, str) else v

    @field_validator("show_until", mode="before")
    @classmethod
    def _half_width(cls, v):
        return nfkc(v)  # ２０２６－０４－０３ → 2026-04-03

    @field_validator("pinned", mode="before")
    @classmethod
    def _checkbox(cls, v):
        # A ticked HTML checkbox sends "on"; anything else goes to pydantic's bool parsing.
        return True if v == "on" else v
