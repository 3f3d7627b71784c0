"""HTTP for people and households: parse, call operations, render. htmx gets fragments."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubcore.auth.guard import requires
from hubcore.errors import Invalid
from hubcore.forms import validate
from hubcore.people import operations as ops
from hubcore.people.models import Household, Person
from hubcore.people.schemas import HouseholdIn, MemberIn, PersonIn
from hubcore.sites.models import Site
from hubcore.web import is_htmx, read_form, redirect, render, site_url, writes_on_read

PAGE_SIZE = 50

PERSON_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana",
                 "relationship", "phone", "email", "emergency_contact_name",
                 "emergency_contact_phone", "emergency_contact_relation", "notes")
HOUSEHOLD_FIELDS = ("name", "name_kana", "postal_code", "address", "phone")


def _partial(request: Request) -> bool:
    # htmx restoring a page missing from its history cache needs the whole page.
    return is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


# --- people -----------------------------------------------------------------


@requires("people.view")
def person_list(request: Request) -> Response:
    site = request.state.site
    q = request.query_params.get("q", "").strip()
    row = request.query_params.get("row", "")
    row = row if row in {label for label, _, _ in ops.KANA_ROWS} else ""
    page = _page_number(request.query_params.get("page"))
    people, total = ops.search_people(site, q, row, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:  # a stale link after people were removed: show the last page
        page = pages
        people, total = ops.search_people(site, q, row, limit=PAGE_SIZE,
                                          offset=(page - 1) * PAGE_SIZE)
    base = site_url(site, "people")

    def page_url(n: int) -> str:
        params = {k: v for k, v in (("q", q), ("row", row)) if v}
        if n > 1:
            params["page"] = str(n)
        return base + ("?" + urlencode(params) if params else "")

    ctx = {
        "people": people, "total": total, "q": q, "row": row, "page": page, "pages": pages,
        "first_index": (page - 1) * PAGE_SIZE + 1 if total else 0,
        "last_index": (page - 1) * PAGE_SIZE + len(people),
        "prev_url": page_url(page - 1) if page > 1 else None,
        "next_url": page_url(page + 1) if page < pages else None,
        "kana_rows": [label for label, _, _ in ops.KANA_ROWS],
        "today": ops.site_today(site), "nav": "people",
    }
    template = "people/_results.html" if _partial(request) else "people/list.html"
    # The same URL answers with a fragment or a page: caches must keep them apart.
    return render(request, template, ctx, headers={"Vary": "HX-Request"})


def _person_values(person: Person) -> dict[str, Any]:
    values: dict[str, Any] = {f: getattr(person, f) for f in PERSON_FIELDS}
    values["birth_date"] = person.birth_date.isoformat() if person.birth_date else ""
    values["household_id"] = person.household_id or ""
    return values


def _person_form(request: Request, person: Person | None, values: dict[str, Any],
                 errors: dict[str, str], status_code: int = 200) -> Response:
    site = request.state.site
    return render(request, "people/person_form.html", {
        "person": person, "values": values, "errors": errors,
        "households": ops.list_households(site), "relationships": ops.RELATIONSHIPS,
        "today": ops.site_today(site), "nav": "people",
    }, status_code=status_code)


@requires("people.edit")
def person_new(request: Request) -> Response:
    site = request.state.site
    if request.method == "GET":
        # "Add a new person to this household" links here with ?household=<id>.
        return _person_form(request, None, {"household_id": request.query_params.get(
            "household", "")}, {})
    data = read_form(request)
    try:
        person = ops.create_person(site, validate(PersonIn, data))
    except Invalid as exc:
        return _person_form(request, None, data, exc.errors, status_code=422)
    return redirect(site_url(site, "people", person.id), request)


@requires("people.view")
@writes_on_read  # plugins' panels log sensitive reads (allergies, care level)
def person_detail(request: Request) -> Response:
    site = request.state.site
    person = ops.get_person(site, request.path_params["person_id"])
    panels = [w for batch in site.hooks.person_panels(site=site, person=person, request=request)
              for w in batch]
    panels.sort(key=lambda w: (w.order, w.title))
    return render(request, "people/detail.html", {
        "person": person, "panels": panels, "today": ops.site_today(site), "nav": "people"})


@requires("people.edit")
def person_edit(request: Request) -> Response:
    site = request.state.site
    person = ops.get_person(site, request.path_params["person_id"])
    if request.method == "GET":
        return _person_form(request, person, _person_values(person), {})
    data = read_form(request)
    try:
        ops.update_person(site, person, validate(PersonIn, data))
    except Invalid as exc:
        return _person_form(request, person, data, exc.errors, status_code=422)
    return redirect(site_url(site, "people", person.id), request)


# --- households ---------------------------------------------------------------


@requires("people.view")
def household_list(request: Request) -> Response:
    site = request.state.site
    q = request.query_params.get("q", "").strip()
    return render(request, "people/households.html", {
        "households": ops.list_households(site, q), "counts": ops.member_counts(site),
        "q": q, "nav": "households"})


def _household_form(request: Request, household: Household | None, values: dict[str, Any],
                    errors: dict[str, str], status_code: int = 200) -> Response:
    return render(request, "people/household_form.html", {
        "household": household, "values": values, "errors": errors, "nav": "households",
    }, status_code=status_code)


@requires("people.edit")
def household_new(request: Request) -> Response:
    site = request.state.site
    if request.method == "GET":
        return _household_form(request, None, {}, {})
    data = read_form(request)
    try:
        household = ops.create_household(site, validate(HouseholdIn, data))
    except Invalid as exc:
        return _household_form(request, None, data, exc.errors, status_code=422)
    return redirect(site_url(site, "people", "households", household.id), request)


@requires("people.edit")
def household_edit(request: Request) -> Response:
    site = request.state.site
    household = ops.get_household(site, request.path_params["household_id"])
    if request.method == "GET":
        values = {f: getattr(household, f) for f in HOUSEHOLD_FIELDS}
        return _household_form(request, household, values, {})
    data = read_form(request)
    try:
        ops.update_household(household, validate(HouseholdIn, data))
    except Invalid as exc:
        return _household_form(request, household, data, exc.errors, status_code=422)
    return redirect(site_url(site, "people", "households", household.id), request)


def _members_context(site: Site, household: Household, values: dict[str, Any] | None = None,
                     errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "household": household, "members": ops.members(household),
        "candidates": ops.people_outside(site, household), "relationships": ops.RELATIONSHIPS,
        "today": ops.site_today(site), "values": values or {}, "errors": errors or {},
        "nav": "households",
    }


@requires("people.view")
def household_detail(request: Request) -> Response:
    site = request.state.site
    household = ops.get_household(site, request.path_params["household_id"])
    return render(request, "people/household.html", _members_context(site, household))


def _members_answer(request: Request, household: Household, values=None, errors=None,
                    status_code: int = 200) -> Response:
    """htmx: the member list in place; without JavaScript: back to the household page."""
    site = request.state.site
    if is_htmx(request):
        return render(request, "people/_members.html",
                      _members_context(site, household, values, errors), status_code=status_code)
    if errors:
        return render(request, "people/household.html",
                      _members_context(site, household, values, errors), status_code=status_code)
    return redirect(site_url(site, "people", "households", household.id), request)


@requires("people.edit")
def member_add(request: Request) -> Response:
    site = request.state.site
    household = ops.get_household(site, request.path_params["household_id"])
    data = read_form(request)
    try:
        ops.add_member(site, household, validate(MemberIn, data))
    except Invalid as exc:
        return _members_answer(request, household, data, exc.errors, status_code=422)
    return _members_answer(request, household)


@requires("people.edit")
def member_remove(request: Request) -> Response:
    site = request.state.site
    household = ops.get_household(site, request.path_params["household_id"])
    person = ops.get_person(site, request.path_params["person_id"])
    try:
        ops.remove_member(site, household, person)
    except Invalid as exc:  # a plugin's person_changed refused the move
        return _members_answer(request, household, {}, exc.errors, status_code=422)
    return _members_answer(request, household)


def routes() -> list[Route]:
    # households/... and new/ before /{person_id}/, which would otherwise take them.
    return [
        Route("/", person_list, methods=["GET"], name="list"),
        Route("/new/", person_new, methods=["GET", "POST"], name="new"),
        Route("/households/", household_list, methods=["GET"], name="households"),
        Route("/households/new/", household_new, methods=["GET", "POST"], name="household_new"),
        Route("/households/{household_id}/", household_detail, methods=["GET"],
              name="household"),
        Route("/households/{household_id}/edit/", household_edit, methods=["GET", "POST"],
              name="household_edit"),
        Route("/households/{household_id}/members/", member_add, methods=["POST"],
              name="member_add"),
        Route("/households/{household_id}/members/{person_id}/remove/", member_remove,
              methods=["POST"], name="member_remove"),
        Route("/{person_id}/", person_detail, methods=["GET"], name="detail"),
        Route("/{person_id}/edit/", person_edit, methods=["GET", "POST"], name="edit"),
    ]
