"""The childcare plugin's tables (childcare_*).

A child is a core ``Person``; guardians are people of the child's household. What
childcare adds lives here: the child's record (allergies, medical notes and photo
consent), who may pick the child up, emergency contacts, reservations with a
waitlist, attendance of children and staff, head counts of the open space, the
after-school club's enrolments, a household's relief bracket and the settings.
Times are stored as naive UTC (``UTCField``) and read back aware.
"""

from __future__ import annotations

import peewee

from hubcore.billing.models import Organisation
from hubcore.calendar.models import Booking, UTCField
from hubcore.db import BaseModel, utcnow
from hubcore.people.models import Household, Person
from hubcore.rooms.models import Room
from hubcore.sites.models import Municipality, Site

# The three programs a site may run (a site runs any of them).
DROPIN = "dropin"  # 一時預かり: by the hour, half day or day
AFTERSCHOOL = "afterschool"  # 放課後児童クラブ: monthly enrolment
HIROBA = "hiroba"  # 親子ひろば: free, head count only
PROGRAMS = (DROPIN, AFTERSCHOOL, HIROBA)

# Reservation states: a booked place, a place on the waitlist, cancelled.
BOOKED, WAITLISTED, CANCELLED = "booked", "waitlisted", "cancelled"
RESERVATION_STATUSES = (BOOKED, WAITLISTED, CANCELLED)

# How the staff a mixed-age group needs is rounded (see ratios.required_staff).
ROUNDING_MODES = ("sum", "band_ceil", "band_tenth")
# Drop-in price shapes from the domain notes.
PRICE_SHAPES = ("band_session", "per_30min")
RELIEF_MODES = ("discount", "refund")


class Settings(BaseModel):
    """A site's childcare settings: one row per site, made with defaults on first use."""

    site = peewee.ForeignKeyField(Site, unique=True, on_delete="CASCADE")
    # Closing time of drop-in care as HH:MM local; a pickup after it is late.
    closing_time = peewee.CharField(max_length=5, default="18:00")
    price_shape = peewee.CharField(max_length=20, default="band_session")
    # A drop-in stay up to this long is a half day (band_session shape).
    half_day_minutes = peewee.IntegerField(default=240)
    # Percent off the care fee of the second and later child of a household on a day.
    sibling_discount_percent = peewee.IntegerField(default=0)
    relief_mode = peewee.CharField(max_length=10, default="discount")
    # The municipality as an organisation payer: claims relief given as a discount.
    relief_payer = peewee.ForeignKeyField(Organisation, null=True, on_delete="SET NULL")
    # Late pickups: fee per started block of this many minutes after closing.
    late_block_minutes = peewee.IntegerField(default=30)

    class Meta:
        table_name = "childcare_settings"


class RatioRule(BaseModel):
    """Children per member of staff for a class-age band, per municipality, with dates.

    The municipality changes these; ``ratios.DEFAULT_RULES`` (the national values from
    the domain notes) apply where it has none.
    """

    municipality = peewee.ForeignKeyField(Municipality, on_delete="CASCADE")
    min_age = peewee.IntegerField()  # class age, inclusive
    max_age = peewee.IntegerField(null=True)  # inclusive; None: and older
    children_per_staff = peewee.IntegerField()
    valid_from = peewee.DateField()
    # Rounding and minimum staff of the rule set from ``valid_from`` (the same on each of
    # its rows), so that a change from a date leaves earlier days as they were.
    # None: the municipality's ``RatioSettings``.
    rounding = peewee.CharField(max_length=20, null=True)
    minimum_staff = peewee.IntegerField(null=True)

    class Meta:
        table_name = "childcare_ratio_rule"
        indexes = ((("municipality", "valid_from", "min_age"), True),)


class RatioSettings(BaseModel):
    """How a municipality rounds the staff a mixed-age group needs on days without a rule
    set of its own (the national values); a rule set carries its own (``RatioRule``)."""

    municipality = peewee.ForeignKeyField(Municipality, unique=True, on_delete="CASCADE")
    rounding = peewee.CharField(max_length=20, default="sum")
    # Staff needed whenever at least one child is present (many towns say 2).
    minimum_staff = peewee.IntegerField(default=1)

    class Meta:
        table_name = "childcare_ratio_settings"


class ReliefBracket(BaseModel):
    """A municipality's relief per child per day for a household bracket (meals excluded)."""

    municipality = peewee.ForeignKeyField(Municipality, on_delete="CASCADE")
    code = peewee.CharField(max_length=30)  # e.g. "welfare", "exempt"
    label = peewee.CharField(max_length=100)
    amount = peewee.IntegerField()  # yen per child per day
    valid_from = peewee.DateField()

    class Meta:
        table_name = "childcare_relief_bracket"
        indexes = ((("municipality", "code", "valid_from"), True),)


class HouseholdRelief(BaseModel):
    """A household's relief bracket (income: 要配慮個人情報) for a span of days."""

    household = peewee.ForeignKeyField(Household, on_delete="CASCADE")
    bracket = peewee.CharField(max_length=30)  # ReliefBracket.code
    valid_from = peewee.DateField()
    valid_to = peewee.DateField(null=True)
    created_at = UTCField(default=utcnow)

    class Meta:
        table_name = "childcare_household_relief"
        indexes = ((("household", "valid_from"), False),)


class Child(BaseModel):
    """Childcare's record of a child (a core Person)."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    person = peewee.ForeignKeyField(Person, unique=True, on_delete="CASCADE")
    photo_consent = peewee.BooleanField(default=False)
    # Sensitive (要配慮個人情報): shown only with childcare.health, every read logged.
    allergies = peewee.TextField(default="")
    medical_notes = peewee.TextField(default="")
    active = peewee.BooleanField(default=True)
    created_at = UTCField(default=utcnow)

    class Meta:
        table_name = "childcare_child"


class PickupPerson(BaseModel):
    """Someone allowed to collect a child: a household member or a named outsider."""

    child = peewee.ForeignKeyField(Child, backref="pickup_people", on_delete="CASCADE")
    person = peewee.ForeignKeyField(Person, null=True, on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    relation = peewee.CharField(max_length=30, default="")
    # How staff recognise them (e.g. 眼鏡、白い軽自動車).
    note = peewee.CharField(max_length=200, default="")
    phone = peewee.CharField(max_length=20, default="")
    active = peewee.BooleanField(default=True)

    class Meta:
        table_name = "childcare_pickup_person"


class EmergencyContact(BaseModel):
    child = peewee.ForeignKeyField(Child, backref="emergency_contacts", on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    relation = peewee.CharField(max_length=30, default="")
    phone = peewee.CharField(max_length=20)
    priority = peewee.IntegerField(default=1)  # called in this order

    class Meta:
        table_name = "childcare_emergency_contact"


class CareRoom(BaseModel):
    """A room used for childcare and how many children it takes at once."""

    room = peewee.ForeignKeyField(Room, unique=True, on_delete="CASCADE")
    capacity = peewee.IntegerField()

    class Meta:
        table_name = "childcare_room"


NAP = "nap"  # 午睡: a session kind of its own; the room next door must stay quiet
SESSION_KINDS = (*PROGRAMS, NAP)


class Session(BaseModel):
    """A childcare session: a core calendar booking (program "childcare") and its kind.

    Drop-in places are reserved inside a session; its ``capacity`` (None: the care
    room's) is how many children it takes at once.
    """

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    booking = peewee.ForeignKeyField(Booking, unique=True, on_delete="CASCADE")
    kind = peewee.CharField(max_length=20)
    capacity = peewee.IntegerField(null=True)

    class Meta:
        table_name = "childcare_session"


class Reservation(BaseModel):
    """A guardian's request for a place: booked, or waitlisted until a place frees."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    child = peewee.ForeignKeyField(Child, backref="reservations", on_delete="CASCADE")
    room = peewee.ForeignKeyField(Room, on_delete="RESTRICT")
    program = peewee.CharField(max_length=20, default=DROPIN)
    day = peewee.DateField()  # local date
    start_at = UTCField()
    end_at = UTCField()
    status = peewee.CharField(max_length=12, default=BOOKED)
    lunch = peewee.BooleanField(default=False)
    snack = peewee.BooleanField(default=False)
    notes = peewee.CharField(max_length=300, default="")
    # Waitlist order: first come, first served.
    requested_at = UTCField(default=utcnow)
    created_at = UTCField(default=utcnow)

    class Meta:
        table_name = "childcare_reservation"
        indexes = ((("site", "day", "room"), False), (("child", "day"), False))


class Attendance(BaseModel):
    """A child's stay: check-in, check-out and who collected them."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    child = peewee.ForeignKeyField(Child, backref="attendances", on_delete="CASCADE")
    reservation = peewee.ForeignKeyField(Reservation, null=True, on_delete="SET NULL")
    room = peewee.ForeignKeyField(Room, on_delete="RESTRICT")
    program = peewee.CharField(max_length=20, default=DROPIN)
    day = peewee.DateField()  # local date
    checked_in_at = UTCField()
    checked_out_at = UTCField(null=True)
    picked_up_by = peewee.ForeignKeyField(PickupPerson, null=True, on_delete="SET NULL")
    picked_up_name = peewee.CharField(max_length=100, default="")  # kept if the row goes
    # Minutes after closing time at check-out (0: on time): billed as a late fee.
    late_minutes = peewee.IntegerField(default=0)
    lunch = peewee.BooleanField(default=False)
    snack = peewee.BooleanField(default=False)

    class Meta:
        table_name = "childcare_attendance"
        indexes = ((("site", "day"), False), (("child", "day"), False))


class Staff(BaseModel):
    """A member of childcare staff who checks in on the tablet."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    name_kana = peewee.CharField(max_length=200, default="")
    qualified = peewee.BooleanField(default=True)  # 保育士
    active = peewee.BooleanField(default=True)

    class Meta:
        table_name = "childcare_staff"


class StaffAttendance(BaseModel):
    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    staff = peewee.ForeignKeyField(Staff, backref="attendances", on_delete="CASCADE")
    room = peewee.ForeignKeyField(Room, on_delete="RESTRICT")
    day = peewee.DateField()
    checked_in_at = UTCField()
    checked_out_at = UTCField(null=True)

    class Meta:
        table_name = "childcare_staff_attendance"
        indexes = ((("site", "day"), False),)


class Enrolment(BaseModel):
    """A child's enrolment in the after-school club, by month (first and last month)."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    child = peewee.ForeignKeyField(Child, backref="enrolments", on_delete="CASCADE")
    first_month = peewee.DateField()  # the 1st of the month
    last_month = peewee.DateField(null=True)  # the 1st of the last month; None: open
    created_at = UTCField(default=utcnow)

    class Meta:
        table_name = "childcare_enrolment"


class HeadCount(BaseModel):
    """親子ひろば: how many children and adults came, per room, day and hour slot."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    room = peewee.ForeignKeyField(Room, on_delete="RESTRICT")
    day = peewee.DateField()
    hour = peewee.IntegerField()  # local hour the visitors arrived in
    children = peewee.IntegerField(default=0)
    adults = peewee.IntegerField(default=0)

    class Meta:
        table_name = "childcare_head_count"
        indexes = ((("site", "day", "room", "hour"), True),)


MODELS = [Settings, RatioRule, RatioSettings, ReliefBracket, HouseholdRelief, Child,
          PickupPerson, EmergencyContact, CareRoom, Session, Reservation, Attendance, Staff,
          StaffAttendance, Enrolment, HeadCount]
