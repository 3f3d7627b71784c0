"""People and households: operations directly, and the web UI through the TestClient."""

from __future__ import annotations

import datetime as dt
import re
import types

import pytest

from hubcore.errors import Invalid, NotFound
from hubcore.forms import validate
from hubcore.hookspecs import hookimpl
from hubcore.people import operations as ops
from hubcore.people.models import Household, Person
from hubcore.people.schemas import MemberIn, PersonIn
from hubcore.plugins import PluginMeta
from hubcore.testing import TEST_USER, make_site, make_user, registered, user_client
from hubcore.web import Widget


def person(site, family, given, family_kana, given_kana, household=None, **extra) -> Person:
    return ops.create_person_from_parts(site, household=household, family_name=family,
                                       given_name=given, family_name_kana=family_kana,
                                       given_name_kana=given_kana, **extra)


def household(site, name="佐藤家", name_kana="サトウケ", **extra) -> Household:
    return ops.create_household_from_parts(site, name=name, name_kana=name_kana, **extra)


def kana_names(people) -> list[str]:
    return [p.full_name_kana for p in people]


@pytest.fixture
def other(database):
    return make_site(slug="other", municipality="other-town")


@pytest.fixture
def katos(site):
    """Names that sort differently in code-point order and in 五十音 order."""
    for family, given, fk, gk in [
        ("和田", "愛", "ワダ", "アイ"), ("我藤", "一郎", "ガトウ", "イチロウ"),
        ("加藤", "一郎", "カトウ", "イチロウ"), ("加東", "次郎", "カトー", "ジロウ"),
        ("加戸", "花子", "カト", "ハナコ"), ("阿部", "健", "アベ", "ケン"),
        ("佐藤", "花子", "さとう", "はなこ"), ("加藤", "小百合", "カトウ", "サユリ"),
    ]:
        person(site, family, given, fk, gk)
    return site


# --- operations -----------------------------------------------------------------


def test_people_come_in_gojuon_order_by_family_name_first(katos):
    people, total = ops.search_people(katos)
    assert total == 8
    # Voiced kana sort with their plain letter (ガトウ beside カトウ, after it on a tie),
    # the long-vowel mark as the vowel it lengthens (カトー = カトオ, after カトウ), and the
    # family name before the given name (カト ハナコ before every カトウ).
    assert kana_names(people) == [
        "アベ ケン", "カト ハナコ", "カトウ イチロウ", "ガトウ イチロウ", "カトウ サユリ",
        "カトー ジロウ", "サトウ ハナコ", "ワダ アイ",
    ]


def test_kana_is_stored_as_full_width_katakana(site):
    p = person(site, "佐藤", "花子", "さとう", "ﾊﾅｺ")
    assert (p.family_name_kana, p.given_name_kana) == ("サトウ", "ハナコ")


@pytest.mark.parametrize("query", ["かとう", "カトウ", "ｶﾄｳ", "カ ト ウ", "加藤", "藤一"])
def test_search_by_hiragana_katakana_half_width_or_kanji(katos, query):
    people, total = ops.search_people(katos, query)
    found = {p.full_name for p in people}
    assert total == len(people)
    if query == "藤一":  # inside the kanji: 加藤一郎 and 我藤一郎
        assert found == {"加藤 一郎", "我藤 一郎"}
    else:
        assert found == {"加藤 一郎", "加藤 小百合"}


def test_search_ignores_the_space_between_family_and_given_name(katos):
    people, _ = ops.search_people(katos, "加藤　一郎")  # a full-width space, as typed with an IME
    assert [p.full_name for p in people] == ["加藤 一郎"]
    people, _ = ops.search_people(katos, "かとう いちろう")
    assert [p.full_name for p in people] == ["加藤 一郎"]


def test_like_wildcards_in_a_query_match_literally(katos):
    person(katos, "百%", "太郎", "ヒャクパーセント", "タロウ")
    person(katos, "A_B", "花子", "エービー", "ハナコ")
    assert ops.search_people(katos, "%")[1] == 1
    assert [p.family_name for p in ops.search_people(katos, "%")[0]] == ["百%"]
    assert [p.family_name for p in ops.search_people(katos, "_")[0]] == ["A_B"]
    assert ops.search_people(katos, "加%")[1] == 0  # not "加 followed by anything"
    assert ops.search_people(katos, "a_")[1] == 1  # latin is compared in lower case
    assert ops.search_people(katos, "\\")[1] == 0


@pytest.mark.parametrize("row, expected", [
    ("ア", ["アベ ケン"]),
    ("カ", ["カト ハナコ", "カトウ イチロウ", "ガトウ イチロウ", "カトウ サユリ", "カトー ジロウ"]),
    ("サ", ["サトウ ハナコ"]),
    ("タ", []),
    ("ワ", ["ワダ アイ"]),
    ("", None),  # no row: everyone
    ("not-a-row", None),
])
def test_row_filter(katos, row, expected):
    people, total = ops.search_people(katos, row=row)
    if expected is None:
        assert total == 8
    else:
        assert kana_names(people) == expected and total == len(expected)


def test_row_and_query_together_and_paging(katos):
    people, total = ops.search_people(katos, "かとう", row="カ")
    assert total == 2
    first, total = ops.search_people(katos, limit=3, offset=0)
    second, _ = ops.search_people(katos, limit=3, offset=3)
    assert total == 8 and len(first) == 3
    assert kana_names(first + second) == kana_names(ops.search_people(katos)[0])[:6]


def test_search_stays_inside_the_site(katos, other):
    person(other, "加藤", "三郎", "カトウ", "サブロウ")
    assert {p.given_name for p in ops.search_people(katos, "加藤")[0]} == {"一郎", "小百合"}
    assert [p.given_name for p in ops.search_people(other)[0]] == ["三郎"]


def test_households_in_gojuon_order_with_member_counts(site):
    w = household(site, "渡辺家", "ワタナベケ")
    s = household(site, "佐藤家", "サトウケ")
    g = household(site, "後藤家", "ゴトウケ")
    person(site, "佐藤", "花子", "サトウ", "ハナコ", household=s)
    person(site, "佐藤", "一郎", "サトウ", "イチロウ", household=s)
    person(site, "後藤", "健", "ゴトウ", "ケン", household=g)
    assert [h.name for h in ops.list_households(site)] == ["後藤家", "佐藤家", "渡辺家"]
    assert [h.name for h in ops.list_households(site, "さとう")] == ["佐藤家"]
    assert [h.name for h in ops.list_households(site, "渡辺")] == ["渡辺家"]
    assert ops.member_counts(site) == {s.id: 2, g.id: 1}
    assert w.id not in ops.member_counts(site)


def test_members_oldest_first_unknown_birth_date_last(site):
    h = household(site)
    person(site, "佐藤", "子", "サトウ", "コ", household=h, birth_date="2015-04-01")
    person(site, "佐藤", "不明", "サトウ", "フメイ", household=h)
    person(site, "佐藤", "祖母", "サトウ", "ソボ", household=h, birth_date="1940-01-02")
    assert [p.given_name for p in ops.members(h)] == ["祖母", "子", "不明"]


def test_moving_a_person_between_households(site):
    a = household(site, "佐藤家", "サトウケ")
    b = household(site, "田中家", "タナカケ")
    p = person(site, "佐藤", "花子", "サトウ", "ハナコ", household=a, relationship="子")
    ops.add_member(site, b, MemberIn(person_id=p.id, relationship="配偶者"))
    p = Person.get_by_id(p.id)
    assert p.household_id == b.id and p.relationship == "配偶者"
    assert ops.members(a) == [] and [m.id for m in ops.members(b)] == [p.id]
    assert p.id not in [c.id for c in ops.people_outside(site, b)]
    assert p.id in [c.id for c in ops.people_outside(site, a)]
    # Taking them out of a household they are not in changes nothing.
    ops.remove_member(site, a, p)
    assert Person.get_by_id(p.id).household_id == b.id
    ops.remove_member(site, b, p)
    p = Person.get_by_id(p.id)
    assert p.household_id is None and p.relationship == ""


def test_households_and_people_of_another_site_are_refused(site, other):
    mine = household(site)
    theirs = household(other, "田中家", "タナカケ")
    stranger = person(other, "田中", "一郎", "タナカ", "イチロウ")
    with pytest.raises(Invalid) as exc:
        ops.add_member(site, mine, MemberIn(person_id=stranger.id))
    assert set(exc.value.errors) == {"person_id"}
    with pytest.raises(NotFound):
        ops.set_household(site, stranger, mine)
    with pytest.raises(Invalid) as exc:
        person(site, "佐藤", "花子", "サトウ", "ハナコ", household=theirs)
    assert set(exc.value.errors) == {"household_id"}
    with pytest.raises(NotFound):
        ops.get_person(site, stranger.id)
    with pytest.raises(NotFound):
        ops.get_household(site, theirs.id)
    with pytest.raises(NotFound):
        ops.get_person(site, "abc")
    assert Person.get_by_id(stranger.id).household_id is None
    assert not Person.select().where(Person.site == site).exists()


def test_invalid_person_is_refused_field_by_field_and_nothing_saved(site):
    with pytest.raises(Invalid) as exc:
        validate(PersonIn, {"family_name": "佐藤", "family_name_kana": "sato",
                            "given_name_kana": "ハナコ", "phone": "12", "birth_date": "2999-01-01",
                            "email": "nope"})
    assert set(exc.value.errors) == {"given_name", "family_name_kana", "phone", "birth_date",
                                     "email"}
    assert "フリガナ" in exc.value.errors["family_name_kana"]  # Japanese by default
    with pytest.raises(Invalid):
        person(site, "佐藤", "花子", "サトウ1", "ハナコ")
    assert Person.select().count() == 0


def test_full_width_input_is_made_half_width(site):
    p = person(site, "佐藤", "花子", "サトウ", "ハナコ", phone="０２６３－１２－３４５６",
               birth_date="１９５０-０５-０３")
    assert p.phone == "0263-12-3456" and p.birth_date == dt.date(1950, 5, 3)
    h = household(site, postal_code="〒３９９４３０１")
    assert h.postal_code == "399-4301"


def test_age_band_counts(site):
    today = dt.date(2026, 4, 1)
    for given, born in [("一", "2026-03-31"), ("二", "2020-04-01"), ("三", "2020-04-02"),
                        ("四", "1951-04-01"), ("五", "1951-04-02"), ("六", None)]:
        person(site, "佐藤", given, "サトウ", "イチ", birth_date=born)
    counts = ops.age_band_counts(site, today)
    # 2020-04-02 is still 5 on 2026-04-01; 1951-04-01 turns 75 that day.
    assert counts["0–5"] == 2 and counts["6–12"] == 1
    assert counts["65–74"] == 1 and counts["75+"] == 1 and counts["?"] == 1
    assert sum(counts.values()) == 6


# --- HTTP -------------------------------------------------------------------------


URL = "/s/test-site/people/"


def names_on(html: str) -> list[str]:
    return re.findall(r'<span class="kana">([^<]*)</span>', html)


def test_list_page(client, katos):
    r = client.get(URL + "?lang=en")
    assert r.status_code == 200
    assert "<html" in r.text and 'id="people-results"' in r.text
    assert names_on(r.text)[:3] == ["アベ ケン", "カト ハナコ", "カトウ イチロウ"]
    assert "8 people" in r.text
    assert 'aria-current="page">People</a>' in r.text  # the menu marks where we are
    assert 'hx-trigger="input changed delay:300ms, search"' in r.text


def test_search_without_javascript_and_by_row(client, katos):
    r = client.get(URL, params={"q": "ｶﾄｳ", "lang": "en"})
    assert names_on(r.text) == ["カトウ イチロウ", "カトウ サユリ"]
    assert "2 people" in r.text and 'value="ｶﾄｳ"' in r.text
    r = client.get(URL, params={"row": "ワ"})
    assert names_on(r.text) == ["ワダ アイ"]
    assert re.search(r'row=%E3%83%AF"\s+aria-current="page"', r.text)
    r = client.get(URL, params={"q": "存在しない", "lang": "en"})
    assert names_on(r.text) == [] and "No one matches “存在しない”." in r.text


def test_htmx_search_answers_with_the_results_part_only(client, katos):
    r = client.get(URL, params={"q": "かとう"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text and r.text.lstrip().startswith('<div id="people-results">')
    assert names_on(r.text) == ["カトウ イチロウ", "カトウ サユリ"]
    assert "HX-Request" in r.headers["vary"]
    # htmx restoring history it has no copy of needs the whole page.
    r = client.get(URL, params={"q": "かとう"},
                   headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in r.text


def test_paging_fifty_a_page(client, site):
    for i in range(53):
        given_kana = "ハナコ" + "ア" * (i // 26) + chr(0x30A2 + i % 26)
        person(site, "佐藤", f"{i:02d}", "サトウ", given_kana)
    first = client.get(URL + "?lang=en")
    assert len(names_on(first.text)) == 50 and "53 people" in first.text
    assert "Page 1 of 2" in first.text and "showing 1–50" in first.text
    second = client.get(URL, params={"page": "2", "lang": "en"})
    assert len(names_on(second.text)) == 3 and "Page 2 of 2" in second.text
    assert set(names_on(first.text)).isdisjoint(names_on(second.text))
    # A page past the end shows the last one; nonsense shows the first.
    assert names_on(client.get(URL, params={"page": "9"}).text) == names_on(second.text)
    assert names_on(client.get(URL, params={"page": "x"}).text) == names_on(first.text)


def test_create_person(client, site):
    h = household(site)
    r = client.get(URL + f"new/?household={h.id}")
    assert r.status_code == 200 and f'<option value="{h.id}" selected>' in r.text
    form = {"family_name": "佐藤", "given_name": "花子", "family_name_kana": "さとう",
            "given_name_kana": "はなこ", "birth_date": "1950-05-03", "household_id": str(h.id),
            "relationship": "世帯主", "phone": "0263-12-3456", "email": "",
            "emergency_contact_name": "佐藤 一郎", "emergency_contact_phone": "090-1234-5678",
            "emergency_contact_relation": "長男", "notes": "杖を使用"}
    r = client.post(URL + "new/", data=form, follow_redirects=False)
    assert r.status_code == 303
    p = Person.get(Person.site == site)
    assert r.headers["location"] == f"{URL}{p.id}/"
    assert (p.family_name_kana, p.household_id, p.birth_date) == ("サトウ", h.id,
                                                                   dt.date(1950, 5, 3))
    page = client.get(r.headers["location"] + "?lang=ja").text
    assert "1950年5月3日" in page and "昭和25年5月3日" in page
    assert "佐藤家" in page and "090-1234-5678" in page and "杖を使用" in page
    # htmx gets the redirect as a header.
    r = client.post(URL + "new/", data={**form, "given_name": "一郎"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith(URL)


def test_invalid_form_is_shown_again_with_messages_and_nothing_saved(client, site):
    r = client.post(URL + "new/?lang=en", data={"family_name": "佐藤", "family_name_kana": "sato",
                                                "given_name_kana": "ハナコ", "phone": "abc"})
    assert r.status_code == 422
    assert "Nothing was saved" in r.text
    assert 'id="given_name-error"' in r.text and "Given name is required." in r.text
    assert re.search(r'name="family_name_kana"[^>]*aria-invalid="true"[^>]*'
                     r'aria-describedby="family_name_kana-hint family_name_kana-error"', r.text)
    assert 'id="phone-error"' in r.text
    assert 'value="佐藤"' in r.text  # what was typed is kept
    assert Person.select().count() == 0


def test_edit_person(client, site):
    p = person(site, "佐藤", "花子", "サトウ", "ハナコ", phone="0263-12-3456")
    r = client.get(f"{URL}{p.id}/edit/")
    assert r.status_code == 200 and 'value="0263-12-3456"' in r.text
    r = client.post(f"{URL}{p.id}/edit/", data={
        "family_name": "鈴木", "given_name": "花子", "family_name_kana": "スズキ",
        "given_name_kana": "ハナコ"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{URL}{p.id}/"
    p = Person.get_by_id(p.id)
    assert (p.family_name, p.phone) == ("鈴木", "")
    assert ops.search_people(site, "すずき")[1] == 1 and ops.search_people(site, "サトウ")[1] == 0
    r = client.post(f"{URL}{p.id}/edit/", data={"family_name": "", "given_name": "花子",
                                                "family_name_kana": "スズキ",
                                                "given_name_kana": "ハナコ"})
    assert r.status_code == 422 and Person.get_by_id(p.id).family_name == "鈴木"


def test_ids_of_another_site_are_not_found(client, site, other):
    p = person(other, "田中", "一郎", "タナカ", "イチロウ")
    h = household(other, "田中家", "タナカケ")
    mine = household(site)
    for path in [f"{p.id}/", f"{p.id}/edit/", f"households/{h.id}/", f"households/{h.id}/edit/",
                 "999999/", "abc/", "households/abc/"]:
        assert client.get(URL + path).status_code == 404, path
    form = {"family_name": "乗っ取り", "given_name": "一郎", "family_name_kana": "ノットリ",
            "given_name_kana": "イチロウ"}
    assert client.post(f"{URL}{p.id}/edit/", data=form).status_code == 404
    assert client.post(f"{URL}households/{h.id}/edit/",
                       data={"name": "x", "name_kana": "エックス"}).status_code == 404
    assert client.post(f"{URL}households/{mine.id}/members/{p.id}/remove/").status_code == 404
    # A person of the other site offered to this site's household: refused on the field.
    r = client.post(f"{URL}households/{mine.id}/members/", data={"person_id": str(p.id)},
                    headers={"HX-Request": "true"})
    assert r.status_code == 422 and 'id="person_id-error"' in r.text
    unchanged = Person.get_by_id(p.id)
    assert unchanged.family_name == "田中" and unchanged.household_id is None
    assert Household.get_by_id(h.id).name == "田中家"
    # The other site's own pages work for someone who works there.
    make_user(TEST_USER, ("staff", other))
    assert client.get(f"/s/other/people/{p.id}/").status_code == 200


def test_household_pages_and_forms(client, site):
    assert "No household is registered yet." in client.get(URL + "households/?lang=en").text
    r = client.post(URL + "households/new/", data={"name": "佐藤家", "name_kana": "さとうけ",
                                                   "postal_code": "3994301"},
                    follow_redirects=False)
    assert r.status_code == 303
    h = Household.get(Household.site == site)
    assert r.headers["location"] == f"{URL}households/{h.id}/"
    assert (h.name_kana, h.postal_code) == ("サトウケ", "399-4301")
    r = client.post(URL + "households/new/?lang=en", data={"name": "", "name_kana": "abc",
                                                           "postal_code": "12"})
    assert r.status_code == 422
    assert {'id="name-error"', 'id="name_kana-error"', 'id="postal_code-error"'} <= set(
        re.findall(r'id="\w+-error"', r.text))
    assert Household.select().count() == 1
    r = client.post(f"{URL}households/{h.id}/edit/",
                    data={"name": "佐藤家", "name_kana": "サトウケ", "address": "みどり野町1-2"},
                    follow_redirects=False)
    assert r.status_code == 303 and Household.get_by_id(h.id).address == "みどり野町1-2"
    person(site, "佐藤", "花子", "サトウ", "ハナコ", household=h)
    page = client.get(URL + "households/?lang=en").text
    assert "1 household" in page and re.search(r'<td class="num">1</td>', page)
    assert 'aria-current="page">Households</a>' in page


def test_household_members_added_and_removed_in_place(client, site):
    h = household(site)
    other_h = household(site, "田中家", "タナカケ")
    p = person(site, "田中", "花子", "タナカ", "ハナコ", household=other_h)
    page = client.get(f"{URL}households/{h.id}/?lang=en").text
    assert "No members yet." in page and "now in 田中家" in page
    r = client.post(f"{URL}households/{h.id}/members/?lang=en",
                    data={"person_id": str(p.id), "relationship": "配偶者"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text
    assert r.text.lstrip().startswith('<section class="card" id="household-members">')
    assert "田中 花子" in r.text and "配偶者" in r.text and "1 person" in r.text
    assert Person.get_by_id(p.id).household_id == h.id
    # Without a person chosen: 422 with the message under the select.
    r = client.post(f"{URL}households/{h.id}/members/", data={"relationship": "子"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 422 and 'id="person_id-error"' in r.text
    # Remove, htmx: the list comes back without them.
    r = client.post(f"{URL}households/{h.id}/members/{p.id}/remove/?lang=en",
                    headers={"HX-Request": "true"})
    assert r.status_code == 200 and "No members yet." in r.text
    assert Person.get_by_id(p.id).household_id is None
    # Without JavaScript: back to the household page.
    r = client.post(f"{URL}households/{h.id}/members/", data={"person_id": str(p.id)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{URL}households/{h.id}/"
    assert Person.get_by_id(p.id).household_id == h.id


PANELS = types.ModuleType("panels_for_test")
PANELS.PLUGIN = PluginMeta(name="panelsfortest", label_ja="テスト", label_en="Test")


@hookimpl
def _person_panels(site, person, request):
    return [Widget("Second panel", f"<p>later for {person.given_name}</p>", order=20),
            Widget("First panel", "<p>first</p>", order=10)]


_person_panels.__name__ = "person_panels"
PANELS.person_panels = _person_panels


def test_person_page_shows_plugin_panels_in_order(site, settings):
    p = person(site, "佐藤", "花子", "サトウ", "ハナコ")
    with registered(PANELS):
        make_site(plugins=("panelsfortest",))
        with user_client(settings, ("staff", site)) as c:
            page = c.get(f"{URL}{p.id}/").text
    assert page.index("First panel") < page.index("Second panel")
    assert "later for 花子" in page
    # Off for the site (here: unregistered), no panel.
    with user_client(settings, ("staff", site)) as c:
        assert "First panel" not in c.get(f"{URL}{p.id}/").text


def test_dashboard_widget_and_navigation(client, site):
    h = household(site)
    person(site, "佐藤", "花子", "サトウ", "ハナコ", household=h, birth_date="1940-01-01")
    person(site, "佐藤", "一郎", "サトウ", "イチロウ")
    page = client.get("/s/test-site/?lang=en").text
    assert "2 people" in page and "1 household" in page
    assert "Ages 75 and over" in page and "Age not recorded" in page
    ja = client.get("/s/test-site/?lang=ja").text
    assert "75歳以上" in ja and "0〜5歳" in ja
    nav = re.search(r'<nav class="sitenav".*?</nav>', page, re.S).group(0)
    assert nav.index("People") < nav.index("Households")
    assert 'href="/s/test-site/people/households/"' in nav
