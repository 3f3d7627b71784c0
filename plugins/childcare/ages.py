"""Class age (学年齢): a child's age on April 1 of the school year, and age bands."""

from __future__ import annotations

import datetime as dt

from hubcore.people.models import age_on


def school_year(day: dt.date) -> int:
    """The school (and fiscal) year ``day`` falls in: April to March, named by its April."""
    return day.year if day.month >= 4 else day.year - 1


def class_age(birth: dt.date | None, day: dt.date) -> int | None:
    """The child's age on April 1 of the school year of ``day`` (None without a birth date).

    A child keeps this age the whole year: born 2022-04-01 is 2 on 2024-04-01 and sits
    with the older class (早生まれ) all year, born 2022-04-02 is 1 until next April.
    Under Japan's age law a person gets a year older at the end of the day before the
    birthday, so an April 1 birthday already counts on April 1 and the April 1 child
    joins the older class. A baby born during the school year (after April 1) is in the
    0歳 class: 0, never -1.
    """
    if birth is None:
        return None
    return max(0, age_on(birth, dt.date(school_year(day), 4, 1)))
