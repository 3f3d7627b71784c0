"""Billing: prices, invoices, numbering, credit notes, payments, exports (both databases)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import types
from decimal import Decimal

import pytest
from testplugins import lessons

from hubcore import db
from hubcore.billing import LineItem, Month, Payer, TaxCategory, export
from hubcore.billing import operations as ops
from hubcore.billing.models import Counter, Invoice, InvoiceLine, Organisation, Payment
from hubcore.billing.registration import corporate_check_digit, registration_number_error
from hubcore.billing.run import run_month
from hubcore.billing.schemas import BillingSettingsIn, OrganisationIn
from hubcore.errors import Invalid, NotFound
from hubcore.forms import validate
from hubcore.hookspecs import hookimpl
from hubcore.migrations import migrate
from hubcore.people.models import Household
from hubcore.plugins import PluginMeta, get_host
from hubcore.testing import make_site, registered

APRIL = "2026-04"
R = TaxCategory


@pytest.fixture
def lsite(database):
    """A site with the lessons test plugin on, its prices set, 14 households seeded."""
    with registered(lessons):
        migrate(get_host())
        site = make_site(plugins=("lessons",))
        lessons.seed(site, households=14)
        yield site


def household(site, name="佐藤家") -> Household:
    return Household.create(site=site, name=name, name_kana="サトウケ", kana_key="サトウケ")


def attend(site, hh, day, code, quantity=1, org=None, person=""):
    return lessons.Attendance.create(site=site, household=hh, organisation=org, day=day,
                                     code=code, quantity=quantity, person_name=person)


def issued_invoice(site, payer_key: str | None = None) -> Invoice:
    run_month(site, APRIL)
    q = Invoice.select().where((Invoice.site == site) & (Invoice.kind == "invoice"))
    inv = q.where(Invoice.payer_key == payer_key).get() if payer_key else q.order_by(
        Invoice.id).first()
    return ops.issue_invoice(ops.review_invoice(inv), on=dt.date(2026, 5, 1))


# --- prices ----------------------------------------------------------------------


def test_price_on_follows_effective_dates_and_a_revision_closes_the_old_price(site):
    ops.add_price(site, "meals", "lunch", "昼食", Decimal("300"), R.REDUCED, dt.date(2024, 4, 1))
    ops.add_price(site, "meals", "lunch", "昼食", Decimal("350"), R.REDUCED, dt.date(2026, 4, 1))
    assert ops.price_on(site, "meals", "lunch", dt.date(2026, 3, 31)).unit_price == 300
    assert ops.price_on(site, "meals", "lunch", dt.date(2026, 4, 1)).unit_price == 350
    old = ops.price_on(site, "meals", "lunch", dt.date(2025, 1, 1))
    assert old.valid_to == dt.date(2026, 3, 31)
    with pytest.raises(NotFound):
        ops.price_on(site, "meals", "lunch", dt.date(2024, 3, 31))
    with pytest.raises(Invalid):  # overlaps the 2024–2026 price
        ops.add_price(site, "meals", "lunch", "昼食", 320, R.REDUCED, dt.date(2025, 1, 1),
                      dt.date(2025, 6, 30))
    care = ops.add_price(site, "care", "unit", "単位", "10.45", R.NON_TAXABLE, dt.date(2024, 4, 1))
    assert ops.price_on(site, "care", "unit", dt.date(2026, 4, 1)).unit_price == Decimal("10.45")
    book = ops.PriceBook(site, "meals")
    assert book.on("lunch", dt.date(2026, 4, 2)).unit_price == 350
    assert care.tax_category == "non_taxable"
    with pytest.raises(NotFound):
        ops.price_on(make_site("other", municipality="other-town"), "meals", "lunch",
                     dt.date(2026, 4, 1))


# --- the monthly run and its lines ------------------------------------------------


def test_run_makes_one_invoice_per_payer_with_lines_and_totals_per_rate(lsite):
    result = run_month(lsite, APRIL)
    # 14 households, every 7th has nothing this month; one organisation.
    assert (result.created, result.payers) == (12 + 1, 15)
    invoices = ops.list_invoices(lsite, APRIL)
    assert len({i.payer_key for i in invoices}) == len(invoices) == 13
    for inv in invoices:
        lines = ops.line_items(inv)
        t = ops.invoice_totals(inv)
        assert inv.total == sum(li.amount for li in lines) == t.total
        for cat in R:
            assert t.of(cat).total == sum(li.amount for li in lines if li.tax == cat)
    # household 1: child lunch (free, hidden), lunch ¥500 (8 %), lesson ¥1,100 (10 %),
    # care 536 units × 10.45 = 5,601.2 → ¥5,601, insurer floor(5,601 × 0.9) = 5,040, user 561
    h1 = Household.select().where(Household.site == lsite).order_by(Household.id)[1]
    inv = next(i for i in invoices if i.payer_key == f"household:{h1.id}")
    assert (inv.total_reduced, inv.total_standard, inv.total_non_taxable) == (1000, 2200, 1122)
    assert inv.tax_reduced == 1000 * 8 // 108 == 74
    assert inv.tax_standard == 2200 * 10 // 110 == 200
    assert [li.amount for li in ops.line_items(inv) if li.tax == R.NON_TAXABLE] == [561, 561]
    org = next(i for i in invoices if i.organisation_id)
    assert org.payer_name == "株式会社テスト0" and org.total == 3 * 2 * 1100


def test_zero_yen_child_meal_is_kept_but_not_printed(lsite):
    run_month(lsite, APRIL)
    inv = ops.list_invoices(lsite, APRIL)[0]
    stored = ops.line_items(inv)
    printed = ops.printable_lines(inv)
    hidden = [li for li in stored if li.hidden]
    assert hidden and all(li.amount == 0 and li.description.startswith("子") for li in hidden)
    assert len(printed) == len(stored) - len(hidden)
    assert sum(li.amount for li in printed) == inv.total  # paper still adds up
    # Only zero-yen lines are ever hidden, so the printed lines add up to the total.
    assert not LineItem("x", "y", 100, R.STANDARD, hide_if_zero=True).hidden


def test_rerun_changes_nothing_then_updates_drafts_only(lsite):
    first = run_month(lsite, APRIL)
    snapshot = _snapshot(lsite)
    again = run_month(lsite, APRIL)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    assert _snapshot(lsite) == snapshot
    # Review one, issue another, then change everybody's data: only drafts follow.
    invs = ops.list_invoices(lsite, APRIL)
    reviewed = ops.review_invoice(invs[0])
    issued = ops.issue_invoice(ops.review_invoice(invs[1]))
    before = {i.id: (_lines(i), i.total) for i in (reviewed, issued)}
    for h in Household.select().where(Household.site == lsite):
        attend(lsite, h, dt.date(2026, 4, 28), "lunch")
    third = run_month(lsite, APRIL)
    assert third.kept == 2 and third.created == 2 and third.updated == first.created - 2 - 1
    for inv_id, (lines, total) in before.items():
        fresh = Invoice.get_by_id(inv_id)
        assert (_lines(fresh), fresh.total) == (lines, total)
    assert Invoice.select().where(Invoice.kind == "invoice").count() == first.created + 2


def test_a_draft_whose_lines_are_gone_is_removed_and_manual_lines_survive(lsite):
    run_month(lsite, APRIL)
    h0 = Household.select().where(Household.site == lsite).order_by(Household.id).first()
    inv = Invoice.get(Invoice.payer_key == f"household:{h0.id}")
    adj = LineItem(ops.MANUAL, "前月分調整", -200, R.REDUCED)
    inv = ops.add_manual_line(inv, adj)
    assert inv.total == 300
    lessons.Attendance.update(quantity=2).where(
        (lessons.Attendance.household == h0) & (lessons.Attendance.code == "lunch")).execute()
    run_month(lsite, APRIL)
    inv = Invoice.get_by_id(inv.id)
    assert inv.total == 1000 - 200 and adj in ops.line_items(inv)
    lessons.Attendance.delete().where(lessons.Attendance.household == h0).execute()
    run_month(lsite, APRIL)
    assert [li.description for li in ops.line_items(Invoice.get_by_id(inv.id))] == ["前月分調整"]
    manual = InvoiceLine.get((InvoiceLine.invoice == inv) & (InvoiceLine.program == ops.MANUAL))
    ops.remove_manual_line(inv, manual.id)
    assert run_month(lsite, APRIL).removed == 1
    assert not Invoice.select().where(Invoice.id == inv.id).exists()


def test_lines_of_another_site_or_a_disabled_program_are_not_billed(lsite):
    other = make_site("other", municipality="test-town")  # lessons off there
    household(other)
    assert run_month(other, APRIL).created == 0


def test_what_programs_return_is_checked(site):
    answers: list = []
    mod = types.ModuleType("badlines")
    mod.PLUGIN = PluginMeta(name="badlines", label_ja="悪", label_en="Bad")
    mod.invoice_lines = hookimpl(lambda site, payer, period: answers)
    household(site)
    with registered(mod):
        s = make_site(plugins=("badlines",))
        answers[:] = [{"amount": 100}]
        with pytest.raises(TypeError):
            run_month(s, APRIL)
        answers[:] = [LineItem(ops.MANUAL, "x", 100, R.STANDARD)]
        with pytest.raises(ValueError):
            run_month(s, APRIL)
    assert Invoice.select().count() == 0


def _lines(inv):
    return [(li.program, li.description, li.amount, li.tax, li.quantity, li.unit_price,
             li.day, li.ref, li.hide_if_zero) for li in ops.line_items(inv)]


def _snapshot(site):
    return sorted(
        (i.payer_key, i.kind, i.status, i.revision, i.payer_name, i.total, i.total_standard,
         i.tax_standard, i.total_reduced, i.tax_reduced, i.total_non_taxable, tuple(_lines(i)))
        for i in Invoice.select().where(Invoice.site == site))


# --- lifecycle, numbering, immutability ---------------------------------------------


def test_issuing_numbers_per_site_without_gaps_in_order(lsite):
    run_month(lsite, APRIL)
    ops.update_settings(lsite, validate(BillingSettingsIn, {"number_prefix": "MS-"}))
    assert ops.issue_reviewed(lsite, APRIL) == []  # drafts are not issued
    assert ops.review_all(lsite, APRIL) == 13
    issued = ops.issue_reviewed(lsite, APRIL, on=dt.date(2026, 5, 10))
    assert [i.number for i in issued] == [f"MS-{n:06d}" for n in range(1, 14)]
    assert all(i.issue_date == dt.date(2026, 5, 10) for i in issued)
    assert all(i.due_date == dt.date(2026, 6, 30) for i in issued)  # end of next month
    other = make_site("other", municipality="test-town", plugins=("lessons",))
    lessons.seed(other, households=2, organisations=0)
    run_month(other, APRIL)
    ops.review_all(other, APRIL)
    assert [i.number for i in ops.issue_reviewed(other)] == ["000001", "000002"]


def test_a_failed_issue_leaves_no_gap_and_no_number(lsite, monkeypatch):
    run_month(lsite, APRIL)
    a, b, c = [ops.review_invoice(i) for i in ops.list_invoices(lsite, APRIL)[:3]]
    ops.issue_invoice(a)
    real = ops._stamp

    def crash(inv, *args):
        real(inv, *args)  # the number is taken and written ...
        raise RuntimeError("power cut")  # ... and then the transaction dies

    monkeypatch.setattr(ops, "_stamp", crash)
    with pytest.raises(RuntimeError):
        ops.issue_invoice(b)
    with pytest.raises(RuntimeError):
        ops.issue_reviewed(lsite, APRIL)  # a whole batch fails the same way
    monkeypatch.setattr(ops, "_stamp", real)
    b = Invoice.get_by_id(b.id)
    assert (b.status, b.number, b.sequence) == ("reviewed", None, None)
    assert Counter.get((Counter.site == lsite) & (Counter.series == "invoice")).last == 1
    assert ops.issue_invoice(c).number == "000002"
    assert ops.issue_invoice(b).number == "000003"


def test_two_issuers_at_once_take_distinct_numbers_without_gaps(lsite):
    run_month(lsite, APRIL)
    ops.review_all(lsite, APRIL)
    ids = [i.id for i in ops.list_invoices(lsite, APRIL)]
    errors: list[BaseException] = []

    def issue(chunk: list[int]) -> None:
        try:
            with db.database.connection_context():  # each thread its own connection
                for invoice_id in chunk:
                    ops.issue_invoice(Invoice(id=invoice_id))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(ids[k::2],)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    numbers = sorted(i.sequence for i in Invoice.select().where(Invoice.site == lsite))
    assert numbers == list(range(1, len(ids) + 1))


def test_an_issued_invoice_is_never_changed(lsite):
    inv = issued_invoice(lsite)
    before = (_lines(inv), inv.total, inv.number, inv.issue_date, inv.status)
    for change in (ops.review_invoice, ops.reopen_invoice, ops.delete_draft, ops.issue_invoice,
                   lambda i: ops.add_manual_line(i, LineItem(ops.MANUAL, "x", 1, R.STANDARD)),
                   lambda i: ops.remove_manual_line(i, 0)):
        with pytest.raises(ops.InvoiceLocked):
            change(inv)
    # The programs' data changes; a rerun leaves it as it was issued.
    lessons.Attendance.update(quantity=5).execute()
    assert run_month(lsite, APRIL).kept == 1
    fresh = Invoice.get_by_id(inv.id)
    assert (_lines(fresh), fresh.total, fresh.number, fresh.issue_date, fresh.status) == before


def test_draft_reviewed_issued_transitions(lsite):
    run_month(lsite, APRIL)
    inv = ops.list_invoices(lsite, APRIL)[0]
    with pytest.raises(ops.InvoiceLocked):
        ops.issue_invoice(inv)  # a draft must be reviewed first
    with pytest.raises(ops.InvoiceLocked):
        ops.reopen_invoice(inv)
    inv = ops.review_invoice(inv)
    with pytest.raises(ops.InvoiceLocked):
        ops.add_manual_line(inv, LineItem(ops.MANUAL, "x", 1, R.STANDARD))
    inv = ops.reopen_invoice(inv)
    assert inv.status == "draft"
    assert run_month(lsite, APRIL).updated == 1  # reopened: brought up to date again
    ops.delete_draft(inv)
    assert run_month(lsite, APRIL).created == 1  # and made again


def test_issued_invoice_keeps_the_issuer_as_it_was(lsite):
    ops.update_settings(lsite, validate(BillingSettingsIn, {
        "issuer_name": "NPO法人みどり", "registration_number": "T7010705000725"}))
    inv = issued_invoice(lsite)
    ops.update_settings(lsite, validate(BillingSettingsIn, {"issuer_name": "新しい名前"}))
    assert ops.issuer_details(inv) == {
        "name": "NPO法人みどり", "address": "", "phone": "", "bank_account": "",
        "registration_number": "T7010705000725"}


# --- credit notes --------------------------------------------------------------------


def test_a_full_credit_note_nets_to_zero_and_allows_a_replacement(lsite):
    h1 = Household.select().where(Household.site == lsite).order_by(Household.id)[1]
    inv = issued_invoice(lsite, f"household:{h1.id}")
    note = ops.create_credit_note(inv, reason="出席の記録誤り")
    assert (note.kind, note.status, note.corrects_id) == ("credit_note", "draft", inv.id)
    with pytest.raises(ops.InvoiceLocked):
        ops.create_replacement(inv)  # not reversed until the note is issued
    note = ops.issue_invoice(ops.review_invoice(note))
    assert note.number == "C000001"
    assert note.total == -inv.total and note.tax_standard == -inv.tax_standard
    assert note.tax_reduced == -inv.tax_reduced
    assert all(r.total == 0 and r.tax == 0 for r in ops.net_of(inv).by_rate)
    assert sum(li.amount for li in ops.line_items(note)) == -inv.total
    with pytest.raises(Invalid):
        ops.create_credit_note(inv)  # no second full reversal
    lessons.Attendance.delete().where((lessons.Attendance.household == h1)
                                      & (lessons.Attendance.code == "lesson")).execute()
    new = ops.create_replacement(inv)
    assert (new.revision, new.status, new.total) == (1, "draft", inv.total - 2200)
    with pytest.raises(ops.InvoiceLocked):
        ops.create_replacement(inv)
    assert run_month(lsite, APRIL).unchanged >= 1  # the run now looks after revision 1
    assert ops.issue_invoice(ops.review_invoice(new)).number == "000002"


def test_partial_credit_notes_cannot_credit_more_than_was_billed(lsite):
    inv = issued_invoice(lsite)
    reduced = inv.total_reduced
    with pytest.raises(Invalid):
        ops.create_credit_note(inv, [LineItem(ops.MANUAL, "返金", 100, R.REDUCED)])  # positive
    part = ops.create_credit_note(inv, [LineItem("lessons", "昼食 取消", -500, R.REDUCED)])
    assert part.total == -500 and part.tax_reduced == -(500 * 8 // 108)
    with pytest.raises(ops.InvoiceLocked):  # a credit note's lines are fixed when made
        ops.add_manual_line(part, LineItem(ops.MANUAL, "x", 100, R.REDUCED))
    with pytest.raises(Invalid):
        ops.create_credit_note(inv, [LineItem("lessons", "x", -(reduced - 500) - 1, R.REDUCED)])
    with pytest.raises(Invalid):  # nothing at 10 % was billed on this one
        ops.create_credit_note(inv, [LineItem("lessons", "x", -(inv.total_standard + 1),
                                              R.STANDARD)])
    draft = Invoice.select().where(Invoice.status == "draft").first()
    with pytest.raises(ops.InvoiceLocked):
        ops.create_credit_note(draft)


# --- payments, balances, overdue ------------------------------------------------------


def test_payments_partial_balance_and_overdue(lsite):
    run_month(lsite, APRIL)
    ops.review_all(lsite, APRIL)
    issued = ops.issue_reviewed(lsite, APRIL, on=dt.date(2026, 5, 1))
    first, second = issued[0], issued[1]
    payer = Payer.from_key(first.payer_key)
    ops.record_payment(lsite, payer, 200, "cash", dt.date(2026, 5, 10))
    assert ops.balance(lsite, payer) == first.total - 200
    late = dt.date(2026, 7, 1)  # due 2026-06-30
    overdue = {o.invoice.id: o for o in ops.overdue(lsite, today=late)}
    assert overdue[first.id].outstanding == first.total - 200 and overdue[first.id].days == 1
    assert ops.overdue(lsite, today=dt.date(2026, 6, 30)) == []  # due today is not late
    ops.record_payment(lsite, payer, first.total - 200, "bank_transfer", dt.date(2026, 6, 1),
                       invoice=first, reference="サトウ タロウ")
    assert ops.balance(lsite, payer) == 0
    assert first.id not in {o.invoice.id for o in ops.overdue(lsite, today=late)}
    # A credit note settles what it corrects; an overpayment is a negative balance.
    p2 = Payer.from_key(second.payer_key)
    note = ops.issue_invoice(ops.review_invoice(ops.create_credit_note(second)))
    assert ops.outstanding(lsite, second.payer_key)[second.id] == 0
    ops.record_payment(lsite, p2, 1000, "lesson_points", dt.date(2026, 5, 2))
    assert ops.balance(lsite, p2) == -1000 and note.total == -second.total
    assert ops.balances(lsite)[p2.key] == -1000
    # Unallocated money settles the oldest invoice first.
    third = issued[2]
    p3 = Payer.from_key(third.payer_key)
    ops.record_payment(lsite, p3, third.total, "direct_debit", dt.date(2026, 6, 27))
    assert third.id not in {o.invoice.id for o in ops.overdue(lsite, today=late)}


def test_payment_is_refused_for_unknown_method_payer_or_invoice(lsite):
    inv = issued_invoice(lsite)
    other = make_site("other", municipality="other-town")
    stranger = Payer("household", household(other).id)
    with pytest.raises(Invalid) as exc:
        ops.record_payment(lsite, stranger, 0, "bitcoin", dt.date(2026, 5, 1), invoice=inv)
    assert set(exc.value.errors) == {"amount", "method", "payer", "invoice"}
    assert Payment.select().count() == 0
    codes = [m.code for m in ops.payment_methods()]
    assert codes[:3] == ["cash", "bank_transfer", "direct_debit"] and "lesson_points" in codes


def test_organisations_are_payers_of_every_site_of_their_municipality(database):
    a = make_site("a", municipality="town")
    b = make_site("b", municipality="town")
    far = make_site("far", municipality="elsewhere")
    org = ops.create_organisation(a.municipality, validate(OrganisationIn, {
        "name": "山ノ内町", "kind": "municipality",
        "registration_number": "Ｔ８００００２００２０５６１"}))
    assert org.registration_number == "T8000020020561"
    with pytest.raises(Invalid):
        ops.create_organisation(a.municipality, validate(OrganisationIn, {"name": "山ノ内町"}))
    payer = ops.payer_of(org)
    assert ops.payer_record(b, payer) == org
    with pytest.raises(NotFound):
        ops.payer_record(far, payer)
    assert [p.payer.key for p in ops.list_payers(a)] == [payer.key]
    Organisation.update(active=False).execute()
    assert ops.list_payers(a) == []


# --- settings, T-number ---------------------------------------------------------------


@pytest.mark.parametrize("number", ["T7010705000725", "T4011001098993", "t 7010-7050-00725",
                                    "Ｔ７０１０７０５０００７２５"])
def test_valid_registration_numbers(number):
    assert registration_number_error(number) is None


@pytest.mark.parametrize("number", ["7010705000725", "T701070500072", "T70107050007250",
                                    "T7010705000726", "TX010705000725", "T0010705000725"])
def test_invalid_registration_numbers(number):
    assert registration_number_error(number) is not None


def test_check_digit_is_only_required_of_corporations():
    assert corporate_check_digit("010705000725") == 7
    assert registration_number_error("T7010705000726", corporation=False) is None
    assert registration_number_error("T701070500072", corporation=False) is not None


def test_settings_validate_the_registration_number_and_due_rule(site):
    with pytest.raises(Invalid) as exc:
        validate(BillingSettingsIn, {"registration_number": "T7010705000726"})
    assert set(exc.value.errors) == {"registration_number"}
    s = ops.update_settings(site, validate(BillingSettingsIn, {
        "registration_number": "T7010705000726", "issuer_is_corporation": "false",
        "due_rule": "days_after_issue", "due_days": "１４"}))
    assert s.registration_number == "T7010705000726" and s.due_days == 14
    assert ops.due_date(s, dt.date(2026, 12, 20)) == dt.date(2027, 1, 3)
    s.due_rule = "end_of_next_month"
    assert ops.due_date(s, dt.date(2026, 12, 20)) == dt.date(2027, 1, 31)
    assert ops.due_date(s, dt.date(2027, 1, 31)) == dt.date(2027, 2, 28)


# --- CSV exports ------------------------------------------------------------------------


def _rows(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def test_invoice_and_payment_csv_in_utf8_with_bom_and_in_cp932(lsite):
    inv = issued_invoice(lsite)
    Invoice.update(payer_name="=髙橋・渡邊家").where(Invoice.id == inv.id).execute()
    ops.record_payment(lsite, Payer.from_key(inv.payer_key), 300, "cash", dt.date(2026, 5, 3),
                       invoice=inv, reference="ﾀｶﾊｼ")
    for encoding, decode in (("utf-8-sig", "utf-8-sig"), ("cp932", "cp932")):
        data = export.export_invoices(lsite, APRIL, encoding)
        assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
        assert b"\r\n" in data
        rows = _rows(data, decode)
        header, body = rows[0], rows[1:]
        assert tuple(header) == export.INVOICE_HEADER
        row = dict(zip(header, next(r for r in body if r[0] == inv.number), strict=True))
        assert row["payer_name"] == "'=髙橋・渡邊家"  # no formula for Excel to run
        assert int(row["total"]) == inv.total and int(row["tax_8"]) == inv.tax_reduced
        assert len(body) == Invoice.select().count()
        pays = _rows(export.export_payments(lsite, encoding=encoding), decode)
        assert pays[1][pays[0].index("amount")] == "300"
        assert pays[1][pays[0].index("invoice_number")] == inv.number
        assert pays[1][pays[0].index("reference")] == "ﾀｶﾊｼ"


def test_cp932_export_names_the_row_and_column_it_cannot_encode(lsite):
    run_month(lsite, APRIL)
    invs = ops.list_invoices(lsite, APRIL)
    Invoice.update(payer_name="𠮷田家").where(Invoice.id == invs[2].id).execute()
    with pytest.raises(export.ExportEncodingError) as exc:
        export.export_invoices(lsite, APRIL, "cp932")
    assert (exc.value.row, exc.value.column, exc.value.char) == (4, "payer_name", "𠮷")
    assert "4行目" in str(exc.value) and "payer_name" in str(exc.value)  # Japanese by default
    assert "𠮷田家" in export.export_invoices(lsite, APRIL).decode("utf-8-sig")


def test_database_round_trip_keeps_decimals_and_dates_exact(site):
    mod_lines = [LineItem("care", "通所介護", 5601, R.NON_TAXABLE, quantity=Decimal("536"),
                          unit_price=Decimal("10.45"), day=dt.date(2026, 4, 2)),
                 LineItem("coworking", "月額", 8800, R.STANDARD, quantity=Decimal("0.5"),
                          unit_price=Decimal("17600"), period_from=dt.date(2026, 4, 1),
                          period_to=dt.date(2026, 4, 30), ref="coworking_plan:9")]
    hh = household(site)
    with db.database.atomic():
        inv = Invoice.create(site=site, period=APRIL, payer_key=f"household:{hh.id}",
                             household=hh)
        ops.insert_line_rows(ops.line_rows(inv.id, mod_lines))
    assert ops.line_items(inv) == mod_lines
    assert InvoiceLine.select().where(InvoiceLine.invoice == inv).count() == 2


def test_month_parsing():
    m = Month.parse("2024-02")
    assert (m.first_day, m.last_day, str(m)) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29),
                                                 "2024-02")
    assert dt.date(2024, 2, 29) in m and dt.date(2024, 3, 1) not in m
    for bad in ("2024-13", "2024-2", "24-02", "2024/02"):
        with pytest.raises(ValueError):
            Month.parse(bad)
    assert m.memo("k", lambda: [1]) is m.memo("k", lambda: [2])
    assert Month.parse("2024-02") == m  # the memo is not part of equality


# --- the printed invoice ---------------------------------------------------------------


def test_printed_invoice_shows_what_a_qualified_invoice_needs_and_hides_free_meals(lsite):
    from hubcore.billing.printing import render_invoice

    ops.update_settings(lsite, validate(BillingSettingsIn, {
        "issuer_name": "NPO法人みどり", "registration_number": "T7010705000725",
        "bank_account": "みどり銀行 本店 普通 1234567"}))
    h1 = Household.select().where(Household.site == lsite).order_by(Household.id)[1]
    inv = issued_invoice(lsite, f"household:{h1.id}")
    for lang in ("ja", "en"):
        html = render_invoice(inv, lang)
        assert "T7010705000725" in html and "NPO法人みどり" in html and inv.number in html
        assert "子1" not in html  # the child's free lunch is not on paper
        assert "昼食 ※" in html and "みどり銀行" in html
        for amount in (inv.total, inv.total_standard, inv.tax_standard, inv.total_reduced,
                       inv.tax_reduced, inv.total_non_taxable):
            assert f"{amount:,}" in html
    assert "世帯00001 様" in render_invoice(inv, "ja")
    note = ops.create_credit_note(inv)
    html = render_invoice(note, "en")
    assert "Credit note" in html and inv.number in html and "Not issued" in html
