"""Children and guardians: registering, pickup people, contacts, health notes, enrolments
(operations, on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from hubcore.audit.models import AuditEvent
from hubcore.errors import Invalid, NotFound
from hubcore.forms import validate
from hubcore.people.operations import create_person_from_parts
from plugins.childcare import children as ops
from plugins.childcare.models import Child, EmergencyContact, PickupPerson
from plugins.childcare.testing import childcare_site, make_child, make_guardian, make_household

DAY = dt.date(2026, 5, 1)


def person(site, household=None, given="はな", birth=dt.date(2021, 6, 1), relationship="子",
           kana="ハナ", family="佐藤", family_kana="サトウ"):
    return create_person_from_parts(site, household=household, family_name=family,
                                    given_name=given, family_name_kana=family_kana,
                                    given_name_kana=kana, birth_date=birth,
                                    relationship=relationship)


def pickup(**fields) -> ops.PickupIn:
    return validate(ops.PickupIn, fields)


def contact(**fields) -> ops.ContactIn:
    return validate(ops.ContactIn, fields)


def months(first: str, last: str | None = None) -> ops.EnrolmentIn:
    data = {"first_month": first, **({"last_month": last} if last else {})}
    return validate(ops.EnrolmentIn, data)


def sensitive_reads() -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == "sensitive_read")
                .order_by(AuditEvent.id))


# --- registering ------------------------------------------------------------------------


def test_registering_makes_the_household_adults_pickup_people(cc_site, in_english):
    h = make_household(cc_site)
    mother = make_guardian(cc_site, h)  # born 1990, 母
    grandma = person(cc_site, h, "とし", birth=dt.date(1955, 2, 3), relationship="祖母",
                     kana="トシ")
    person(cc_site, h, "けん", birth=dt.date(2009, 1, 1), relationship="子", kana="ケン")  # 17
    person(cc_site, h, "まさる", birth=None, relationship="父", kana="マサル")  # age unknown
    hana = person(cc_site, h)

    child = ops.register_child(cc_site, hana, photo_consent=True, day=DAY)

    assert child.active and child.photo_consent and child.person_id == hana.id
    assert [p.id for p in ops.guardians_of(child, DAY)] == [grandma.id, mother.id]
    rows = ops.authorised_pickups(child)
    assert [(r.person_id, r.name, r.relation) for r in rows] == [
        (grandma.id, "佐藤 とし", "祖母"), (mother.id, "佐藤 花子", "母")]
    # Twice is refused, and nothing is added.
    with pytest.raises(Invalid) as exc:
        ops.register_child(cc_site, hana, day=DAY)
    assert exc.value.errors == {"person_id": "Child: 佐藤 はな is already registered."}
    assert Child.select().count() == 1 and PickupPerson.select().count() == 2


def test_a_deactivated_child_is_registered_again_on_the_same_record(cc_site):
    h = make_household(cc_site)
    mother = make_guardian(cc_site, h)
    child = ops.register_child(cc_site, person(cc_site, h), day=DAY)
    ops.deactivate_pickup(cc_site, ops.authorised_pickups(child)[0])
    ops.deactivate_child(cc_site, child)
    assert ops.list_children(cc_site) == []

    again = ops.register_child(cc_site, child.person, day=DAY)

    assert again.id == child.id and again.active
    # The guardian's row is taken back, not duplicated: history stays on it.
    rows = list(PickupPerson.select().where(PickupPerson.child == child))
    assert [(r.person_id, r.active) for r in rows] == [(mother.id, True)]


def test_only_people_under_18_of_the_site_can_be_registered(cc_site, in_english):
    eighteen = person(cc_site, given="ゆい", birth=dt.date(2008, 5, 1), kana="ユイ")
    with pytest.raises(Invalid) as exc:
        ops.register_child(cc_site, eighteen, day=DAY)
    assert exc.value.errors == {"person_id": "Child: 佐藤 ゆい is 18. Only people under 18 "
                                             "can be registered."}
    # The day before the 18th birthday they are still 17.
    assert ops.register_child(cc_site, eighteen, day=DAY - dt.timedelta(days=1)).active
    unknown = person(cc_site, given="そら", birth=None, kana="ソラ")
    with pytest.raises(Invalid) as exc:
        ops.register_child(cc_site, unknown, day=DAY)
    assert "no birth date" in exc.value.errors["person_id"]
    assert Child.select().count() == 1
    other = childcare_site("other-site")
    with pytest.raises(NotFound):
        ops.register_child(other, person(cc_site, given="りく", kana="リク"), day=DAY)


def test_list_search_and_who_can_be_registered(cc_site):
    hana = make_child(cc_site, dt.date(2021, 6, 1), given="はな")  # 佐藤 はなN / サトウ ハナ
    taro = person(cc_site, given="太郎", kana="タロウ", family="鈴木", family_kana="スズキ")
    ops.register_child(cc_site, taro, day=DAY)
    adult = person(cc_site, given="一郎", birth=dt.date(1980, 1, 1), kana="イチロウ")
    young = person(cc_site, given="次郎", birth=dt.date(2024, 1, 1), kana="ジロウ")

    assert [c.person.family_name for c in ops.list_children(cc_site)] == ["佐藤", "鈴木"]
    for query in ("すずき", "スズキ", "ｽｽﾞｷ", "鈴木", "すずき たろう"):
        assert [c.person_id for c in ops.list_children(cc_site, query)] == [taro.id], query
    assert ops.list_children(cc_site, "やまだ") == []
    ops.deactivate_child(cc_site, hana)
    assert [c.person_id for c in ops.list_children(cc_site)] == [taro.id]
    assert len(ops.list_children(cc_site, include_inactive=True)) == 2

    registrable = ops.registrable_people(cc_site, DAY)
    assert young in registrable and hana.person in registrable  # no longer registered
    assert adult not in registrable and taro not in registrable


def test_children_of_another_site_are_not_found(cc_site):
    other = childcare_site("other-site")
    theirs = make_child(other, dt.date(2020, 1, 1))
    with pytest.raises(NotFound):
        ops.get_child(cc_site, theirs.id)
    for bad in ("abc", "0", "-1", str(2**70)):
        with pytest.raises(NotFound):
            ops.get_child(cc_site, bad)
    assert ops.get_child(other, str(theirs.id)) == theirs


# --- pickup people ----------------------------------------------------------------------


def test_pickup_people_household_members_and_outsiders(cc_site, in_english):
    h = make_household(cc_site)
    child = make_child(cc_site, dt.date(2021, 6, 1), household=h)
    mother = make_guardian(cc_site, h)
    stranger = person(cc_site, given="知らない", kana="シラナイ", birth=dt.date(1980, 1, 1))

    row = ops.add_pickup(cc_site, child, pickup(person_id=str(mother.id), note="眼鏡"))
    assert (row.person_id, row.name, row.relation, row.note) == (mother.id, "佐藤 花子", "母",
                                                                 "眼鏡")
    with pytest.raises(Invalid) as exc:  # already may
        ops.add_pickup(cc_site, child, pickup(person_id=mother.id))
    assert "already" in exc.value.errors["person_id"]
    with pytest.raises(Invalid) as exc:  # not of the household
        ops.add_pickup(cc_site, child, pickup(person_id=stranger.id))
    assert exc.value.errors == {"person_id": "Household member: choose someone of the "
                                             "child's household."}
    with pytest.raises(Invalid) as exc:  # the child itself is no pickup person
        ops.add_pickup(cc_site, child, pickup(person_id=child.person_id))
    assert "person_id" in exc.value.errors

    # An outsider needs a name and a relation; the phone is checked like the core's.
    with pytest.raises(Invalid) as exc:
        ops.add_pickup(cc_site, child, pickup(note="white car"))
    assert exc.value.errors == {"name": "Name is required.",
                                "relation": "Relation to the child is required."}
    with pytest.raises(Invalid) as exc:
        ops.add_pickup(cc_site, child, pickup(name="山田 さち", relation="近所", phone="12345"))
    assert exc.value.errors == {"phone": "Phone must be a phone number such as 0263-12-3456."}
    neighbour = ops.add_pickup(cc_site, child, pickup(name="山田　さち", relation="近所",
                                                      note="白い軽自動車",
                                                      phone="０９０－１２３４－５６７８"))
    assert (neighbour.name, neighbour.phone) == ("山田 さち", "090-1234-5678")
    assert [p.id for p in ops.authorised_pickups(child)] == [row.id, neighbour.id]

    ops.change_pickup(cc_site, neighbour, validate(ops.PickupChangeIn, {
        "name": "山田 幸", "relation": "近所の方", "note": "赤い自転車"}))
    neighbour = PickupPerson.get_by_id(neighbour.id)
    assert (neighbour.name, neighbour.relation, neighbour.note, neighbour.phone) == (
        "山田 幸", "近所の方", "赤い自転車", "")
    with pytest.raises(Invalid) as exc:
        ops.change_pickup(cc_site, neighbour, validate(ops.PickupChangeIn, {"relation": "x"}))
    assert list(exc.value.errors) == ["name"]


def test_deactivated_pickup_people_are_kept_but_not_authorised(cc_site):
    h = make_household(cc_site)
    child = make_child(cc_site, dt.date(2021, 6, 1), household=h)
    mother = ops.add_pickup(cc_site, child, pickup(person_id=make_guardian(cc_site, h).id))
    aunt = ops.add_pickup(cc_site, child, pickup(name="高橋 みか", relation="叔母"))

    ops.deactivate_pickup(cc_site, aunt)
    ops.deactivate_pickup(cc_site, aunt)  # twice is harmless

    assert [p.id for p in ops.authorised_pickups(child)] == [mother.id]
    assert [(p.id, p.active) for p in ops.pickup_people(child)] == [(mother.id, True),
                                                                   (aunt.id, False)]
    assert PickupPerson.get_by_id(aunt.id).name == "高橋 みか"
    ops.set_pickup_active(cc_site, aunt, True)
    assert len(ops.authorised_pickups(child)) == 2
    # Another child's pickup person is not found through this child.
    other = make_child(cc_site, dt.date(2020, 1, 1))
    with pytest.raises(NotFound):
        ops.get_pickup(other, aunt.id)
    assert ops.get_pickup(child, str(aunt.id)) == aunt


# --- emergency contacts -----------------------------------------------------------------


def test_emergency_contacts_in_order(cc_site, in_english):
    child = make_child(cc_site, dt.date(2021, 6, 1))
    work = ops.add_contact(cc_site, child, contact(name="佐藤 花子", relation="母（職場）",
                                                   phone="０２６３－１２－３４５６"))
    grandma = ops.add_contact(cc_site, child, contact(name="佐藤 とし", relation="祖母",
                                                      phone="090-1111-2222"))
    first = ops.add_contact(cc_site, child, contact(name="佐藤 花子", relation="母（携帯）",
                                                    phone="080-3333-4444", priority="1"))
    assert work.phone == "0263-12-3456"

    def order():
        return [(c.id, c.priority) for c in ops.emergency_contacts(child)]

    # Given an order, a contact goes there and the others move down.
    assert order() == [(first.id, 1), (work.id, 2), (grandma.id, 3)]
    ops.change_contact(cc_site, grandma, contact(name="佐藤 とし", phone="090-1111-2222",
                                                 priority=1))
    assert order() == [(grandma.id, 1), (first.id, 2), (work.id, 3)]
    ops.change_contact(cc_site, grandma, contact(name="佐藤 とし", phone="090-1111-2222",
                                                 priority=9))
    assert order() == [(first.id, 1), (work.id, 2), (grandma.id, 3)]
    ops.change_contact(cc_site, work, contact(name="佐藤 花子", relation="母",
                                              phone="0263-12-9999"))  # no order: stays
    assert order() == [(first.id, 1), (work.id, 2), (grandma.id, 3)]
    assert EmergencyContact.get_by_id(work.id).phone == "0263-12-9999"

    for bad, field in (({"phone": "090-1111-2222"}, "name"), ({"name": "x"}, "phone"),
                       ({"name": "x", "phone": "abc"}, "phone"),
                       ({"name": "x", "phone": "090-1111-2222", "priority": "0"}, "priority")):
        with pytest.raises(Invalid) as exc:
            contact(**bad)
        assert field in exc.value.errors
    assert EmergencyContact.select().count() == 3

    ops.remove_contact(cc_site, first)
    assert order() == [(work.id, 1), (grandma.id, 2)]
    other = make_child(cc_site, dt.date(2020, 1, 1))
    with pytest.raises(NotFound):
        ops.get_contact(other, work.id)


# --- health notes -----------------------------------------------------------------------


def test_reading_health_notes_is_logged_and_changes_are_recorded(cc_site):
    child = make_child(cc_site, dt.date(2021, 6, 1), allergies="卵", medical_notes="")
    assert sensitive_reads() == []

    health = ops.read_health(cc_site, child)

    assert (health.allergies, health.medical_notes, health.empty) == ("卵", "", False)
    reads = sensitive_reads()
    assert [(e.subject, e.site_slug, json.loads(e.detail)) for e in reads] == [
        (f"person:{child.person_id}", "test-site", {"what": "childcare.health"})]

    ops.update_health(cc_site, child, validate(ops.HealthIn, {"allergies": "卵、そば",
                                                             "medical_notes": "喘息（吸入薬）"}))
    stored = Child.get_by_id(child.id)
    assert (stored.allergies, stored.medical_notes) == ("卵、そば", "喘息（吸入薬）")
    changed = AuditEvent.get(AuditEvent.action == "childcare.health_changed")
    assert json.loads(changed.detail) == {"fields": ["allergies", "medical_notes"]}
    assert "卵" not in changed.detail  # the log says what changed, never what it says
    # Nothing changed: nothing recorded.
    ops.update_health(cc_site, stored, validate(ops.HealthIn, {"allergies": "卵、そば",
                                                              "medical_notes": "喘息（吸入薬）"}))
    assert AuditEvent.select().where(AuditEvent.action == "childcare.health_changed").count() == 1
    with pytest.raises(NotFound):
        ops.read_health(childcare_site("other-site"), child)
    assert len(sensitive_reads()) == 1


# --- after-school club ------------------------------------------------------------------


def test_enrolment_is_for_school_children_by_class_age(cc_site, in_english):
    # Born April 1: class age 6 (1st grade) in April 2025. Born April 2: still 5 then.
    first_grader = make_child(cc_site, dt.date(2019, 4, 1))
    preschooler = make_child(cc_site, dt.date(2019, 4, 2))

    e = ops.enrol(cc_site, first_grader, months("2025-04"))
    assert (e.first_month, e.last_month) == (dt.date(2025, 4, 1), None)
    with pytest.raises(Invalid) as exc:
        ops.enrol(cc_site, preschooler, months("2025-04"))
    message = exc.value.errors["first_month"]
    assert "school children" in message and "class age 5" in message
    assert ops.enrol(cc_site, preschooler, months("2026-04")).first_month == dt.date(2026, 4, 1)
    # 6th grade ends in March: born 2019-04-01 finishes in March 2031.
    with pytest.raises(Invalid) as exc:
        ops.enrol(cc_site, make_child(cc_site, dt.date(2019, 4, 1)), months("2030-04",
                                                                              "2031-04"))
    assert "March 2031" in exc.value.errors["last_month"]
    teen = make_child(cc_site, dt.date(2012, 6, 1))
    with pytest.raises(Invalid) as exc:
        ops.enrol(cc_site, teen, months("2025-04"))
    assert "class age 12" in exc.value.errors["first_month"]


def test_enrolments_do_not_overlap_and_months_list_who_is_enrolled(cc_site, in_english):
    child = make_child(cc_site, dt.date(2018, 5, 5))
    other = make_child(cc_site, dt.date(2017, 5, 5))
    open_one = ops.enrol(cc_site, child, months("2025-04"))
    with pytest.raises(Invalid) as exc:
        ops.enrol(cc_site, child, months("2026-01", "2026-03"))
    assert "already enrolled from 2025-04 to open-ended" in exc.value.errors["first_month"]

    ops.end_enrolment(cc_site, open_one, dt.date(2025, 7, 15))  # any day: that month
    assert open_one.last_month == dt.date(2025, 7, 1)
    with pytest.raises(Invalid):
        ops.enrol(cc_site, child, months("2025-07"))
    later = ops.enrol(cc_site, child, months("2025-09-10", "2026-03"))
    assert (later.first_month, later.last_month) == (dt.date(2025, 9, 1), dt.date(2026, 3, 1))
    # Moving the first one's end into the second is refused.
    with pytest.raises(Invalid) as exc:
        ops.end_enrolment(cc_site, open_one, dt.date(2025, 10, 1))
    assert "last_month" in exc.value.errors
    with pytest.raises(Invalid) as exc:
        ops.end_enrolment(cc_site, later, dt.date(2025, 8, 1))
    assert "on or after the first month (2025-09)" in exc.value.errors["last_month"]
    with pytest.raises(Invalid) as exc:
        ops.enrol(cc_site, other, months("2025-06", "2025-05"))
    assert "last_month" in exc.value.errors
    ops.enrol(cc_site, other, months("2025-06", "2025-09"))

    def enrolled(day):
        return [c.id for c in ops.enrolled_children(cc_site, day)]

    assert enrolled(dt.date(2025, 4, 1)) == [child.id]
    assert set(enrolled(dt.date(2025, 7, 20))) == {child.id, other.id}
    assert enrolled(dt.date(2025, 8, 1)) == [other.id]
    assert enrolled(dt.date(2025, 10, 1)) == [child.id]
    assert enrolled(dt.date(2026, 4, 1)) == []
    assert ops.current_enrolment(child, dt.date(2025, 8, 31)) is None
    # A child who left is still listed for the months they were enrolled (billing).
    ops.deactivate_child(cc_site, child)
    assert enrolled(dt.date(2025, 10, 1)) == [child.id]
    with pytest.raises(Invalid):
        ops.enrol(cc_site, child, months("2026-04"))
    assert enrolled(dt.date(2025, 10, 1)) == [child.id]
    assert ops.enrolled_children(childcare_site("other-site"), dt.date(2025, 10, 1)) == []


def test_enrolment_form_takes_months(in_english):
    assert months("2026-4").first_month == dt.date(2026, 4, 1)
    assert months("２０２６－０４").first_month == dt.date(2026, 4, 1)
    assert months("2026/04/20").first_month == dt.date(2026, 4, 1)
    for bad in ("April", "2026-13", "2026-04-31"):
        with pytest.raises(Invalid) as exc:
            months(bad)
        assert exc.value.errors == {"first_month": "First month must be a month such as "
                                                   "2026-04."}, bad
