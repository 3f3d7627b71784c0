"""The JSON API under /api/v1/ and its OpenAPI document, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_spec
from starlette.routing import Mount, Route
from testplugins import garden

from hubcore.migrations import migrate
from hubcore.people.models import Household, Person
from hubcore.plugins import get_host
from hubcore.rooms.models import Room
from hubcore.testing import TEST_USER, make_site, make_user, registered

API = "/api/v1"
ROOMS = f"{API}/sites/test-site/rooms"
PEOPLE = f"{API}/sites/test-site/people"
HOUSEHOLDS = f"{API}/sites/test-site/households"


@pytest.fixture
def doc(client) -> dict[str, Any]:
    r = client.get(f"{API}/openapi.json")
    assert r.status_code == 200
    return r.json()


def conforms(doc: dict[str, Any], operation_id: str, response) -> Any:
    """Assert that the answer is one the document describes for this operation, and return
    its JSON: the status is listed and the body validates against the listed schema."""
    ops = [op for item in doc["paths"].values() for op in item.values()
           if op["operationId"] == operation_id]
    assert len(ops) == 1, operation_id
    described = ops[0]["responses"].get(str(response.status_code))
    assert described is not None, f"{operation_id} answered {response.status_code}, undocumented"
    if "$ref" in described:
        described = doc["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
    schema = described["content"]["application/json"]["schema"]
    body = response.json()
    jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(body)
    return body


def room(client, name="会議室A", capacity=10, **extra) -> dict[str, Any]:
    r = client.post(ROOMS, json={"name": name, "capacity": capacity, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def person(client, base=PEOPLE, **extra) -> dict[str, Any]:
    data = {"family_name": "山田", "given_name": "花子", "family_name_kana": "ヤマダ",
            "given_name_kana": "ハナコ", **extra}
    r = client.post(base, json=data)
    assert r.status_code == 201, r.text
    return r.json()


def household(client, base=HOUSEHOLDS, **extra) -> dict[str, Any]:
    r = client.post(base, json={"name": "山田家", "name_kana": "ヤマダケ", **extra})
    assert r.status_code == 201, r.text
    return r.json()


# --- the document ------------------------------------------------------------------------


def _served(routes, prefix: str = "") -> set[tuple[str, str]]:
    """(path, method) of every route in the app's Mount/Route tree."""
    out: set[tuple[str, str]] = set()
    for r in routes:
        if isinstance(r, Mount):
            out |= _served(r.routes, prefix + r.path)
        elif isinstance(r, Route):
            out |= {(prefix + r.path, m.lower()) for m in (r.methods or ()) if m != "HEAD"}
    return out


def test_openapi_document_is_valid_and_describes_every_route(client, doc):
    validate_spec(doc)
    assert doc["openapi"].startswith("3.1")
    served = {(p, m) for p, m in _served(client.app.routes) if p.startswith(API + "/")}
    described = {(p, m) for p, item in doc["paths"].items() for m in item}
    assert served == described
    assert len(served) >= 21  # the core's own; billing and calendar add theirs
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_every_operation_is_described_fully(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            where = f"{method} {path}"
            assert op["summary"] and op["tags"], where
            assert {p["name"] for p in op["parameters"] if p["in"] == "path"} == {
                seg[1:-1] for seg in path.split("/") if seg.startswith("{")}, where
            ok = [s for s in op["responses"] if s.startswith("2")]
            assert len(ok) == 1 and "schema" in op["responses"][ok[0]]["content"][
                "application/json"], where
            if "{" in path:
                assert "404" in op["responses"], where
            if method in ("post", "patch") and "requestBody" in op:
                assert {"400", "415", "422"} <= set(op["responses"]), where
    # Errors all point at the one error schema.
    for resp in doc["components"]["responses"].values():
        assert resp["content"]["application/json"]["schema"]["$ref"].endswith("/ApiError")


def test_schemas_come_from_the_pydantic_models(doc):
    from hubcore.rooms.schemas import RoomIn

    schemas = doc["components"]["schemas"]
    assert set(schemas["RoomIn"]["properties"]) == set(RoomIn.model_fields)
    assert schemas["RoomIn"]["properties"]["capacity"]["maximum"] == 1000
    assert set(schemas["RoomIn"]["required"]) == {"name", "capacity"}
    # PATCH takes any subset of the same fields.
    assert schemas["RoomPatch"]["properties"] == schemas["RoomIn"]["properties"]
    assert "required" not in schemas["RoomPatch"]
    patch = doc["paths"][f"{API}/sites/{{site}}/rooms/{{room_id}}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/RoomPatch")
    people = doc["paths"][f"{API}/sites/{{site}}/people"]["get"]
    limit = next(p for p in people["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 200


def test_index_links_lead_somewhere(client, doc, site):
    index = conforms(doc, "getApiIndex", client.get(f"{API}/"))
    assert index["openapi"] == f"{API}/openapi.json"
    for url in index["links"].values():
        assert client.get(url).status_code == 200, url


# --- sites and plugins -------------------------------------------------------------------


def test_municipalities_and_sites(client, doc, site):
    other = make_site("other", municipality="other-town")
    make_site("third", municipality="third-town")
    # Only what the token's user holds a role in exists for them.
    munis = conforms(doc, "listMunicipalities", client.get(f"{API}/municipalities"))
    assert {m["slug"] for m in munis} == {"test-town"}
    assert client.get(f"{API}/sites?municipality=other-town").status_code == 422
    assert client.get(f"{API}/sites/other").status_code == 404
    make_user(TEST_USER, ("viewer", other))
    munis = conforms(doc, "listMunicipalities", client.get(f"{API}/municipalities"))
    assert {m["slug"] for m in munis} == {"test-town", "other-town"}
    all_sites = conforms(doc, "listSites", client.get(f"{API}/sites"))
    assert {s["slug"] for s in all_sites} == {"test-site", "other"}
    only = conforms(doc, "listSites", client.get(f"{API}/sites?municipality=other-town"))
    assert [s["slug"] for s in only] == ["other"]
    r = client.get(f"{API}/sites?municipality=nowhere")
    assert conforms(doc, "listSites", r)["fields"].keys() == {"municipality"}
    assert r.status_code == 422
    one = conforms(doc, "getSite", client.get(f"{API}/sites/test-site"))
    assert one["name"] == "テスト拠点" and one["municipality"] == "test-town"
    assert one["links"]["rooms"] == ROOMS
    r = client.get(f"{API}/sites/nowhere")
    assert r.status_code == 404 and conforms(doc, "getSite", r)["error"] == "not_found"
    assert client.get(f"{API}/sites/nowhere/rooms").status_code == 404


def test_plugins_installed_and_per_site(client, doc, database):
    with registered(garden):
        migrate(get_host())
        a, b = make_site("a", plugins=("garden",)), make_site("b")
        make_user(TEST_USER, ("viewer", a), ("viewer", b))
        installed = conforms(doc, "listPlugins", client.get(f"{API}/plugins"))
        by_name = {p["name"]: p for p in installed}
        assert by_name["rooms"]["core"] is True and by_name["rooms"]["labels"]["ja"] == "部屋"
        assert by_name["garden"] == {
            "name": "garden", "labels": {"ja": "菜園", "en": "Garden"}, "version": "1.2.0",
            "requires": [], "core": False, "description": "Community garden plots (test plugin)."}
        on_a = conforms(doc, "listSitePlugins", client.get(f"{API}/sites/a/plugins"))
        on_b = conforms(doc, "listSitePlugins", client.get(f"{API}/sites/b/plugins"))
        assert {p["name"]: p["enabled"] for p in on_a}["garden"] is True
        # Other installed plugins may be listed too; these must be as stated.
        assert {p["name"]: p["enabled"] for p in on_b}.items() >= {
            "sites": True, "rooms": True, "people": True, "garden": False}.items()


# --- rooms -------------------------------------------------------------------------------


def test_room_create_get_patch_retire_restore(client, doc, site):
    r = client.post(ROOMS, json={"name": "和室", "capacity": 8, "features": ["tatami", "wifi"],
                                 "shareable": True})
    created = conforms(doc, "createRoom", r)
    assert r.status_code == 201
    assert r.headers["location"] == f"{ROOMS}/{created['id']}"
    assert "和室" in r.text  # UTF-8, not \u escapes
    assert created["features"] == ["tatami", "wifi"] and created["site"] == "test-site"

    got = conforms(doc, "getRoom", client.get(r.headers["location"]))
    assert got == created

    r = client.patch(f"{ROOMS}/{created['id']}", json={"capacity": "１２", "floor": "２階"})
    patched = conforms(doc, "updateRoom", r)
    assert r.status_code == 200
    # Only the fields given changed; the others kept their values.
    assert patched == {**created, "capacity": 12, "floor": "2階"}
    assert Room.get_by_id(created["id"]).capacity == 12

    conforms(doc, "retireRoom", client.post(f"{ROOMS}/{created['id']}/retire"))
    assert conforms(doc, "listRooms", client.get(ROOMS)) == []
    listed = conforms(doc, "listRooms", client.get(f"{ROOMS}?include_retired=true"))
    assert [x["retired"] for x in listed] == [True]
    restored = conforms(doc, "restoreRoom", client.post(f"{ROOMS}/{created['id']}/restore"))
    assert restored["retired"] is False
    assert [x["id"] for x in client.get(ROOMS).json()] == [created["id"]]


def test_invalid_room_is_422_with_fields_and_nothing_saved(client, doc, site):
    before = Room.select().count()
    r = client.post(ROOMS, json={"name": "", "capacity": 0, "features": ["pool"], "colour": "red"})
    body = conforms(doc, "createRoom", r)
    assert r.status_code == 422 and body["error"] == "invalid"
    assert set(body["fields"]) == {"name", "capacity", "features", "colour"}
    assert Room.select().count() == before

    made = room(client)
    r = client.patch(f"{ROOMS}/{made['id']}?lang=en", json={"capacity": 0, "notes": "x"})
    body = conforms(doc, "updateRoom", r)
    assert r.status_code == 422 and set(body["fields"]) == {"capacity"}
    assert body["fields"]["capacity"] == "Capacity must be 1 or more."
    stored = Room.get_by_id(made["id"])
    assert (stored.capacity, stored.notes) == (10, "")
    # What is not a room field is refused, not ignored.
    r = client.patch(f"{ROOMS}/{made['id']}", json={"retired": True})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"retired"}


def test_duplicate_room_name_is_422_on_name(client, doc, site):
    first = room(client, "会議室A")
    second = room(client, "会議室B")
    before = Room.select().count()
    # Full-width Ａ is the same name once normalised.
    r = client.post(ROOMS, json={"name": "会議室Ａ", "capacity": 4})
    assert r.status_code == 422 and set(conforms(doc, "createRoom", r)["fields"]) == {"name"}
    assert Room.select().count() == before
    r = client.patch(f"{ROOMS}/{second['id']}", json={"name": "会議室A"})
    assert r.status_code == 422 and set(conforms(doc, "updateRoom", r)["fields"]) == {"name"}
    assert Room.get_by_id(second["id"]).name == "会議室B"
    # Renaming a room to its own name is no clash.
    assert client.patch(f"{ROOMS}/{first['id']}", json={"name": "会議室A"}).status_code == 200


# --- people ------------------------------------------------------------------------------


def test_person_create_get_patch(client, doc, site):
    r = client.post(PEOPLE, json={"family_name": "佐藤", "given_name": "一郎",
                                  "family_name_kana": "さとう", "given_name_kana": "いちろう",
                                  "birth_date": "1950-04-01", "phone": "０２６３-１２-３４５６"})
    created = conforms(doc, "createPerson", r)
    assert r.status_code == 201 and r.headers["location"] == f"{PEOPLE}/{created['id']}"
    assert created["family_name_kana"] == "サトウ" and created["phone"] == "0263-12-3456"
    assert conforms(doc, "getPerson", client.get(r.headers["location"])) == created

    r = client.patch(f"{PEOPLE}/{created['id']}", json={"email": "ichiro@example.jp",
                                                         "birth_date": None})
    patched = conforms(doc, "updatePerson", r)
    assert patched == {**created, "email": "ichiro@example.jp", "birth_date": None}
    stored = Person.get_by_id(created["id"])
    assert (stored.email, stored.birth_date, stored.given_name) == (
        "ichiro@example.jp", None, "一郎")


def test_people_search_and_pages(client, doc, site):
    yamada = person(client)
    person(client, family_name="佐藤", family_name_kana="サトウ", given_name_kana="イチロウ")
    person(client, family_name="伊藤", family_name_kana="イトウ", given_name_kana="ケン")
    # Hiragana finds the katakana フリガナ; kanji finds the name.
    found = conforms(doc, "listPeople", client.get(PEOPLE, params={"q": "やまだ"}))
    assert found["total"] == 1 and [p["id"] for p in found["items"]] == [yamada["id"]]
    assert client.get(PEOPLE, params={"q": "山田 花子"}).json()["total"] == 1
    assert client.get(PEOPLE, params={"q": "ﾔﾏﾀﾞ"}).json()["total"] == 1

    page = conforms(doc, "listPeople", client.get(PEOPLE, params={"limit": 2}))
    assert page["total"] == 3 and len(page["items"]) == 2
    rest = client.get(PEOPLE, params={"limit": 2, "offset": 2}).json()
    # 五十音 order over both pages: イトウ, サトウ, ヤマダ.
    names = [p["family_name_kana"] for p in page["items"] + rest["items"]]
    assert names == ["イトウ", "サトウ", "ヤマダ"]

    r = client.get(PEOPLE, params={"limit": 201})
    assert r.status_code == 422 and set(conforms(doc, "listPeople", r)["fields"]) == {"limit"}
    assert client.get(PEOPLE, params={"limit": "many"}).status_code == 422


def test_invalid_person_is_422_with_fields_and_nothing_saved(client, doc, site):
    other = make_site("other", municipality="other-town")
    make_user(TEST_USER, ("site_manager", other))  # to set up its records
    foreign_household = household(client, f"{API}/sites/{other.slug}/households")
    before = Person.select().count()
    r = client.post(PEOPLE, json={"family_name": "", "given_name": "太郎",
                                  "family_name_kana": "Yamada", "given_name_kana": "タロウ",
                                  "birth_date": "1850-01-01", "email": "nope"})
    body = conforms(doc, "createPerson", r)
    assert r.status_code == 422
    assert set(body["fields"]) == {"family_name", "family_name_kana", "birth_date", "email"}
    # A household of another site is refused as if it did not exist.
    r = client.post(PEOPLE, json={"family_name": "山田", "given_name": "太郎",
                                  "family_name_kana": "ヤマダ", "given_name_kana": "タロウ",
                                  "household_id": foreign_household["id"]})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"household_id"}
    # An id past 64 bits is just as unknown (not a driver overflow and a 500).
    r = client.post(PEOPLE, json={"family_name": "山田", "given_name": "太郎",
                                  "family_name_kana": "ヤマダ", "given_name_kana": "タロウ",
                                  "household_id": 10**20})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"household_id"}
    assert Person.select().count() == before

    made = person(client)
    r = client.patch(f"{PEOPLE}/{made['id']}", json={"given_name_kana": "hanako"})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"given_name_kana"}
    assert Person.get_by_id(made["id"]).given_name_kana == "ハナコ"


# --- households --------------------------------------------------------------------------


def test_household_create_get_patch_with_members(client, doc, site, database):
    garden.EVENTS.clear()
    with registered(garden):
        migrate(get_host())
        make_site("test-site", plugins=("garden",))
        mother = person(client, given_name="花子", birth_date="1985-06-01")
        child = person(client, given_name="陽太", given_name_kana="ヒナタ",
                       birth_date="2018-03-03")
        grandpa = person(client, given_name="茂", given_name_kana="シゲル",
                         birth_date="1948-11-11")
        r = client.post(HOUSEHOLDS, json={"name": "山田家", "name_kana": "やまだけ",
                                          "postal_code": "３９９４３０１",
                                          "member_ids": [child["id"], mother["id"]]})
        created = conforms(doc, "createHousehold", r)
        assert r.status_code == 201
        assert r.headers["location"] == f"{HOUSEHOLDS}/{created['id']}"
        assert created["name_kana"] == "ヤマダケ" and created["postal_code"] == "399-4301"
        # Members eldest first, as the household page lists them.
        assert created["member_ids"] == [mother["id"], child["id"]]
        assert conforms(doc, "getHousehold", client.get(r.headers["location"])) == created
        assert client.get(f"{PEOPLE}/{child['id']}").json()["household_id"] == created["id"]

        url = f"{HOUSEHOLDS}/{created['id']}"
        # Fields alone leave the members as they are.
        patched = conforms(doc, "updateHousehold", client.patch(url, json={"phone": "0263-1-2345"}))
        assert patched == {**created, "phone": "0263-1-2345"}
        # member_ids is the whole list: grandpa joins, the mother leaves.
        garden.EVENTS.clear()
        patched = conforms(doc, "updateHousehold",
                           client.patch(url, json={"member_ids": [child["id"], grandpa["id"]]}))
        assert patched["member_ids"] == [grandpa["id"], child["id"]]
        assert Person.get_by_id(mother["id"]).household_id is None
        # Plugins heard of everyone who moved.
        moved = sorted(e for kind, e in garden.EVENTS if kind == "person_changed")
        assert moved == ["test-site:山田:False", "test-site:山田:False"]

        listed = conforms(doc, "listHouseholds", client.get(HOUSEHOLDS, params={"q": "やまだ"}))
        assert [(h["id"], h["member_ids"]) for h in listed] == [
            (created["id"], [grandpa["id"], child["id"]])]


def test_household_with_a_foreign_member_is_422_and_nothing_saved(client, doc, site):
    other = make_site("other", municipality="other-town")
    make_user(TEST_USER, ("site_manager", other))  # to set up its records
    stranger = person(client, f"{API}/sites/{other.slug}/people")
    mine = person(client)
    before = Household.select().count()
    r = client.post(HOUSEHOLDS, json={"name": "山田家", "name_kana": "ヤマダケ",
                                      "member_ids": [mine["id"], stranger["id"]]})
    body = conforms(doc, "createHousehold", r)
    assert r.status_code == 422 and set(body["fields"]) == {"member_ids"}
    assert Household.select().count() == before
    assert Person.get_by_id(mine["id"]).household_id is None

    h = household(client, member_ids=[mine["id"]])
    r = client.patch(f"{HOUSEHOLDS}/{h['id']}", json={"name": "新山田家",
                                                      "member_ids": [stranger["id"]]})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"member_ids"}
    assert Household.get_by_id(h["id"]).name == "山田家"
    assert Person.get_by_id(mine["id"]).household_id == h["id"]
    assert Person.get_by_id(stranger["id"]).household_id is None


# --- another site's records, bad bodies, wrong methods -----------------------------------


def test_another_sites_records_are_not_found(client, doc, site):
    other = make_site("other", municipality="other-town")
    make_user(TEST_USER, ("site_manager", other))  # to set up its records
    theirs = f"{API}/sites/{other.slug}"
    their_room = room(client)  # on test-site ...
    # ... and the same kinds of record on the other site.
    r = client.post(f"{theirs}/rooms", json={"name": "ホール", "capacity": 50})
    foreign_room = r.json()
    foreign_person = person(client, f"{theirs}/people")
    foreign_household = household(client, f"{theirs}/households")

    for op, method, url, body in [
        ("getRoom", "GET", f"{ROOMS}/{foreign_room['id']}", None),
        ("updateRoom", "PATCH", f"{ROOMS}/{foreign_room['id']}", {"capacity": 1}),
        ("retireRoom", "POST", f"{ROOMS}/{foreign_room['id']}/retire", None),
        ("getPerson", "GET", f"{PEOPLE}/{foreign_person['id']}", None),
        ("updatePerson", "PATCH", f"{PEOPLE}/{foreign_person['id']}", {"notes": "x"}),
        ("getHousehold", "GET", f"{HOUSEHOLDS}/{foreign_household['id']}", None),
        ("updateHousehold", "PATCH", f"{HOUSEHOLDS}/{foreign_household['id']}", {"phone": ""}),
        ("getRoom", "GET", f"{ROOMS}/999999", None),
        ("getRoom", "GET", f"{ROOMS}/abc", None),
        ("getRoom", "GET", f"{ROOMS}/99999999999999999999999", None),
    ]:
        r = client.request(method, url, json=body)
        assert r.status_code == 404, (method, url)
        assert conforms(doc, op, r) == {"error": "not_found", "message": r.json()["message"],
                                        "fields": {}}
    # Nothing of theirs changed.
    assert Room.get_by_id(foreign_room["id"]).capacity == 50
    assert Room.get_by_id(foreign_room["id"]).retired is False
    assert Person.get_by_id(foreign_person["id"]).notes == ""
    assert client.get(f"{ROOMS}/{their_room['id']}").status_code == 200


def test_body_that_is_not_a_json_object_is_400_and_nothing_saved(client, doc, site):
    before = Room.select().count()
    json_type = {"content-type": "application/json"}
    for content in (b"name=x&capacity=3", b'{"name": "x", ', b'["name", "x"]', b'"x"', b"",
                    b"\xff\xfe"):
        r = client.post(ROOMS, content=content, headers=json_type)
        assert r.status_code == 400, content
        assert conforms(doc, "createRoom", r)["error"] == "bad_request"
    made = room(client)
    r = client.patch(f"{ROOMS}/{made['id']}", content=b"capacity=3", headers=json_type)
    assert r.status_code == 400
    # A form post (the kind another site's page could send) is refused by its type.
    r = client.post(ROOMS, data={"name": "x", "capacity": "3"})
    assert r.status_code == 415
    assert conforms(doc, "createRoom", r)["error"] == "unsupported_media_type"
    # application/*+json and a charset are fine.
    r = client.post(ROOMS, content='{"name": "ホール", "capacity": 3}'.encode(),
                    headers={"content-type": "application/merge-patch+json; charset=utf-8"})
    assert r.status_code == 201
    assert Room.select().count() == before + 2


def test_too_large_body_is_refused(client, site):
    r = client.post(ROOMS, json={"name": "x", "capacity": 3, "notes": "あ" * 400_000})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    # Sent in chunks with no Content-Length: reading stops at the limit all the same.
    chunks = iter([b'{"name": "x", "capacity": 3, "notes": "', b"a" * 600_000, b"a" * 600_000,
                   b'"}'])
    r = client.post(ROOMS, content=chunks, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert Room.select().count() == 0


def test_wrong_method_is_405_with_allow(client, site):
    r = client.delete(ROOMS)
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD, POST"
    assert r.json()["error"] == "method_not_allowed"
    made = room(client)
    r = client.put(f"{ROOMS}/{made['id']}", json={"name": "x", "capacity": 1})
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, PATCH"
    assert client.get(f"{ROOMS}/{made['id']}/retire").status_code == 405
    assert Room.get_by_id(made["id"]).retired is False


def test_unknown_api_path_is_json_404(client):
    r = client.get(f"{API}/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
