"""HTTP for children and guardians: parse, call ``children``, render. htmx gets fragments.

Every change on a child's page answers htmx with the changed section (422 with the
field messages when refused, nothing saved) and a plain form post with a redirect
back to the page (or the whole page with the messages). Health notes are shown only
to roles with ``childcare.health``, and every showing is logged as a sensitive read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubcore import i18n
from hubcore.auth import requires
from hubcore.errors import Invalid, NotFound
from hubcore.forms import validate
from hubcore.i18n import gettext as _
from hubcore.people.models import Person
from hubcore.people.operations import get_person, site_today
from hubcore.sites.models import Site
from hubcore.web import (
    Widget,
    can,
    is_htmx,
    read_form,
    redirect,
    render,
    render_fragment,
    site_url,
    writes_on_read,
)
from plugins.childcare import children as ops
from plugins.childcare.ages import class_age
from plugins.childcare.models import Child

VIEW, EDIT, HEALTH = "childcare.view", "childcare.children", ops.HEALTH

# Each section of a child's page: its fragment and the id htmx swaps.
SECTIONS = {
    "facts": "childcare/_child_facts.html",
    "pickups": "childcare/_child_pickups.html",
    "contacts": "childcare/_child_contacts.html",
    "health": "childcare/_child_health.html",
    "enrolments": "childcare/_child_enrolments.html",
}


def month_label(day: dt.date | None) -> str:
    """A month as 2026年4月 in Japanese, 2026-04 otherwise."""
    if day is None:
        return ""
    if i18n.current_language.get() == "ja":
        return f"{day.year}年{day.month}月"
    return f"{day.year}-{day.month:02d}"


def class_label(age: int | None) -> str:
    """Class age (age on April 1) as staff say it: the school grade for 6 to 11."""
    if age is None:
        return _("Not recorded")
    low, high = ops.SCHOOL_AGES
    if low <= age <= high:
        return _("Grade {grade} (class age {age})").format(grade=age - low + 1, age=age)
    return _("Class age {age}").format(age=age)


def children_url(site: Site, *parts) -> str:
    return site_url(site, "childcare", "children", *parts)


def _helpers() -> dict[str, Any]:
    return {"month_label": month_label, "class_label": class_label, "class_age_on": class_age,
            "children_url": children_url}


# --- the list and registering ------------------------------------------------------------


def _list_context(request: Request, values=None, errors=None) -> dict[str, Any]:
    site = request.state.site
    q = request.query_params.get("q", "").strip()[:100]
    show_all = request.query_params.get("all") == "1"
    today = site_today(site)
    return {
        "children": ops.list_children(site, q, include_inactive=show_all), "q": q,
        "show_all": show_all, "today": today,
        "candidates": ops.registrable_people(site, today) if can(request, EDIT) else [],
        "values": values or {}, "errors": errors or {}, "nav": "childcare", **_helpers(),
    }


@requires(VIEW)
def child_list(request: Request) -> Response:
    ctx = _list_context(request)
    partial = is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"
    template = "childcare/_child_results.html" if partial else "childcare/children_list.html"
    # The same URL answers with a fragment or a page: caches must keep them apart.
    return render(request, template, ctx, headers={"Vary": "HX-Request"})


@requires(EDIT)
def child_register(request: Request) -> Response:
    site = request.state.site
    data = read_form(request)
    try:
        form = validate(ops.RegisterIn, data)
        try:
            person = get_person(site, form.person_id)
        except NotFound:
            raise Invalid({"person_id": _("{label}: no such person at this site.").format(
                label=_("Child"))}) from None
        child = ops.register_child(site, person, form.photo_consent)
    except Invalid as exc:
        ctx = _list_context(request, data, exc.errors)
        template = ("childcare/_child_register.html" if is_htmx(request)
                    else "childcare/children_list.html")
        return render(request, template, ctx, status_code=422)
    return redirect(children_url(site, child.id), request)


# --- a child's page --------------------------------------------------------------------


def _detail_context(request: Request, child: Child, section: str | None = None,
                    form: str = "", values=None, errors=None, message: str = "") -> dict[str, Any]:
    """What the page (section None) or one section needs. Health notes are read (and the
    read logged) only when they are shown: the whole page or the health section, and
    only for roles with childcare.health."""
    site = request.state.site
    today = site_today(site)
    person = child.person
    ctx: dict[str, Any] = {
        "child": child, "person": person, "today": today, "form": form,
        "values": values or {}, "errors": errors or {}, "message": message,
        "can_edit": can(request, EDIT), "can_health": can(request, HEALTH),
        "nav": "childcare", **_helpers(),
    }

    def need(name: str) -> bool:
        return section is None or section == name

    if need("facts"):
        ctx["class_age"] = class_age(person.birth_date, today)
        ctx["guardians"] = ops.guardians_of(child, today)
    if need("pickups"):
        pickups = ops.pickup_people(child)
        linked = {p.person_id for p in pickups if p.active and p.person_id}
        ctx["pickups"] = pickups
        ctx["members"] = [m for m in ops.household_members(child) if m.id not in linked]
    if need("contacts"):
        ctx["contacts"] = ops.emergency_contacts(child)
    if need("enrolments"):
        this_month = today.replace(day=1)
        ctx["enrolments"] = ops.enrolments(child)
        ctx["this_month"] = this_month
        ctx["current"] = ops.current_enrolment(child, this_month)
    if need("health") and ctx["can_health"]:
        ctx["health"] = ops.read_health(site, child)
    return ctx


@requires(VIEW)
@writes_on_read  # the health section logs a sensitive read
def child_detail(request: Request) -> Response:
    child = ops.get_child(request.state.site, request.path_params["child_id"])
    return render(request, "childcare/children_detail.html", _detail_context(request, child))


def _answer(request: Request, child: Child, section: str, form: str = "", values=None,
            errors=None, message: str = "") -> Response:
    """htmx: the section in place (422 with the messages when refused). Without
    JavaScript: back to the page, or the whole page with the messages."""
    status = 422 if errors else 200
    if is_htmx(request):
        ctx = _detail_context(request, child, section, form, values, errors, message)
        return render(request, SECTIONS[section], ctx, status_code=status)
    if errors:
        ctx = _detail_context(request, child, None, form, values, errors)
        return render(request, "childcare/children_detail.html", ctx, status_code=status)
    return redirect(children_url(request.state.site, child.id) + f"#child-{section}", request)


def _child(request: Request) -> Child:
    return ops.get_child(request.state.site, request.path_params["child_id"])


@requires(EDIT)
def child_consent(request: Request) -> Response:
    site, child = request.state.site, _child(request)
    data = read_form(request)
    try:
        ops.set_photo_consent(site, child, validate(ops.ConsentIn, data).photo_consent)
    except Invalid as exc:
        return _answer(request, child, "facts", "consent", data, exc.errors)
    message = _("Photo consent recorded.") if child.photo_consent else _(
        "Photo consent withdrawn.")
    return _answer(request, child, "facts", message=message)


@requires(EDIT)
def child_status(request: Request) -> Response:
    site, child = request.state.site, _child(request)
    data = read_form(request)
    try:
        ops.set_child_active(site, child, validate(ops.StatusIn, data).active)
    except Invalid as exc:
        return _answer(request, child, "facts", "status", data, exc.errors)
    # The whole page changes with it (its banner, what may be done): load it again.
    return redirect(children_url(site, child.id), request)


@requires(EDIT)
def pickup_add(request: Request) -> Response:
    site, child = request.state.site, _child(request)
    data = read_form(request)
    # Two forms post here: a household member's (person_id) and an outsider's.
    member = data.pop("kind", "") == "member" or "person_id" in data
    form = "pickup-member" if member else "pickup-other"
    try:
        if member and "person_id" not in data:
            raise Invalid({"person_id": _("{label} is required.").format(
                label=_("Household member"))})
        pickup = ops.add_pickup(site, child, validate(ops.PickupIn, data))
    except Invalid as exc:
        return _answer(request, child, "pickups", form, data, exc.errors)
    return _answer(request, child, "pickups", message=_(
        "{name} may now pick the child up.").format(name=pickup.name))


@requires(EDIT)
def pickup_change(request: Request) -> Response:
    site, child = request.state.site, _child(request)
    pickup = ops.get_pickup(child, request.path_params["pickup_id"])
    data = read_form(request)
    try:
        ops.change_pickup(site, pickup, validate(ops.PickupChangeIn, data))
    except Invalid as exc:
        return _answer(request, child, "pickups", f"pickup-{pickup.id}", data, exc.errors)
    return _answer(request, child, "pickups", message=_("Saved."))


@requires(EDIT)
def pickup_status(request: Request) -> Response:
    site, child = request.state.site, _child(request)
    pickup = ops.get_pickup(child, request.path_params["pickup_id"])
    data = read_form(request)
    try:
        ops.set_pickup_active(site, pickup, validate(ops.StatusIn, data).active)
    except Invalid as exc:
        return _answer(request, child, "pickups", f"pickup-{pickup.id}", data, exc.errors)
    if pickup.active:
        message = _("{name} may pick the child up again.").format(name=pickup.name)
    else:
        message = _("{name} may no longer pick the child up.").format(name=pickup.name)
    return _answer(request, child, "pickups", message=message)


@requires(EDIT)
def contact_add(request: Request) -> Response:
    site, child = request.state.site, _child(request)
    data = read_form(request)
    try:
        contact = ops.add_contact(site, child, validate(ops.ContactIn, data))
    except Invalid as exc:
        return _answer(request, child, "contacts", "contact-add", data, exc.errors)
    return _answer(request, child, "contacts", message=_(
        "Emergency contact {name} added.").format(name=contact.name))


@requires(EDIT)
def contact_change(request: Request) -> Response:
    site, child = request.state.site, _child(request)
    contact = ops.get_contact(child, request.path_params["contact_id"])
    data = read_form(request)
    try:
        ops.change_contact(site, contact, validate(ops.ContactIn, data))
    except Invalid as exc:
        return _answer(request, child, "contacts", f"contact-{contact.id}", data, exc.errors)
    return _answer(request, child, "contacts", message=_("Saved."))


@requires(EDIT)
def contact_remove(request: Request) -> Response:
    # The contact's id comes in the form: a removed contact's URL would not exist any more.
    site, child = request.state.site, _child(request)
    data = read_form(request)
    if "contact_id" not in data:
        return _answer(request, child, "contacts", "contact-remove", data,
                       {"contact_id": _("Choose the contact to remove.")})
    contact = ops.get_contact(child, data["contact_id"])
    ops.remove_contact(site, contact)
    return _answer(request, child, "contacts", message=_(
        "Emergency contact {name} removed.").format(name=contact.name))


@requires(HEALTH)
def health_update(request: Request) -> Response:
    site, child = request.state.site, _child(request)
    data = read_form(request)
    try:
        ops.update_health(site, child, validate(ops.HealthIn, data))
    except Invalid as exc:
        return _answer(request, child, "health", "health", data, exc.errors)
    return _answer(request, child, "health", message=_("Saved."))


@requires(EDIT)
def enrolment_add(request: Request) -> Response:
    site, child = request.state.site, _child(request)
    data = read_form(request)
    try:
        enrolment = ops.enrol(site, child, validate(ops.EnrolmentIn, data))
    except Invalid as exc:
        return _answer(request, child, "enrolments", "enrol", data, exc.errors)
    return _answer(request, child, "enrolments", message=_(
        "Enrolled from {month}.").format(month=month_label(enrolment.first_month)))


@requires(EDIT)
def enrolment_end(request: Request) -> Response:
    site, child = request.state.site, _child(request)
    enrolment = ops.get_enrolment(site, child, request.path_params["enrolment_id"])
    data = read_form(request)
    try:
        form = validate(ops.EndEnrolmentIn, data)
        ops.end_enrolment(site, enrolment, form.last_month)
    except Invalid as exc:
        return _answer(request, child, "enrolments", f"enrolment-{enrolment.id}", data,
                       exc.errors)
    return _answer(request, child, "enrolments", message=_(
        "The enrolment ends with {month}.").format(month=month_label(enrolment.last_month)))


# --- the panel on a person's page -----------------------------------------------------------


def person_panels(site: Site, person: Person, request: Request) -> list[Widget]:
    """A "Childcare" panel on the core person page: a registered child's record (health
    notes only with childcare.health, logged), a register button for someone under 18,
    and for an adult the children they may collect."""
    if not can(request, VIEW, site):
        return []
    today = site_today(site)
    child = ops.child_of(site, person)
    ctx: dict[str, Any] = {"site": site, "person": person, "child": child, "today": today,
                           "can_edit": can(request, EDIT, site), "registrable": False,
                           "collects": [], **_helpers()}
    if child is not None:
        ctx["class_age"] = class_age(person.birth_date, today)
        ctx["enrolment"] = ops.current_enrolment(child, today)
        if can(request, HEALTH, site):
            ctx["health"] = ops.read_health(site, child)
    if child is None or not child.active:
        ctx["registrable"] = ctx["can_edit"] and ops.is_minor(person, today)
        ctx["collects"] = ops.children_picked_up_by(site, person)
        if not ctx["registrable"] and not ctx["collects"] and child is None:
            return []
    html = render_fragment(request, "childcare/_child_panel.html", ctx)
    return [Widget(_("Childcare"), html, order=30)]


def routes() -> list[Route]:
    base = "/children/{child_id:int}/"
    return [
        Route("/children/", child_list, methods=["GET"], name="children"),
        Route("/children/", child_register, methods=["POST"], name="child_register"),
        Route(base, child_detail, methods=["GET"], name="child"),
        Route(base + "consent/", child_consent, methods=["POST"], name="child_consent"),
        Route(base + "status/", child_status, methods=["POST"], name="child_status"),
        Route(base + "pickups/", pickup_add, methods=["POST"], name="pickup_add"),
        Route(base + "pickups/{pickup_id:int}/", pickup_change, methods=["POST"],
              name="pickup_change"),
        Route(base + "pickups/{pickup_id:int}/status/", pickup_status, methods=["POST"],
              name="pickup_status"),
        Route(base + "contacts/", contact_add, methods=["POST"], name="contact_add"),
        Route(base + "contacts/remove/", contact_remove, methods=["POST"],
              name="contact_remove"),
        Route(base + "contacts/{contact_id:int}/", contact_change, methods=["POST"],
              name="contact_change"),
        Route(base + "health/", health_update, methods=["POST"], name="child_health"),
        Route(base + "enrolments/", enrolment_add, methods=["POST"], name="enrolment_add"),
        Route(base + "enrolments/{enrolment_id:int}/end/", enrolment_end, methods=["POST"],
              name="enrolment_end"),
    ]
