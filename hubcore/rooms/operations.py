"""Rooms: plain functions over the models, no HTTP."""

from __future__ import annotations

import peewee

from hubcore.db import get_in_site, write_transaction
from hubcore.errors import Invalid
from hubcore.i18n import gettext as _
from hubcore.rooms.models import ROOM_FEATURES, Room
from hubcore.rooms.schemas import RoomIn, RoomOut
from hubcore.sites.models import Site


def feature_labels() -> dict[str, str]:
    labels = {
        "kitchen": _("Kitchen"),
        "tatami": _("Tatami"),
        "nap_area": _("Nap area"),
        "accessible_toilet": _("Accessible toilet"),
        "projector": _("Projector"),
        "wifi": _("Wi-Fi"),
    }
    return {k: labels[k] for k in ROOM_FEATURES}


def list_rooms(site: Site, include_retired: bool = False) -> list[Room]:
    q = Room.select().where(Room.site == site)
    if not include_retired:
        q = q.where(~Room.retired)
    return list(q.order_by(Room.retired, Room.sort_order, Room.name))


def get_room(site: Site, room_id: int | str) -> Room:
    return get_in_site(Room, site, room_id)


def _duplicate(name: str) -> Invalid:
    return Invalid({"name": _("This site already has a room named “{name}” "
                              "(retired rooms included).").format(name=name)})


def _apply(room: Room, data: RoomIn) -> None:
    room.name = data.name
    room.capacity = data.capacity
    room.floor = data.floor
    room.features = ",".join(f for f in ROOM_FEATURES if f in data.features)
    room.shareable = data.shareable
    room.notes = data.notes
    room.sort_order = data.sort_order


def _save(room: Room, site: Site, data: RoomIn) -> Room:
    with write_transaction():
        clash = Room.select().where((Room.site == site) & (Room.name == data.name))
        if room.id is not None:
            clash = clash.where(Room.id != room.id)
        if clash.exists():
            raise _duplicate(data.name)
        _apply(room, data)
        try:
            room.save()
        except peewee.IntegrityError:  # a concurrent writer took the name first
            raise _duplicate(data.name) from None
    return room


def create_room(site: Site, data: RoomIn) -> Room:
    return _save(Room(site=site), site, data)


def update_room(room: Room, data: RoomIn) -> Room:
    return _save(room, room.site, data)


def set_retired(room: Room, retired: bool) -> Room:
    """Retire a room (hidden from lists and new bookings, history kept) or bring it back."""
    with write_transaction():
        Room.update(retired=retired).where(Room.id == room.id).execute()
    room.retired = retired
    return room


def room_out(room: Room, site_slug: str) -> RoomOut:
    return RoomOut(id=room.id, site=site_slug, name=room.name, capacity=room.capacity,
                   floor=room.floor, features=room.feature_list, shareable=room.shareable,
                   notes=room.notes, sort_order=room.sort_order, retired=room.retired)
