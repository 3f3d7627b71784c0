"""JSON API under /api/v1/: thin handlers over the areas' operations.

Each handler takes an :class:`ApiCall` (site loaded, query and body parsed) and
returns a model; :mod:`hubcore.api.http` turns that, NotFound and Invalid into
answers. The OpenAPI document is built from OPERATIONS, the same list the routes are.

Every operation names its permission decision (``action=``): callers send an API
token as ``Authorization: Bearer …``; a token sees what its user sees, limited to
one site and to reading where the token says so.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount

import hubcore
from hubcore.api.http import API_PREFIX, ApiCall, Operation, routes_for
from hubcore.api.models import (
    ApiIndex,
    HouseholdQuery,
    HouseholdWithMembersIn,
    MunicipalityOut,
    PeopleQuery,
    PersonPage,
    PluginLabels,
    PluginOut,
    RoomQuery,
    SiteOut,
    SitePluginOut,
    SiteQuery,
)
from hubcore.billing.api import billing_operations
from hubcore.calendar.api import calendar_operations
from hubcore.db import write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.forms import validate
from hubcore.i18n import gettext as _
from hubcore.people import operations as people
from hubcore.people.models import Household, Person
from hubcore.people.schemas import HouseholdOut, PersonIn, PersonOut
from hubcore.plugins import PluginMeta, get_host
from hubcore.rooms import operations as rooms
from hubcore.rooms.schemas import RoomIn, RoomOut
from hubcore.sites import operations as sites
from hubcore.sites.models import Municipality, Site

# --- meta ------------------------------------------------------------------------------


def api_index(call: ApiCall) -> ApiIndex:
    return ApiIndex(name="hubcore", version=hubcore.__version__,
                    openapi=call.url("openapi.json"),
                    links={name: call.url(name)
                           for name in ("municipalities", "sites", "plugins")})


def openapi_document(call: ApiCall) -> JSONResponse:
    return JSONResponse(openapi())


@functools.cache
def openapi() -> dict[str, Any]:
    """The document, built once per process (the operations do not change at run time)."""
    from hubcore.api.openapi import build_document

    return build_document(OPERATIONS)


# --- sites -----------------------------------------------------------------------------


def _municipality_out(m: Municipality) -> MunicipalityOut:
    return MunicipalityOut(slug=m.slug, name=m.name, name_kana=m.name_kana,
                           prefecture=m.prefecture)


def _site_out(call: ApiCall, s: Site) -> SiteOut:
    # get_site and list_sites join the municipality, so this costs no query.
    return SiteOut(slug=s.slug, name=s.name, name_kana=s.name_kana,
                   municipality=s.municipality.slug, address=s.address,
                   description=s.description, timezone=s.timezone,
                   links={name: call.url("sites", s.slug, name)
                          for name in ("rooms", "people", "households", "plugins")})


def municipality_list(call: ApiCall) -> list[MunicipalityOut]:
    return [_municipality_out(m) for m in sites.list_municipalities(call.principal)]


def site_list(call: ApiCall) -> list[SiteOut]:
    municipality = None
    if call.query.municipality:
        try:
            municipality = sites.get_municipality(call.query.municipality)
            if not call.principal.can_see_municipality(municipality):
                raise NotFound(municipality.slug)
        except NotFound:
            # A filter naming nothing is a mistake to report, not an empty list.
            raise Invalid({"municipality": _("No such municipality.")}) from None
    return [_site_out(call, s) for s in sites.list_sites(municipality,
                                                         visible_to=call.principal)]


def site_detail(call: ApiCall) -> SiteOut:
    return _site_out(call, call.site)


# --- rooms -----------------------------------------------------------------------------


def room_list(call: ApiCall) -> list[RoomOut]:
    found = rooms.list_rooms(call.site, include_retired=call.query.include_retired)
    return [rooms.room_out(r, call.site_slug) for r in found]


def room_create(call: ApiCall) -> RoomOut:
    room = rooms.create_room(call.site, validate(RoomIn, call.body))
    call.headers["Location"] = call.url("sites", call.site_slug, "rooms", room.id)
    return rooms.room_out(room, call.site_slug)


def _room(call: ApiCall):
    return rooms.get_room(call.site, call.path_id("room_id"))


def room_detail(call: ApiCall) -> RoomOut:
    return rooms.room_out(_room(call), call.site_slug)


def room_update(call: ApiCall) -> RoomOut:
    room = _room(call)
    current = rooms.room_out(room, call.site_slug).model_dump(include=set(RoomIn.model_fields))
    room = rooms.update_room(room, validate(RoomIn, {**current, **call.body}))
    return rooms.room_out(room, call.site_slug)


def room_retire(call: ApiCall) -> RoomOut:
    return rooms.room_out(rooms.set_retired(_room(call), True), call.site_slug)


def room_restore(call: ApiCall) -> RoomOut:
    return rooms.room_out(rooms.set_retired(_room(call), False), call.site_slug)


# --- people ----------------------------------------------------------------------------


def person_list(call: ApiCall) -> PersonPage:
    q = call.query
    found, total = people.search_people(call.site, query=q.q, limit=q.limit, offset=q.offset)
    return PersonPage(items=[people.person_out(p, call.site_slug) for p in found], total=total,
                      limit=q.limit, offset=q.offset)


def person_create(call: ApiCall) -> PersonOut:
    person = people.create_person(call.site, validate(PersonIn, call.body))
    call.headers["Location"] = call.url("sites", call.site_slug, "people", person.id)
    return people.person_out(person, call.site_slug)


def person_detail(call: ApiCall) -> PersonOut:
    person = people.get_person(call.site, call.path_id("person_id"))
    return people.person_out(person, call.site_slug)


def person_update(call: ApiCall) -> PersonOut:
    person = people.get_person(call.site, call.path_id("person_id"))
    current = people.person_out(person, call.site_slug).model_dump(
        include=set(PersonIn.model_fields))
    person = people.update_person(call.site, person, validate(PersonIn, {**current, **call.body}))
    return people.person_out(person, call.site_slug)


# --- households ------------------------------------------------------------------------


def _member_ids(households: list[Household]) -> dict[int, list[int]]:
    """Members of many households in one query, ordered as people.members() orders them."""
    out: dict[int, list[int]] = {h.id: [] for h in households}
    if not out:
        return out
    rows = (Person.select(Person.id, Person.household)
            .where(Person.household.in_(list(out)))
            .order_by(Person.birth_date.asc(nulls="LAST"), Person.id).tuples())
    for person_id, household_id in rows:
        out[household_id].append(person_id)
    return out


def _household_out(call: ApiCall, h: Household) -> HouseholdOut:
    return people.household_out(h, call.site_slug, _member_ids([h])[h.id])


def _check_members(site: Site, ids: list[int]) -> dict[int, Person]:
    """The people named, all of this site, or Invalid on member_ids (before any write)."""
    wanted = list(dict.fromkeys(ids))
    found = {p.id: p for p in Person.select().where((Person.site == site)
                                                    & Person.id.in_(wanted))} if wanted else {}
    missing = [i for i in wanted if i not in found]
    if missing:
        # Same words for another site's person as for none: nothing is revealed.
        raise Invalid({"member_ids": _("Members: no such person at this site: {ids}.").format(
            ids=", ".join(str(i) for i in missing))})
    return found


def _set_members(site: Site, household: Household, wanted: dict[int, Person]) -> None:
    # Through set_household, so plugins hear person_changed for everyone who moves.
    for p in people.members(household):
        if p.id not in wanted:
            people.set_household(site, p, None)
    for p in wanted.values():
        if p.household_id != household.id:
            people.set_household(site, p, household)


def household_list(call: ApiCall) -> list[HouseholdOut]:
    found = people.list_households(call.site, query=call.query.q)
    members = _member_ids(found)
    return [people.household_out(h, call.site_slug, members[h.id]) for h in found]


def household_create(call: ApiCall) -> HouseholdOut:
    data = validate(HouseholdWithMembersIn, call.body)
    with write_transaction():  # the household and its members, or nothing
        wanted = _check_members(call.site, data.member_ids or [])
        h = people.create_household(call.site, data)
        _set_members(call.site, h, wanted)
    call.headers["Location"] = call.url("sites", call.site_slug, "households", h.id)
    return _household_out(call, h)


def _household(call: ApiCall) -> Household:
    return people.get_household(call.site, call.path_id("household_id"))


def household_detail(call: ApiCall) -> HouseholdOut:
    return _household_out(call, _household(call))


def household_update(call: ApiCall) -> HouseholdOut:
    h = _household(call)
    current = {f: getattr(h, f) for f in HouseholdWithMembersIn.model_fields if f != "member_ids"}
    data = validate(HouseholdWithMembersIn, {**current, **call.body})
    with write_transaction():
        wanted = _check_members(call.site, data.member_ids) if data.member_ids is not None else None
        h = people.update_household(h, data)
        if wanted is not None:
            _set_members(call.site, h, wanted)
    return _household_out(call, h)


# --- plugins ---------------------------------------------------------------------------


def _plugin_fields(meta: PluginMeta) -> dict[str, Any]:
    return {"name": meta.name, "labels": PluginLabels(ja=meta.label_ja, en=meta.label_en),
            "version": meta.version, "requires": list(meta.requires), "core": meta.core,
            "description": meta.description}


def plugin_list(call: ApiCall) -> list[PluginOut]:
    return [PluginOut(**_plugin_fields(p.meta)) for p in get_host().ordered()]


def site_plugin_list(call: ApiCall) -> list[SitePluginOut]:
    on = sites.enabled_plugins(call.site)
    return [SitePluginOut(**_plugin_fields(p.meta), enabled=p.meta.core or p.meta.name in on)
            for p in get_host().ordered()]


# --- the table -------------------------------------------------------------------------

_S = "/sites/{site}"

OPERATIONS: list[Operation] = [
    Operation("GET", "/", api_index, "getApiIndex", "The API's entry point, with links",
              "meta", ApiIndex, action="public"),
    Operation("GET", "/openapi.json", openapi_document, "getOpenApiDocument",
              "This OpenAPI document", "meta", None, action="public"),
    Operation("GET", "/municipalities", municipality_list, "listMunicipalities",
              "List municipalities", "sites", MunicipalityOut, many=True, action="login"),
    Operation("GET", "/sites", site_list, "listSites", "List sites", "sites", SiteOut,
              many=True, query=SiteQuery, action="login"),
    Operation("GET", _S, site_detail, "getSite", "Get a site", "sites", SiteOut,
              action="site.view"),
    Operation("GET", f"{_S}/rooms", room_list, "listRooms", "List a site's rooms", "rooms",
              RoomOut, many=True, query=RoomQuery, action="rooms.view"),
    Operation("POST", f"{_S}/rooms", room_create, "createRoom", "Add a room", "rooms", RoomOut,
              status=201, body=RoomIn,
              description="Room names are unique per site, retired rooms included.",
              action="rooms.manage"),
    Operation("GET", f"{_S}/rooms/{{room_id}}", room_detail, "getRoom", "Get a room", "rooms",
              RoomOut, action="rooms.view"),
    Operation("PATCH", f"{_S}/rooms/{{room_id}}", room_update, "updateRoom", "Change a room",
              "rooms", RoomOut, body=RoomIn, partial=True, action="rooms.manage"),
    Operation("POST", f"{_S}/rooms/{{room_id}}/retire", room_retire, "retireRoom",
              "Retire a room (hidden from lists and new bookings, history kept)", "rooms",
              RoomOut, action="rooms.manage"),
    Operation("POST", f"{_S}/rooms/{{room_id}}/restore", room_restore, "restoreRoom",
              "Bring a retired room back", "rooms", RoomOut, action="rooms.manage"),
    Operation("GET", f"{_S}/people", person_list, "listPeople",
              "List or search a site's people, in 五十音 order", "people", PersonPage,
              query=PeopleQuery, action="people.view"),
    Operation("POST", f"{_S}/people", person_create, "createPerson", "Register a person",
              "people", PersonOut, status=201, body=PersonIn, action="people.edit"),
    Operation("GET", f"{_S}/people/{{person_id}}", person_detail, "getPerson", "Get a person",
              "people", PersonOut, action="people.view"),
    Operation("PATCH", f"{_S}/people/{{person_id}}", person_update, "updatePerson",
              "Change a person", "people", PersonOut, body=PersonIn, partial=True,
              action="people.edit"),
    Operation("GET", f"{_S}/households", household_list, "listHouseholds",
              "List a site's households, in 五十音 order", "households", HouseholdOut, many=True,
              query=HouseholdQuery, action="people.view"),
    Operation("POST", f"{_S}/households", household_create, "createHousehold",
              "Register a household", "households", HouseholdOut, status=201,
              body=HouseholdWithMembersIn, action="people.edit"),
    Operation("GET", f"{_S}/households/{{household_id}}", household_detail, "getHousehold",
              "Get a household with its members' ids", "households", HouseholdOut,
              action="people.view"),
    Operation("PATCH", f"{_S}/households/{{household_id}}", household_update, "updateHousehold",
              "Change a household or its members", "households", HouseholdOut,
              body=HouseholdWithMembersIn, partial=True,
              action="people.edit"),
    Operation("GET", "/plugins", plugin_list, "listPlugins", "List installed plugins",
              "plugins", PluginOut, many=True, action="login"),
    Operation("GET", f"{_S}/plugins", site_plugin_list, "listSitePlugins",
              "List installed plugins, with whether each is on for this site", "plugins",
              SitePluginOut, many=True, action="site.view"),
    *billing_operations(),
    *calendar_operations(),
]


def api_routes() -> list[BaseRoute]:
    return [Mount(API_PREFIX, routes=routes_for(OPERATIONS))]
