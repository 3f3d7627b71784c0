"""The children pages and the childcare panel on a person's page, per role, on SQLite and
PostgreSQL: htmx fragments, plain-form fallbacks, 422 without change, health notes only
for roles with childcare.health (every showing logged), other sites' ids 404."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from hubcore.audit.models import AuditEvent
from hubcore.people.operations import create_person_from_parts
from hubcore.testing import TEST_USER, user_client
from plugins.childcare import children as ops
from plugins.childcare.models import Child, EmergencyContact, Enrolment, PickupPerson
from plugins.childcare.testing import childcare_site, make_child, make_guardian, make_household

URL = "/s/test-site/childcare/children/"
HX = {"HX-Request": "true"}
PANEL = "<h2>Childcare</h2>"  # the panel's heading on a person's page (the menu says it too)


def today() -> dt.date:
    from hubcore.people.operations import site_today
    from hubcore.sites.models import Site

    return site_today(Site.get(Site.slug == "test-site"))


def years_ago(years: int, days: int = 0) -> dt.date:
    """A birth date ``years`` years before today at the site (minus ``days``)."""
    t = today()
    try:
        birth = t.replace(year=t.year - years)
    except ValueError:  # Feb 29
        birth = t.replace(year=t.year - years, day=28)
    return birth - dt.timedelta(days=days)


def person(site, household=None, given="はな", birth=None, relationship="子", kana="ハナ"):
    return create_person_from_parts(site, household=household, family_name="佐藤",
                                    given_name=given, family_name_kana="サトウ",
                                    given_name_kana=kana, birth_date=birth,
                                    relationship=relationship)


def reads() -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == "sensitive_read")
                .order_by(AuditEvent.id))


@pytest.fixture
def family(cc_site):
    """A registered child (4) with allergies, their mother as pickup person."""
    h = make_household(cc_site)
    mother = make_guardian(cc_site, h)
    child = ops.register_child(cc_site, person(cc_site, h, birth=years_ago(4, 30)))
    child.allergies = "卵アレルギー"
    child.medical_notes = "熱性けいれんの既往"
    child.save()
    return child, mother


# --- the list and registering ------------------------------------------------------------


def test_list_search_and_register(cc_site, client, family):
    child, _mother = family
    waiting = person(cc_site, given="れん", kana="レン", birth=years_ago(7))
    person(cc_site, given="大人", kana="オトナ", birth=years_ago(30))

    page = client.get(URL + "?lang=en")
    assert page.status_code == 200
    assert "佐藤 はな" in page.text and "1 child" in page.text
    # Only people under 18 who are not registered are offered.
    options = re.findall(r'<option value="(\d+)"', page.text)
    assert options == [str(waiting.id)]
    assert 'href="/static/childcare/children.css"' in page.text
    # Searching with htmx answers the results only.
    r = client.get(URL + "?q=はな&lang=en", headers=HX)
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="children-results">')
    assert "佐藤 はな" in r.text and r.headers["vary"] == "HX-Request"
    assert "0 children" in client.get(URL + "?q=やまだ&lang=en", headers=HX).text

    r = client.post(URL, data={"person_id": str(waiting.id), "photo_consent": "on"},
                    follow_redirects=False)
    new = Child.get(Child.person == waiting)
    assert r.status_code == 303 and r.headers["location"] == f"{URL}{new.id}/"
    assert new.photo_consent and new.active


def test_registering_refuses_adults_and_twice_without_change(cc_site, client, family):
    child, _mother = family
    adult = person(cc_site, given="大人", kana="オトナ", birth=years_ago(18))
    r = client.post(URL + "?lang=en", data={"person_id": str(adult.id)}, headers=HX)
    assert r.status_code == 422
    assert "Only people under 18 can be registered." in r.text
    assert r.text.lstrip().startswith('<form id="child-register"')
    r = client.post(URL + "?lang=en", data={"person_id": str(child.person_id)})
    assert r.status_code == 422 and "is already registered" in r.text
    assert "<html" in r.text  # without htmx the whole page, with the message
    for data in ({}, {"person_id": "abc"}, {"person_id": "999999"}):
        assert client.post(URL, data=data, headers=HX).status_code == 422
    # Another site's person is no person of this site.
    theirs = person(childcare_site("other-site"), given="他", kana="ホカ", birth=years_ago(3))
    r = client.post(URL + "?lang=en", data={"person_id": str(theirs.id)}, headers=HX)
    assert r.status_code == 422 and "no such person at this site" in r.text
    assert Child.select().count() == 1


# --- a child's page ----------------------------------------------------------------------


def test_detail_page_shows_the_record_and_logs_each_health_showing(cc_site, client, family):
    child, mother = family
    page = client.get(f"{URL}{child.id}/?lang=en")
    assert page.status_code == 200
    text = page.text
    assert "佐藤 はな" in text and "佐藤 花子" in text  # the child, the mother as guardian
    assert "Photo consent" in text and "Class this school year" in text
    assert "卵アレルギー" in text and "熱性けいれんの既往" in text
    assert 'id="child-health"' in text
    assert [(e.user_email, e.subject) for e in reads()] == [
        (TEST_USER, f"person:{child.person_id}")]
    client.get(f"{URL}{child.id}/")
    assert len(reads()) == 2  # every showing


def test_without_childcare_health_no_health_text_anywhere(cc_site, settings, family):
    child, _mother = family
    with user_client(settings, ("viewer", cc_site), email="viewer@t.jp") as c:
        page = c.get(f"{URL}{child.id}/?lang=en")
        assert page.status_code == 200 and "佐藤 はな" in page.text
        for secret in ("卵アレルギー", "熱性けいれん", "child-health", "Allergies",
                       "Medical notes"):
            assert secret not in page.text
        panel = c.get(f"/s/test-site/people/{child.person_id}/?lang=en").text
        assert PANEL in panel and "Open the childcare record" in panel
        assert "卵アレルギー" not in panel and "Allergies" not in panel
        # A viewer changes nothing, health least of all.
        assert c.post(f"{URL}{child.id}/health/", data={"allergies": "x"}).status_code == 403
        assert c.post(f"{URL}{child.id}/pickups/", data={"name": "x", "relation": "y"}
                      ).status_code == 403
        assert c.post(URL, data={"person_id": str(child.person_id)}).status_code == 403
    assert reads() == []
    assert Child.get_by_id(child.id).allergies == "卵アレルギー"
    assert PickupPerson.select().count() == 1


def test_staff_change_health_and_each_answer_is_logged(cc_site, settings, family):
    child, _mother = family
    with user_client(settings, ("staff", cc_site), email="staff@t.jp") as c:
        r = c.post(f"{URL}{child.id}/health/?lang=en", headers=HX,
                   data={"allergies": "卵・そば", "medical_notes": ""})
        assert r.status_code == 200
        assert r.text.lstrip().startswith('<section class="card cc-health"')
        assert "卵・そば" in r.text and "Saved." in r.text
        r = c.post(f"{URL}{child.id}/health/?lang=en", data={"allergies": "x" * 2001})
        assert r.status_code == 422 and "Allergies must be at most 2000 characters." in r.text
    assert Child.get_by_id(child.id).allergies == "卵・そば"
    # The htmx answer and the refused page showed the notes: two reads, both logged.
    assert [e.user_email for e in reads()] == ["staff@t.jp", "staff@t.jp"]
    assert AuditEvent.select().where(AuditEvent.action == "childcare.health_changed").count() == 1


def test_pickup_people_add_refuse_deactivate(cc_site, client, family):
    child, mother = family
    base = f"{URL}{child.id}/pickups/"
    # An outsider without a relation: 422 naming the field, nothing added.
    r = client.post(base + "?lang=en", data={"name": "山田 さち"}, headers=HX)
    assert r.status_code == 422 and "Relation to the child is required." in r.text
    assert r.text.lstrip().startswith('<section class="card" id="child-pickups"')
    r = client.post(base + "?lang=en", data={"name": "山田 さち", "relation": "近所",
                                             "phone": "abc"}, headers=HX)
    assert r.status_code == 422 and "must be a phone number" in r.text
    assert PickupPerson.select().count() == 1
    r = client.post(base + "?lang=en", data={"name": "山田 さち", "relation": "近所",
                                             "note": "白い軽自動車", "phone": "090-1234-5678"},
                    headers=HX)
    assert r.status_code == 200 and "白い軽自動車" in r.text
    assert "may now pick the child up" in r.text
    neighbour = PickupPerson.get(PickupPerson.name == "山田 さち")
    # The household form with nobody chosen names its own field; then the grandfather.
    grandpa = person(cc_site, mother.household, given="茂", kana="シゲル", relationship="祖父",
                     birth=years_ago(70))
    page = client.get(f"{URL}{child.id}/").text
    assert f'<option value="{grandpa.id}"' in page and f'<option value="{mother.id}"' not in page
    r = client.post(base + "?lang=en", data={"kind": "member"}, headers=HX)
    assert r.status_code == 422 and "Household member is required." in r.text
    r = client.post(base, data={"kind": "member", "person_id": str(grandpa.id),
                                "note": "杖"}, headers=HX)
    assert r.status_code == 200 and f'<option value="{grandpa.id}"' not in r.text
    assert PickupPerson.get(PickupPerson.person == grandpa).relation == "祖父"
    r = client.post(f"{base}{neighbour.id}/?lang=en", headers=HX,
                    data={"name": "", "relation": "近所", "note": "赤い自転車"})
    assert r.status_code == 422 and "Name is required." in r.text
    assert PickupPerson.get_by_id(neighbour.id).note == "白い軽自動車"
    r = client.post(f"{base}{neighbour.id}/", headers=HX,
                    data={"name": "山田 さち", "relation": "近所", "note": "赤い自転車"})
    assert r.status_code == 200 and PickupPerson.get_by_id(neighbour.id).note == "赤い自転車"
    r = client.post(f"{base}{neighbour.id}/status/?lang=en", data={}, headers=HX)
    assert r.status_code == 422 and "Status is required." in r.text
    # Without JavaScript: back to the page, at the section.
    r = client.post(f"{base}{neighbour.id}/status/", data={"active": "no"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{URL}{child.id}/#child-pickups"
    assert [p.name for p in ops.authorised_pickups(child)] == ["佐藤 花子", "佐藤 茂"]
    assert not PickupPerson.get_by_id(neighbour.id).active  # kept, for history
    page = client.get(f"{URL}{child.id}/?lang=en").text
    assert "No longer authorised (1)" in page and "山田 さち" in page


def test_emergency_contacts_add_and_remove(cc_site, client, family):
    child, _mother = family
    base = f"{URL}{child.id}/contacts/"
    r = client.post(base + "?lang=en", headers=HX,
                    data={"name": "佐藤 花子", "relation": "母", "phone": "0901234"})
    assert r.status_code == 422 and "must be a phone number" in r.text
    assert EmergencyContact.select().count() == 0
    r = client.post(base + "?lang=en", headers=HX, data={
        "name": "佐藤 花子", "relation": "母", "phone": "０９０－１２３４－５６７８"})
    assert r.status_code == 200 and "090-1234-5678" in r.text
    r = client.post(base, data={"name": "佐藤 とし", "phone": "0263-12-3456", "priority": "1"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("#child-contacts")
    assert [c.name for c in ops.emergency_contacts(child)] == ["佐藤 とし", "佐藤 花子"]
    grandma = ops.emergency_contacts(child)[0]
    assert client.post(base + "remove/", data={}, headers=HX).status_code == 422
    r = client.post(base + "remove/?lang=en", data={"contact_id": str(grandma.id)}, headers=HX)
    assert r.status_code == 200 and "removed" in r.text
    assert [c.name for c in ops.emergency_contacts(child)] == ["佐藤 花子"]
    assert client.post(base + "remove/", data={"contact_id": str(grandma.id)},
                       headers=HX).status_code == 404


def test_consent_status_and_enrolment(cc_site, client, family):
    child, _mother = family
    base = f"{URL}{child.id}/"
    r = client.post(base + "consent/?lang=en", data={"photo_consent": "on"}, headers=HX)
    assert r.status_code == 200 and "Photo consent recorded." in r.text
    assert Child.get_by_id(child.id).photo_consent
    client.post(base + "consent/", data={}, headers=HX)
    assert not Child.get_by_id(child.id).photo_consent
    # A four-year-old is no school child: refused, with the reason.
    r = client.post(base + "enrolments/?lang=en", data={"first_month": "2026-04"}, headers=HX)
    assert r.status_code == 422 and "school children" in r.text
    assert Enrolment.select().count() == 0
    pupil = make_child(cc_site, years_ago(8))
    r = client.post(f"{URL}{pupil.id}/enrolments/?lang=en", headers=HX,
                    data={"first_month": today().strftime("%Y-%m")})
    assert r.status_code == 200 and "Enrolled this month" in r.text
    enrolment = Enrolment.get(Enrolment.child == pupil)
    r = client.post(f"{URL}{pupil.id}/enrolments/{enrolment.id}/end/?lang=en", headers=HX,
                    data={"last_month": "1999-01"})
    assert r.status_code == 422 and "on or after the first month" in r.text
    r = client.post(f"{URL}{pupil.id}/enrolments/{enrolment.id}/end/",
                    data={"last_month": today().strftime("%Y-%m")}, follow_redirects=False)
    assert r.status_code == 303
    assert Enrolment.get_by_id(enrolment.id).last_month == today().replace(day=1)
    # No longer comes: listed only on request, the page still answers.
    r = client.post(base + "status/", data={"active": "no"}, headers=HX)
    assert r.status_code == 204 and r.headers["hx-redirect"] == base
    assert not Child.get_by_id(child.id).active
    assert client.post(base + "status/", data={}, headers=HX).status_code == 422
    link = f'href="{base}"'
    assert link not in client.get(URL).text and link in client.get(URL + "?all=1").text
    assert client.get(base).status_code == 200


def test_other_sites_ids_are_not_found(cc_site, client, family):
    child, _mother = family
    other = childcare_site("other-site")
    theirs = make_child(other, years_ago(5))
    pickup = ops.add_pickup(other, theirs, ops.PickupIn(name="他人", relation="近所"))
    contact = ops.add_contact(other, theirs, ops.ContactIn(name="他人", phone="090-1234-5678"))
    before = (PickupPerson.select().count(), EmergencyContact.select().count())
    assert client.get(f"{URL}{theirs.id}/").status_code == 404
    for path, data in (("consent/", {"photo_consent": "on"}), ("status/", {"active": "no"}),
                       ("pickups/", {"name": "x", "relation": "y"}),
                       ("health/", {"allergies": "x"}),
                       ("enrolments/", {"first_month": "2026-04"})):
        assert client.post(f"{URL}{theirs.id}/{path}", data=data).status_code == 404, path
    # Their pickup person and contact through our child: not found either.
    own = f"{URL}{child.id}/"
    assert client.post(f"{own}pickups/{pickup.id}/status/", data={"active": "no"}
                       ).status_code == 404
    assert client.post(f"{own}pickups/{pickup.id}/", data={"name": "x", "relation": "y"}
                       ).status_code == 404
    assert client.post(f"{own}contacts/{contact.id}/", data={"name": "x", "phone": "0901234567"}
                       ).status_code == 404
    assert client.post(f"{own}contacts/remove/", data={"contact_id": str(contact.id)}
                       ).status_code == 404
    assert (PickupPerson.select().count(), EmergencyContact.select().count()) == before
    theirs = Child.get_by_id(theirs.id)
    assert theirs.active and not theirs.photo_consent and theirs.allergies == ""
    assert PickupPerson.get_by_id(pickup.id).active and reads() == []


# --- the panel on a person's page --------------------------------------------------------------


def test_person_panel(cc_site, settings, client, family):
    child, mother = family
    page = client.get(f"/s/test-site/people/{child.person_id}/?lang=en").text
    assert PANEL in page and f'href="{URL}{child.id}/"' in page
    assert "卵アレルギー" in page  # a manager has childcare.health: shown and logged
    assert [e.subject for e in reads()] == [f"person:{child.person_id}"]
    # The mother: the children she may collect.
    page = client.get(f"/s/test-site/people/{mother.id}/?lang=en").text
    assert "May pick up:" in page and f'href="{URL}{child.id}/"' in page
    # Under 18 and not registered: a register button for those who may register.
    young = person(cc_site, given="そら", kana="ソラ", birth=years_ago(2))
    page = client.get(f"/s/test-site/people/{young.id}/?lang=en").text
    assert "Register for childcare" in page
    with user_client(settings, ("viewer", cc_site), email="viewer@t.jp") as c:
        page = c.get(f"/s/test-site/people/{young.id}/?lang=en").text
        assert "Register for childcare" not in page and PANEL not in page
    # An adult with no tie to childcare gets no panel.
    adult = person(cc_site, given="大人", kana="オトナ", birth=years_ago(40))
    assert PANEL not in client.get(f"/s/test-site/people/{adult.id}/?lang=en").text
    assert len(reads()) == 1
