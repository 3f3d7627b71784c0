"""What a room form or API request may contain."""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hubcore.forms import nfkc
from hubcore.i18n import N_
from hubcore.rooms.models import ROOM_FEATURES

Feature = Literal["kitchen", "tatami", "nap_area", "accessible_toilet", "projector", "wifi"]
assert set(Feature.__args__) == set(ROOM_FEATURES)


class RoomIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(title=N_("Room name"), min_length=1, max_length=100)
    capacity: int = Field(title=N_("Capacity"), ge=1, le=1000)
    floor: str = Field("", title=N_("Floor"), max_length=20)
    features: list[Feature] = Field(default_factory=list, title=N_("Features"))
    shareable: bool = Field(False, title=N_("Can be shared by two groups at once"))
    notes: str = Field("", title=N_("Notes"), max_length=2000)
    sort_order: int = Field(0, title=N_("Display order"), ge=0, le=9999)

    @field_validator("name", "floor", mode="before")
    @classmethod
    def _normalise_text(cls, v):
        # 会議室Ａ and 会議室A are the same room to a person; store one spelling.
        return unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v

    @field_validator("capacity", "sort_order", mode="before")
    @classmethod
    def _half_width(cls, v):
        return nfkc(v)

    @field_validator("shareable", mode="before")
    @classmethod
    def _checkbox(cls, v):
        # A ticked HTML checkbox sends "on"; anything else goes to pydantic's bool parsing.
        return True if v == "on" else v


class RoomOut(BaseModel):
    id: int
    site: str
    name: str
    capacity: int
    floor: str
    features: list[str]
    shareable: bool
    notes: str
    sort_order: int
    retired: bool
