"""Models only the API needs; rooms, people and households reuse their areas' schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from hubcore.i18n import N_
from hubcore.people.schemas import HouseholdIn, PersonOut


class ApiError(BaseModel):
    """Every error answer: a stable code, a message in the request's language, and for
    422 one message per refused field."""

    error: str = Field(description="not_found, invalid, bad_request, unsupported_media_type, "
                                   "too_large, method_not_allowed or internal")
    message: str = ""
    fields: dict[str, str] = Field(default_factory=dict)


class ApiIndex(BaseModel):
    name: str
    version: str
    openapi: str
    links: dict[str, str]


class MunicipalityOut(BaseModel):
    slug: str
    name: str
    name_kana: str
    prefecture: str


class SiteOut(BaseModel):
    slug: str
    name: str
    name_kana: str
    municipality: str = Field(description="The municipality's slug")
    address: str
    description: str
    timezone: str
    links: dict[str, str]


class PluginLabels(BaseModel):
    ja: str
    en: str


class PluginOut(BaseModel):
    name: str
    labels: PluginLabels
    version: str
    requires: list[str]
    core: bool = Field(description="Part of the core: on at every site, never switched off")
    description: str


class SitePluginOut(PluginOut):
    enabled: bool = Field(description="On for this site (and allowed by its municipality)")


class PersonPage(BaseModel):
    items: list[PersonOut]
    total: int = Field(description="How many people match, over all pages")
    limit: int
    offset: int


class HouseholdWithMembersIn(HouseholdIn):
    member_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(
        None, title=N_("Members"),
        description="When given, the household's complete list of members: people listed "
                    "move into it, members not listed leave it. Omit to leave members as "
                    "they are.")


# --- query parameters (become `parameters` in the OpenAPI document) -------------------


class SiteQuery(BaseModel):
    municipality: str | None = Field(None, title=N_("Municipality"),
                                     description="Only the sites of this municipality (slug)")


class RoomQuery(BaseModel):
    include_retired: bool = Field(False, title=N_("Include retired rooms"))


class PeopleQuery(BaseModel):
    q: str = Field("", title=N_("Search"), max_length=100,
                   description="Part of a name in kanji or kana; hiragana, katakana and "
                               "half-width kana match each other and spaces are ignored")
    limit: int = Field(50, title=N_("Limit"), ge=1, le=200)
    offset: int = Field(0, title=N_("Offset"), ge=0, le=10**9)


class HouseholdQuery(BaseModel):
    q: str = Field("", title=N_("Search"), max_length=100,
                   description="Part of the household's name, in kanji or kana")
