"""Rooms: operations and the HTTP layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from hubcore.errors import Invalid, NotFound
from hubcore.forms import validate
from hubcore.rooms import operations as ops
from hubcore.rooms.models import Room
from hubcore.rooms.schemas import RoomIn
from hubcore.testing import make_site

HX = {"HX-Request": "true"}


def room(site, **fields):
    return ops.create_room(site, validate(RoomIn, {"name": "和室", "capacity": 10, **fields}))


def test_create_list_and_sort(site):
    room(site, name="調理室", capacity=20, sort_order=2, features=["kitchen"])
    room(site, name="和室", capacity=12, sort_order=1, features=["tatami", "nap_area"])
    rooms = ops.list_rooms(site)
    assert [r.name for r in rooms] == ["和室", "調理室"]
    assert rooms[0].feature_list == ["tatami", "nap_area"]


def test_duplicate_names_are_refused_full_width_and_retired_included(site):
    r = room(site, name="会議室A")
    with pytest.raises(Invalid) as exc:
        room(site, name="会議室Ａ")  # full-width Ａ is the same name to a person
    assert set(exc.value.errors) == {"name"}
    ops.set_retired(r, True)
    with pytest.raises(Invalid):
        room(site, name="会議室A")
    # Another site may use the name.
    other = make_site("other", municipality="other-town")
    assert room(other, name="会議室A").id


def test_invalid_input_names_each_field_and_saves_nothing(site):
    with pytest.raises(Invalid) as exc:
        validate(RoomIn, {"name": "", "capacity": "0", "features": ["pool"], "floor": "x" * 30})
    assert set(exc.value.errors) == {"name", "capacity", "features", "floor"}
    assert Room.select().count() == 0


def test_full_width_numbers_are_accepted():
    assert validate(RoomIn, {"name": "x", "capacity": "１５"}).capacity == 15


def test_update_and_retire_and_restore(site):
    r = room(site)
    ops.update_room(r, validate(RoomIn, {"name": "大広間", "capacity": 40, "shareable": "on"}))
    fresh = ops.get_room(site, r.id)
    assert (fresh.name, fresh.capacity, fresh.shareable) == ("大広間", 40, True)
    ops.set_retired(fresh, True)
    assert ops.list_rooms(site) == [] and len(ops.list_rooms(site, include_retired=True)) == 1
    ops.set_retired(fresh, False)
    assert [x.id for x in ops.list_rooms(site)] == [r.id]


def test_a_room_of_another_site_is_not_found(site):
    other = make_site("other", municipality="other-town")
    r = room(other)
    with pytest.raises(NotFound):
        ops.get_room(site, r.id)


def test_rooms_page_and_htmx_create(client, site):
    page = client.get(f"/s/{site.slug}/rooms/?lang=en")
    assert page.status_code == 200 and 'id="room-form"' in page.text
    r = client.post(f"/s/{site.slug}/rooms/?lang=en", headers=HX,
                    data={"name": "図書コーナー", "capacity": "8", "features": ["wifi"]})
    assert r.status_code == 201
    # A fresh form, and the table body swapped out of band with the new row in it.
    assert 'id="room-form"' in r.text and 'hx-swap-oob="true"' in r.text
    assert "図書コーナー" in r.text and 'value=""' in r.text
    assert Room.get(Room.name == "図書コーナー").feature_list == ["wifi"]


def test_invalid_post_is_422_with_the_form_and_saves_nothing(client, site):
    r = client.post(f"/s/{site.slug}/rooms/?lang=en", headers=HX,
                    data={"name": "", "capacity": "many"})
    assert r.status_code == 422
    assert 'id="name-error"' in r.text and 'id="capacity-error"' in r.text
    assert 'aria-invalid="true"' in r.text
    assert Room.select().count() == 0


def test_duplicate_post_is_refused(client, site):
    room(site, name="和室")
    r = client.post(f"/s/{site.slug}/rooms/?lang=en", headers=HX,
                    data={"name": "和室", "capacity": "5"})
    assert r.status_code == 422 and 'id="name-error"' in r.text
    assert Room.select().count() == 1


def test_plain_form_post_redirects(client, site):
    r = client.post(f"/s/{site.slug}/rooms/", data={"name": "相談室", "capacity": "4"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/s/{site.slug}/rooms/"


def test_edit_and_retire_over_http(client, site):
    r = room(site)
    page = client.get(f"/s/{site.slug}/rooms/{r.id}/edit/?lang=en")
    assert page.status_code == 200 and 'value="和室"' in page.text
    bad = client.post(f"/s/{site.slug}/rooms/{r.id}/edit/", data={"name": "和室", "capacity": "-1"})
    assert bad.status_code == 422 and Room.get_by_id(r.id).capacity == 10
    ok = client.post(f"/s/{site.slug}/rooms/{r.id}/edit/", data={"name": "和室2", "capacity": "9"},
                     follow_redirects=False)
    assert ok.status_code == 303 and Room.get_by_id(r.id).name == "和室2"
    row = client.post(f"/s/{site.slug}/rooms/{r.id}/retire/", headers=HX)
    assert row.status_code == 200 and f'id="room-{r.id}"' in row.text and "retired" in row.text
    assert Room.get_by_id(r.id).retired
    client.post(f"/s/{site.slug}/rooms/{r.id}/restore/", headers=HX)
    assert not Room.get_by_id(r.id).retired


def test_another_sites_room_is_404_over_http(client, site):
    other = make_site("other", municipality="other-town")
    r = room(other)
    assert client.get(f"/s/{site.slug}/rooms/{r.id}/edit/").status_code == 404
    assert client.post(f"/s/{site.slug}/rooms/{r.id}/retire/").status_code == 404
    assert not Room.get_by_id(r.id).retired
