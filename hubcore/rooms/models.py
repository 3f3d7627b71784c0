"""Rooms of a site."""

from __future__ import annotations

import peewee

from hubcore.db import BaseModel
from hubcore.sites.models import Site

# Features a hub's rooms commonly have; stored as a comma-separated list of keys.
ROOM_FEATURES = ("kitchen", "tatami", "nap_area", "accessible_toilet", "projector", "wifi")


class Room(BaseModel):
    site = peewee.ForeignKeyField(Site, backref="rooms", on_delete="RESTRICT")
    name = peewee.CharField(max_length=100)
    capacity = peewee.IntegerField()
    floor = peewee.CharField(max_length=20, default="")
    features = peewee.CharField(max_length=300, default="")
    # Two groups may use the room at once while their headcounts fit the capacity.
    shareable = peewee.BooleanField(default=False)
    notes = peewee.TextField(default="")
    sort_order = peewee.IntegerField(default=0)
    # Retired rooms keep their history (bookings will point at them) but are hidden.
    retired = peewee.BooleanField(default=False, index=True)

    class Meta:
        table_name = "room"
        indexes = ((("site", "name"), True),)

    @property
    def feature_list(self) -> list[str]:
        return [f for f in self.features.split(",") if f]


MODELS = [Room]
