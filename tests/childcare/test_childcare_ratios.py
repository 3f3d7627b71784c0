"""Staff ratios: band boundaries, the rounding modes, the April 1 rule, municipal rules."""

from __future__ import annotations

import datetime as dt

import pytest

from hubcore.errors import Invalid
from hubcore.sites.models import Municipality
from plugins.childcare.ages import class_age, school_year
from plugins.childcare.models import RatioRule, RatioSettings
from plugins.childcare.ratios import (
    DEFAULT_RULES,
    Band,
    PolicyBook,
    RatioPolicy,
    band_counts,
    policy_on,
    required_staff,
    set_rules,
    staff_needed,
)

NEW = dt.date(2024, 4, 1)  # 3歳 15:1 and 4歳+ 25:1 from this day
OLD_DAY = dt.date(2024, 3, 31)
DAY = dt.date(2026, 6, 10)
NATIONAL = DEFAULT_RULES[-1][1]


def national(day: dt.date = DAY, rounding: str = "sum", minimum: int = 1) -> RatioPolicy:
    since, bands = max((r for r in DEFAULT_RULES if r[0] <= day), key=lambda r: r[0])
    return RatioPolicy(bands, rounding, minimum, False, since)


# --- band boundaries (national values, the safe rule) -----------------------------------


@pytest.mark.parametrize(("age", "fits_one", "needs_two"), [
    (0, 3, 4),    # 0歳 3:1
    (1, 6, 7),    # 1–2歳 6:1
    (2, 6, 7),
    (3, 15, 16),  # 3歳 15:1 from 2024-04-01
    (4, 25, 26),  # 4歳+ 25:1 from 2024-04-01
    (5, 25, 26),
    (9, 25, 26),  # an after-school child: the open band
])
def test_one_band_at_its_boundary(age, fits_one, needs_two):
    p = national()
    assert staff_needed(p, [age] * fits_one) == 1
    assert staff_needed(p, [age] * needs_two) == 2
    assert staff_needed(p, [age] * (fits_one * 2)) == 2
    assert staff_needed(p, [age] * (fits_one * 2 + 1)) == 3


@pytest.mark.parametrize(("age", "fits_one", "needs_two"), [(3, 20, 21), (4, 30, 31)])
def test_the_older_values_apply_before_april_2024(age, fits_one, needs_two):
    before, after = national(OLD_DAY), national(NEW)
    assert before.valid_from == dt.date(2015, 4, 1) and after.valid_from == NEW
    assert staff_needed(before, [age] * fits_one) == 1
    assert staff_needed(before, [age] * needs_two) == 2
    # The same children from April 1 2024 need more staff.
    assert staff_needed(after, [age] * fits_one) == 2


def test_national_values_from_the_database_side(database):
    """Without rules of its own a municipality gets the national values of the day."""
    m = Municipality.create(slug="nowhere", name="どこか町", name_kana="ドコカチョウ")
    p_old, p_new = policy_on(m, OLD_DAY), policy_on(m, NEW)
    assert not p_old.from_municipality and not p_new.from_municipality
    assert [b.children_per_staff for b in p_old.bands] == [3, 6, 20, 30]
    assert [b.children_per_staff for b in p_new.bands] == [3, 6, 15, 25]
    assert (p_new.rounding, p_new.minimum_staff, p_new.valid_from) == ("sum", 1, NEW)


def test_no_children_need_no_staff_and_the_minimum_applies_with_one():
    assert staff_needed(national(), []) == 0
    assert staff_needed(national(minimum=2), []) == 0
    assert staff_needed(national(minimum=2), [4]) == 2
    assert staff_needed(national(minimum=2), [0] * 9) == 3  # the ratio above the minimum


def test_exact_fractions_never_round_up_a_whole_number():
    p = national()
    # 3 × 1/3 is exactly 1 (floats make 1.0000000000000002 of some such sums).
    assert staff_needed(p, [0, 0, 0]) == 1
    assert staff_needed(p, [0] * 2 + [1] * 2) == 1  # 2/3 + 2/6 = 1
    assert staff_needed(p, [3] * 5 + [0] * 2) == 1  # 5/15 + 2/3 = 1


# --- mixed groups under each rounding mode ------------------------------------------------


@pytest.mark.parametrize(("ages", "safe", "each_up", "tenth"), [
    # 0歳 1 (1/3) and 1歳 1 (1/6): half a member of staff, or one per band rounded up.
    ([0, 1], 1, 2, 1),
    # 0歳 2 (0.67) + 1歳 2 (0.33) + 4歳 1 (0.04) = 1.04: the safe rule needs 2, each band
    # rounded up 3, cut to tenths (0.6 + 0.3 + 0.0 = 0.9) only 1 — all three differ.
    ([0, 0, 1, 1, 4], 2, 3, 1),
    # 26 four-year-olds: 1.04 → 2 under the safe rule, 1.0 → 1 cut to tenths.
    ([4] * 26, 2, 2, 1),
    # Bands that add up to whole numbers agree everywhere.
    ([0, 0, 0, 1, 1, 1, 1, 1, 1], 2, 2, 2),
    # 3歳 8 (0.533) + 4歳 13 (0.52): 1.053 → 2; each up 2; tenths 0.5 + 0.5 = 1.0 → 1.
    ([3] * 8 + [4] * 13, 2, 2, 1),
])
def test_mixed_group_under_each_rounding(ages, safe, each_up, tenth):
    assert staff_needed(national(rounding="sum"), ages) == safe
    assert staff_needed(national(rounding="band_ceil"), ages) == each_up
    assert staff_needed(national(rounding="band_tenth"), ages) == tenth


def test_band_counts_keep_every_band_in_order():
    p = national()
    counts = band_counts(p, [0, 2, 2, 5, None])
    assert list(counts) == list(p.bands)
    assert list(counts.values()) == [2, 2, 0, 1]  # the child without a birth date is 0歳


def test_required_staff_refuses_an_unknown_rounding():
    with pytest.raises(ValueError):
        required_staff({NATIONAL[0]: 1}, "nearest")


def test_each_rounding_is_described_in_words():
    labels = {national(rounding=r).rounding_label for r in ("sum", "band_ceil", "band_tenth")}
    assert len(labels) == 3 and all(len(s) > 10 for s in labels)


# --- the April 1 rule (class age) ----------------------------------------------------------


def test_born_april_first_joins_the_older_class():
    day = dt.date(2024, 6, 1)
    assert class_age(dt.date(2022, 4, 1), day) == 2  # 早生まれ: with those born 2021-04-02…
    assert class_age(dt.date(2022, 4, 2), day) == 1
    p = national(day)
    assert p.band_of(class_age(dt.date(2021, 4, 1), day)).min_age == 3  # 3歳 class, 15:1
    assert p.band_of(class_age(dt.date(2021, 4, 2), day)).min_age == 1  # 1–2歳 class, 6:1


def test_a_child_turning_one_in_may_stays_in_the_zero_class_until_april():
    birth = dt.date(2023, 5, 20)
    for day in (dt.date(2024, 4, 1), dt.date(2024, 5, 20), dt.date(2024, 12, 1),
                dt.date(2025, 3, 31)):
        assert class_age(birth, day) == 0, day
    assert class_age(birth, dt.date(2025, 4, 1)) == 1
    # Four of them in November still need two staff (0歳 3:1) though they are all 1 now.
    assert staff_needed(national(), [class_age(birth, dt.date(2024, 11, 1))] * 4) == 2


def test_a_baby_born_this_school_year_is_in_the_zero_class():
    assert class_age(dt.date(2024, 6, 1), dt.date(2024, 9, 1)) == 0
    assert school_year(dt.date(2025, 3, 31)) == 2024 and school_year(NEW) == 2024


def test_a_missing_birth_date_counts_as_the_youngest_band():
    p = national()
    assert class_age(None, DAY) is None
    assert p.band_of(None) == p.bands[0]
    assert staff_needed(p, [None] * 4) == 2  # four 0歳: never under-staffed for a gap
    assert staff_needed(p, [5] * 4) == 1


# --- municipal rules ---------------------------------------------------------------------------


@pytest.fixture
def town(database):
    return Municipality.create(slug="kawa", name="川町", name_kana="カワチョウ")


def test_a_municipality_overrides_the_national_values_from_a_date(town):
    own = [Band(0, 0, 3), Band(1, 1, 5), Band(2, 2, 6), Band(3, None, 20)]
    set_rules(town, dt.date(2026, 4, 1), own, rounding="band_ceil", minimum_staff=2)
    before, after = policy_on(town, dt.date(2026, 3, 31)), policy_on(town, dt.date(2026, 4, 1))
    assert not before.from_municipality and before.bands == NATIONAL
    assert (before.rounding, before.minimum_staff) == ("sum", 1)  # earlier days keep theirs
    assert after.from_municipality and after.bands == tuple(own)
    assert (after.rounding, after.minimum_staff, after.valid_from) == (
        "band_ceil", 2, dt.date(2026, 4, 1))
    assert staff_needed(after, [1] * 6) == 2  # 1歳 5:1 here, 6:1 nationally
    assert staff_needed(before, [1] * 6) == 1
    assert staff_needed(after, [5]) == 2  # the town's minimum


def test_a_later_rule_set_takes_over_and_the_same_date_replaces(town):
    set_rules(town, dt.date(2025, 4, 1), [Band(0, 0, 3), Band(1, None, 6)])
    set_rules(town, dt.date(2026, 4, 1), [Band(0, 0, 2), Band(1, None, 6)])
    assert policy_on(town, dt.date(2025, 12, 1)).bands[0].children_per_staff == 3
    assert policy_on(town, dt.date(2026, 5, 1)).bands[0].children_per_staff == 2
    set_rules(town, dt.date(2026, 4, 1), [Band(0, 1, 4), Band(2, None, 10)], minimum_staff=0)
    p = policy_on(town, dt.date(2026, 5, 1))
    assert p.bands == (Band(0, 1, 4), Band(2, None, 10)) and p.minimum_staff == 0
    assert RatioRule.select().where(RatioRule.municipality == town).count() == 4
    book = PolicyBook.load(town)
    assert [p.valid_from for p in book.own()] == [dt.date(2025, 4, 1), dt.date(2026, 4, 1)]


def test_rule_sets_without_their_own_rounding_use_the_municipality_settings(town):
    RatioSettings.create(municipality=town, rounding="band_tenth", minimum_staff=2)
    assert policy_on(town, DAY).rounding == "band_tenth"  # national values, town's rounding
    RatioRule.create(municipality=town, min_age=0, max_age=None, children_per_staff=5,
                     valid_from=dt.date(2026, 1, 1))
    p = policy_on(town, DAY)
    assert p.from_municipality and (p.rounding, p.minimum_staff) == ("band_tenth", 2)


def test_the_policy_book_answers_every_day_of_a_range_alike(town):
    set_rules(town, dt.date(2026, 5, 15), [Band(0, 0, 2), Band(1, None, 10)])
    book = PolicyBook.load(town, upto=dt.date(2026, 6, 30))
    for day in (dt.date(2026, 5, 1), dt.date(2026, 5, 15), dt.date(2026, 6, 30)):
        assert book.on(day) == policy_on(town, day)


@pytest.mark.parametrize(("bands", "field"), [
    ([], "bands"),
    ([Band(1, None, 6)], "bands"),                       # does not start at 0
    ([Band(0, 0, 3), Band(2, None, 6)], "bands"),        # a gap
    ([Band(0, 1, 3), Band(1, None, 6)], "bands"),        # an overlap
    ([Band(0, 0, 3), Band(1, 2, 6)], "bands"),           # no open band at the end
    ([Band(0, 0, 0), Band(1, None, 6)], "bands"),        # a ratio of 0
])
def test_bad_rules_are_refused_and_nothing_changes(town, bands, field):
    set_rules(town, dt.date(2026, 4, 1), [Band(0, None, 4)])
    with pytest.raises(Invalid) as exc:
        set_rules(town, dt.date(2026, 4, 1), bands)
    assert field in exc.value.errors
    assert policy_on(town, DAY).bands == (Band(0, None, 4),)


def test_bad_rounding_or_minimum_is_refused(town):
    with pytest.raises(Invalid) as exc:
        set_rules(town, dt.date(2026, 4, 1), [Band(0, None, 4)], rounding="x", minimum_staff=-1)
    assert set(exc.value.errors) == {"rounding", "minimum_staff"}
    assert not RatioRule.select().where(RatioRule.municipality == town).exists()
