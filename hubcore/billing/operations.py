"""Billing: plain functions over the models, no HTTP.

An invoice goes draft → reviewed → issued. Drafts are what the monthly run
(``hubcore.billing.run``) writes and rewrites; a reviewed invoice waits to be
issued and the run leaves it alone; issuing gives it the site's next number and
from then on it is never changed — corrections are credit notes that point at it.
Every function that changes an invoice re-reads its status inside its write
transaction (row-locked on PostgreSQL, the database locked on SQLite) and refuses
when the status does not allow the change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import peewee

from hubcore import db
from hubcore.billing.lines import LineItem, Month, Payer, PaymentMethod, TaxCategory
from hubcore.billing.models import (
    BillingSettings,
    Counter,
    Invoice,
    InvoiceLine,
    Organisation,
    Payment,
    Price,
)
from hubcore.billing.schemas import BillingSettingsIn, OrganisationIn
from hubcore.billing.tax import RATES, Totals, totals, totals_from_sums
from hubcore.db import get_in_site, utcnow, write_transaction
from hubcore.errors import Invalid, NotFound
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.people.models import Household
from hubcore.plugins import get_host
from hubcore.sites.models import Municipality, Site
from hubcore.sites.operations import site_today  # noqa: F401  (ops.site_today)

# Lines staff add by hand to a draft carry this program; the monthly run keeps them.
MANUAL = "billing"
Progress = Callable[[int, int], None]


class InvoiceLocked(Invalid):
    """The invoice's status does not allow this change (e.g. it is issued)."""

    def __init__(self, message: str):
        super().__init__({"status": message})


def locked(query: peewee.Select) -> peewee.Select:
    """Row-lock on PostgreSQL; SQLite's BEGIN IMMEDIATE has locked the database already."""
    return query.for_update() if db.is_postgres() else query


# --- settings -------------------------------------------------------------------


def ensure_settings(site: Site) -> BillingSettings:
    """The site's settings row, created with defaults when missing (safe to race)."""
    BillingSettings.insert(site=site).on_conflict_ignore().execute()
    return BillingSettings.get(BillingSettings.site == site)


def get_settings(site: Site) -> BillingSettings:
    return BillingSettings.get_or_none(BillingSettings.site == site) or BillingSettings(site=site)


def update_settings(site: Site, data: BillingSettingsIn) -> BillingSettings:
    with write_transaction():
        ensure_settings(site)
        BillingSettings.update(**data.model_dump(), updated_at=utcnow()).where(
            BillingSettings.site == site).execute()
    return get_settings(site)


def due_date(settings: BillingSettings, issued_on: dt.date) -> dt.date:
    if settings.due_rule == "days_after_issue":
        return issued_on + dt.timedelta(days=settings.due_days)
    nxt = Month(issued_on.year + issued_on.month // 12, issued_on.month % 12 + 1)
    return nxt.last_day


# --- organisations and payers ------------------------------------------------------


def create_organisation(municipality: Municipality, data: OrganisationIn) -> Organisation:
    with write_transaction():
        clash = Organisation.select().where((Organisation.municipality == municipality)
                                            & (Organisation.name == data.name))
        if clash.exists():
            raise Invalid({"name": _("This municipality already has an organisation named "
                                     "“{name}”.").format(name=data.name)})
        return Organisation.create(municipality=municipality, **data.model_dump())


def list_organisations(municipality: Municipality, include_inactive: bool = False
                       ) -> list[Organisation]:
    q = Organisation.select().where(Organisation.municipality == municipality)
    if not include_inactive:
        q = q.where(Organisation.active)
    return list(q.order_by(Organisation.name_kana, Organisation.name))


def payer_of(who: Household | Organisation) -> Payer:
    if isinstance(who, Household):
        return Payer("household", who.id, who.name)
    if isinstance(who, Organisation):
        return Payer("organisation", who.id, who.name)
    raise TypeError(f"a payer is a Household or an Organisation, not {type(who).__name__}")


def _address(postal_code: str, address: str) -> str:
    return f"〒{postal_code} {address}".strip() if postal_code else address


def payer_record(site: Site, payer: Payer) -> Household | Organisation:
    """The household of this site or organisation of its municipality, else NotFound."""
    if payer.kind == "household":
        return get_in_site(Household, site, payer.id)
    org = Organisation.get_or_none((Organisation.id == payer.id)
                                   & (Organisation.municipality == site.municipality_id))
    if org is None:
        raise NotFound(payer.key)
    return org


@dataclass(frozen=True)
class PayerInfo:
    payer: Payer
    address: str


def list_payers(site: Site, extra_keys: Iterable[str] = ()) -> list[PayerInfo]:
    """Every household of the site and active organisation of its municipality, in
    五十音 order, plus the payers named in ``extra_keys`` (e.g. inactive ones with drafts)."""
    out = [
        PayerInfo(Payer("household", hid, name), _address(pc, addr))
        for hid, name, pc, addr in Household.select(
            Household.id, Household.name, Household.postal_code, Household.address)
        .where(Household.site == site).order_by(Household.kana_key, Household.id).tuples()
    ]
    orgs = Organisation.select(Organisation.id, Organisation.name, Organisation.postal_code,
                               Organisation.address).where(
        Organisation.municipality == site.municipality_id)
    seen = {p.payer.key for p in out}
    wanted = set(extra_keys) - seen
    wanted_orgs = {Payer.from_key(k).id for k in wanted if k.startswith("organisation:")}
    for oid, name, pc, addr in orgs.where(Organisation.active | Organisation.id.in_(
            sorted(wanted_orgs) or [0])).order_by(Organisation.name_kana, Organisation.id).tuples():
        out.append(PayerInfo(Payer("organisation", oid, name), _address(pc, addr)))
    return out


# --- prices -----------------------------------------------------------------------


def add_price(site: Site, program: str, code: str, label: str, unit_price: Decimal | int | str,
              tax_category: TaxCategory | str, valid_from: dt.date,
              valid_to: dt.date | None = None) -> Price:
    """Add a tariff entry. An open-ended entry that started earlier is closed the day
    before (a price revision); any other overlap is refused."""
    unit = Decimal(unit_price)
    category = TaxCategory(tax_category)
    if valid_to is not None and valid_to < valid_from:
        raise Invalid({"valid_to": _("The end date is before the start date.")})
    key = (Price.site == site) & (Price.program == program) & (Price.code == code)
    with write_transaction():
        for p in locked(Price.select().where(key)):
            ends = p.valid_to or dt.date.max
            new_ends = valid_to or dt.date.max
            if p.valid_from < valid_from and p.valid_to is None:
                p.valid_to = valid_from - dt.timedelta(days=1)
                p.save()
            elif p.valid_from <= new_ends and valid_from <= ends:
                raise Invalid({"valid_from": _("Another price of {code} applies from {day}.")
                               .format(code=code, day=p.valid_from.isoformat())})
        return Price.create(site=site, program=program, code=code, label=label,
                            unit_price=unit, tax_category=category.value,
                            valid_from=valid_from, valid_to=valid_to)


class PriceBook:
    """A program's prices at a site, loaded once: ``book.on(code, day)`` without queries."""

    def __init__(self, site: Site, program: str):
        self._by_code: dict[str, list[Price]] = defaultdict(list)
        q = Price.select().where((Price.site == site) & (Price.program == program))
        for p in q.order_by(Price.code, Price.valid_from):
            p.unit_price = _norm(p.unit_price)
            self._by_code[p.code].append(p)
        self.program = program

    def on(self, code: str, day: dt.date) -> Price:
        for p in self._by_code.get(code, ()):
            if p.valid_from <= day and (p.valid_to is None or day <= p.valid_to):
                return p
        raise NotFound(f"no price for {self.program}/{code} on {day.isoformat()}")


def price_on(site: Site, program: str, code: str, day: dt.date) -> Price:
    """The price of ``code`` in ``program`` at ``site`` that applies on ``day``, or NotFound."""
    p = (Price.select().where((Price.site == site) & (Price.program == program)
                              & (Price.code == code) & (Price.valid_from <= day)
                              & (Price.valid_to.is_null() | (Price.valid_to >= day)))
         .order_by(Price.valid_from.desc()).first())
    if p is None:
        raise NotFound(f"no price for {program}/{code} on {day.isoformat()}")
    p.unit_price = _norm(p.unit_price)
    return p


# --- lines --------------------------------------------------------------------------


def _norm(d: Decimal | None) -> Decimal | None:
    """One spelling per value (PostgreSQL says 1.0000, SQLite 1): lines compare equal."""
    if d is None:
        return None
    d = Decimal(d)
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def collect_lines(site: Site, payer: Payer, period: Month) -> list[LineItem]:
    """Every enabled program's lines for ``payer`` and ``period`` (the invoice_lines hook),
    ordered by program so that sections and the content hash are stable."""
    out: list[LineItem] = []
    for batch in site.hooks.invoice_lines(site=site, payer=payer, period=period):
        for line in batch or ():
            if not isinstance(line, LineItem):
                raise TypeError(f"invoice_lines must return LineItem objects, not "
                                f"{type(line).__name__}")
            if line.program == MANUAL:
                raise ValueError(f"program name {MANUAL!r} is reserved for lines added by hand")
            out.append(line)
    out.sort(key=lambda line: line.program)  # stable: each program's own order is kept
    return out


def line_items(invoice: Invoice) -> list[LineItem]:
    """The stored lines of an invoice, in order."""
    rows = InvoiceLine.select().where(InvoiceLine.invoice == invoice).order_by(
        InvoiceLine.position)
    return [item_of_row(r) for r in rows]


def item_of_row(r: InvoiceLine) -> LineItem:
    return LineItem(program=r.program, description=r.description, amount=int(r.amount),
                    tax=TaxCategory(r.tax_category), quantity=_norm(r.quantity),
                    unit_price=_norm(r.unit_price), day=r.day, period_from=r.period_from,
                    period_to=r.period_to, ref=r.ref, hide_if_zero=r.hide_if_zero)


def printable_lines(invoice: Invoice) -> list[LineItem]:
    """The lines a payer sees on paper: hidden zero-yen lines left out."""
    return [line for line in line_items(invoice) if not line.hidden]


def sections(lines: Sequence[LineItem], lang: str = "ja") -> list[tuple[str, list[LineItem], int]]:
    """(program label, lines, subtotal) per program, in line order."""
    grouped: dict[str, list[LineItem]] = {}
    for line in lines:
        grouped.setdefault(line.program, []).append(line)
    return [(program_label(program, lang), items, sum(i.amount for i in items))
            for program, items in grouped.items()]


def program_label(program: str, lang: str = "ja") -> str:
    """The heading of a program's section: its plugin's label, "Adjustments" for lines
    added by hand, the bare name for a plugin no longer installed."""
    if program == MANUAL:
        return _("Adjustments")
    host = get_host()
    return host.plugins[program].meta.label(lang) if program in host.plugins else program


LINE_FIELDS = [InvoiceLine.invoice, InvoiceLine.position, InvoiceLine.program,
               InvoiceLine.description, InvoiceLine.day, InvoiceLine.period_from,
               InvoiceLine.period_to, InvoiceLine.quantity, InvoiceLine.unit_price,
               InvoiceLine.amount, InvoiceLine.tax_category, InvoiceLine.ref,
               InvoiceLine.hide_if_zero]


def line_rows(invoice_id: int, lines: Sequence[LineItem], start: int = 0) -> list[tuple]:
    return [(invoice_id, start + i, li.program, li.description, li.day, li.period_from,
             li.period_to, li.quantity, li.unit_price, li.amount, li.tax.value, li.ref,
             li.hide_if_zero) for i, li in enumerate(lines)]


def bulk_insert(fields: Sequence[peewee.Field], rows: Sequence[Sequence]) -> None:
    """INSERT many rows fast: COPY on PostgreSQL, executemany on SQLite.

    peewee's insert_many renders a node per value: for a 10,000-payer run that was
    ~80 % of the time. COPY loaded the same rows ~15× faster than multi-row VALUES
    through psycopg; sqlite3's executemany steps one prepared statement. Values are
    passed as they are (skipping peewee's per-value ``db_value`` halved the time), so
    they must be of the columns' Python types: ints for foreign keys, ``Decimal``,
    ``date``, aware ``datetime``. Fields not given get their (Python-side) defaults.
    """
    if not rows:
        return
    model = fields[0].model
    given = {f.name for f in fields}  # by name: Field == Field builds an SQL expression
    rest = [f for f in model._meta.sorted_fields if f.name not in given and not f.primary_key]
    extra = tuple(f.default() if callable(f.default) else f.default for f in rest)
    fields = [*fields, *rest]
    table = model._meta.table_name
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    values = [(*row, *extra) for row in rows] if extra else rows
    cursor = db.database.cursor()
    if db.is_postgres():
        with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            for v in values:
                copy.write_row(v)
    else:
        marks = ", ".join(["?"] * len(fields))
        cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', values)


def insert_line_rows(rows: list[tuple]) -> None:
    bulk_insert(LINE_FIELDS, rows)


def lines_hash(payer: Payer, address: str, lines: Sequence[LineItem]) -> str:
    """A digest of what a run would write for a payer: unchanged drafts are skipped."""
    h = hashlib.blake2b(digest_size=16)
    # repr of tuples: unambiguous and done in C. Both sides of the comparison come
    # from the programs (never from the database), so Decimal spellings match.
    h.update(repr((payer.name, address, [
        (li.program, li.description, li.amount, li.tax.value, li.quantity, li.unit_price,
         li.day, li.period_from, li.period_to, li.ref, li.hide_if_zero) for li in lines
    ])).encode())
    return h.hexdigest()


def totals_columns(t: Totals) -> dict[str, int]:
    return {
        "total": t.total,
        "total_standard": t.of(TaxCategory.STANDARD).total,
        "tax_standard": t.of(TaxCategory.STANDARD).tax,
        "total_reduced": t.of(TaxCategory.REDUCED).total,
        "tax_reduced": t.of(TaxCategory.REDUCED).tax,
        "total_non_taxable": t.of(TaxCategory.NON_TAXABLE).total,
    }


def invoice_totals(invoice: Invoice) -> Totals:
    """The stored totals of an invoice as a ``Totals``."""
    return totals_from_sums({
        TaxCategory.STANDARD: invoice.total_standard,
        TaxCategory.REDUCED: invoice.total_reduced,
        TaxCategory.NON_TAXABLE: invoice.total_non_taxable,
    })


# --- invoices -----------------------------------------------------------------------


def get_invoice(site: Site, invoice_id: int | str) -> Invoice:
    return get_in_site(Invoice, site, invoice_id)


def list_invoices(site: Site, period: str | Month | None = None, kind: str | None = None,
                  status: str | None = None) -> list[Invoice]:
    q = Invoice.select().where(Invoice.site == site)
    if period is not None:
        q = q.where(Invoice.period == str(period))
    if kind is not None:
        q = q.where(Invoice.kind == kind)
    if status is not None:
        q = q.where(Invoice.status == status)
    return list(q.order_by(Invoice.period, Invoice.kind, Invoice.sequence, Invoice.id))


def _fresh(invoice: Invoice) -> Invoice:
    """The invoice as stored now, locked for this transaction."""
    row = locked(Invoice.select().where(Invoice.id == invoice.id)).first()
    if row is None:
        raise NotFound(invoice.id)
    return row


STATUS_LABELS = {"draft": N_("Draft"), "reviewed": N_("Reviewed"), "issued": N_("Issued")}


def _require(inv: Invoice, *statuses: str) -> None:
    if inv.status in statuses:
        return
    if inv.status == "issued":
        raise InvoiceLocked(_("An issued invoice is never changed: make a credit note."))
    wanted = " / ".join(_(STATUS_LABELS[s]) for s in statuses)
    raise InvoiceLocked(_("Only an invoice with the status {wanted} allows this; this one is "
                          "{status}.").format(wanted=wanted, status=_(STATUS_LABELS[inv.status])))


def _rewrite_totals(inv: Invoice) -> None:
    t = totals(line_items(inv))
    # An empty digest: the next run looks at this draft again instead of skipping it.
    Invoice.update(**totals_columns(t), lines_hash="", updated_at=utcnow()).where(
        Invoice.id == inv.id).execute()


def add_manual_line(invoice: Invoice, line: LineItem) -> Invoice:
    """Add a line by hand to a draft (an adjustment); the monthly run keeps such lines."""
    if line.program != MANUAL:
        raise ValueError(f"lines added by hand have program {MANUAL!r}")
    with write_transaction():
        inv = _fresh(invoice)
        _require(inv, "draft")
        if inv.kind != "invoice":  # a credit note's lines are checked when it is made
            raise InvoiceLocked(_("Lines are added by hand to invoices only."))
        last = (InvoiceLine.select(peewee.fn.MAX(InvoiceLine.position))
                .where(InvoiceLine.invoice == inv).scalar())
        insert_line_rows(line_rows(inv.id, [line], start=(last or 0) + 1))
        _rewrite_totals(inv)
    return Invoice.get_by_id(inv.id)


def remove_manual_line(invoice: Invoice, line_id: int) -> Invoice:
    """Remove a line added by hand from a draft (the programs' lines come from the run)."""
    with write_transaction():
        inv = _fresh(invoice)
        _require(inv, "draft")
        n = InvoiceLine.delete().where((InvoiceLine.invoice == inv)
                                       & (InvoiceLine.id == line_id)
                                       & (InvoiceLine.program == MANUAL)).execute()
        if not n:
            raise NotFound(line_id)
        _rewrite_totals(inv)
    return Invoice.get_by_id(inv.id)


def review_invoice(invoice: Invoice) -> Invoice:
    """draft → reviewed: checked by a person; the monthly run no longer rewrites it."""
    with write_transaction():
        inv = _fresh(invoice)
        _require(inv, "draft")
        Invoice.update(status="reviewed", reviewed_at=utcnow()).where(
            Invoice.id == inv.id).execute()
    return Invoice.get_by_id(inv.id)


def review_all(site: Site, period: str | Month) -> int:
    """Mark every draft of the month reviewed (after checking the list); returns how many."""
    with write_transaction():
        return Invoice.update(status="reviewed", reviewed_at=utcnow()).where(
            (Invoice.site == site) & (Invoice.period == str(period))
            & (Invoice.status == "draft")).execute()


def reopen_invoice(invoice: Invoice) -> Invoice:
    """reviewed → draft, so that the next run brings it up to date again."""
    with write_transaction():
        inv = _fresh(invoice)
        _require(inv, "reviewed")
        # An empty hash makes the next run rewrite it from the programs' lines.
        Invoice.update(status="draft", reviewed_at=None, lines_hash="").where(
            Invoice.id == inv.id).execute()
    return Invoice.get_by_id(inv.id)


def delete_draft(invoice: Invoice) -> None:
    """Delete a draft (never numbered, so no gap). The next run makes it again if the
    programs still bill the payer."""
    with write_transaction():
        inv = _fresh(invoice)
        _require(inv, "draft")
        Invoice.delete().where(Invoice.id == inv.id).execute()


def _take_numbers(site_id: int, series: str, count: int) -> int:
    """Reserve ``count`` numbers of the site's ``series`` inside the caller's
    transaction; returns the first.

    The counter row is locked (FOR UPDATE on PostgreSQL; SQLite is locked whole by
    BEGIN IMMEDIATE) until the issuing transaction ends, so two issuers never take
    the same number, and a failure after this rolls the counter back with the
    invoices: numbers have no gaps and are never used twice.
    """
    Counter.insert(site=site_id, series=series, last=0).on_conflict_ignore().execute()
    row = locked(Counter.select().where((Counter.site == site_id)
                                         & (Counter.series == series))).get()
    Counter.update(last=row.last + count).where(Counter.id == row.id).execute()
    return row.last + 1


def format_number(settings: BillingSettings, series: str, seq: int) -> str:
    return f"{settings.number_prefix}{'C' if series == 'credit_note' else ''}{seq:06d}"


def issue_invoice(invoice: Invoice, on: dt.date | None = None) -> Invoice:
    """reviewed → issued: number it, date it, fix its due date and the issuer's details.

    All in one transaction: if anything fails, the invoice stays reviewed and the
    number is not used up.
    """
    with write_transaction():
        inv = _fresh(invoice)
        _require(inv, "reviewed")
        _issue(Site.get_by_id(inv.site_id), [inv], on)
    return Invoice.get_by_id(inv.id)


def _issue(site: Site, invoices: list[Invoice], on: dt.date | None) -> None:
    """Number and stamp reviewed, locked ``invoices`` of ``site`` (caller's transaction)."""
    settings = ensure_settings(site)
    day = on or site_today(site)
    issuer = json.dumps({"name": settings.issuer_name, "address": settings.issuer_address,
                         "phone": settings.issuer_phone, "bank_account": settings.bank_account,
                         "registration_number": settings.registration_number},
                        ensure_ascii=False)
    for series in ("invoice", "credit_note"):
        todo = [i for i in invoices if i.kind == series]
        if not todo:
            continue
        first = _take_numbers(site.id, series, len(todo))
        for seq, inv in enumerate(todo, start=first):
            _stamp(inv, settings, seq, day, issuer)


def _stamp(inv: Invoice, settings: BillingSettings, seq: int, on: dt.date, issuer: str) -> None:
    n = Invoice.update(
        status="issued", sequence=seq, number=format_number(settings, inv.kind, seq),
        issue_date=on, issued_at=utcnow(), issuer=issuer,
        due_date=due_date(settings, on) if inv.kind == "invoice" else None,
    ).where((Invoice.id == inv.id) & (Invoice.status == "reviewed")).execute()
    if n != 1:
        raise InvoiceLocked(_("The invoice changed while it was being issued."))


ISSUE_BATCH = 200


def issue_reviewed(site: Site, period: str | Month | None = None, on: dt.date | None = None,
                   progress: Progress | None = None) -> list[Invoice]:
    """Issue every reviewed invoice and credit note (of ``period``) in the order they
    were made, up to ISSUE_BATCH per transaction (each batch numbered whole or not at all)."""
    q = Invoice.select(Invoice.id).where((Invoice.site == site)
                                         & (Invoice.status == "reviewed"))
    if period is not None:
        q = q.where(Invoice.period == str(period))
    ids = [i for (i,) in q.order_by(Invoice.id).tuples()]
    done: list[int] = []
    for start in range(0, len(ids), ISSUE_BATCH):
        chunk = ids[start:start + ISSUE_BATCH]
        with write_transaction():
            # Re-read under lock: one reopened meanwhile is left out, not issued.
            rows = list(locked(Invoice.select().where(
                Invoice.id.in_(chunk) & (Invoice.status == "reviewed")).order_by(Invoice.id)))
            _issue(site, rows, on)
        done += [r.id for r in rows]
        if progress:
            progress(start + len(chunk), len(ids))
    by_id = {}
    for start in range(0, len(done), 500):
        by_id.update({i.id: i for i in Invoice.select().where(
            Invoice.id.in_(done[start:start + 500]))})
    return [by_id[i] for i in done]


def issuer_details(invoice: Invoice) -> dict[str, str]:
    """The issuer printed on an issued invoice (as it was at issue), else the settings now."""
    if invoice.issuer:
        return json.loads(invoice.issuer)
    s = get_settings(Site.get_by_id(invoice.site_id))
    return {"name": s.issuer_name, "address": s.issuer_address, "phone": s.issuer_phone,
            "bank_account": s.bank_account, "registration_number": s.registration_number}


# --- credit notes and re-invoicing --------------------------------------------------


def _sums(invs: Iterable[Invoice]) -> dict[TaxCategory, int]:
    out = dict.fromkeys(RATES, 0)
    for i in invs:
        out[TaxCategory.STANDARD] += i.total_standard
        out[TaxCategory.REDUCED] += i.total_reduced
        out[TaxCategory.NON_TAXABLE] += i.total_non_taxable
    return out


def create_credit_note(invoice: Invoice, lines: Sequence[LineItem] | None = None,
                       reason: str = "") -> Invoice:
    """A draft credit note against an issued invoice (review and issue it like one).

    Without ``lines`` it reverses the invoice in full — every line negated — and
    then nets to zero against it, per rate and in tax. With ``lines`` (amounts ≤ 0)
    it corrects part of it. Credit notes never take a rate below zero in total.
    """
    with write_transaction():
        orig = _fresh(invoice)
        if orig.kind != "invoice" or orig.status != "issued":
            raise InvoiceLocked(_("A credit note corrects an issued invoice."))
        earlier = list(Invoice.select().where(Invoice.corrects == orig))
        if lines is None:
            if earlier:
                raise Invalid({"lines": _("This invoice already has a credit note: name the "
                                          "lines to correct.")})
            lines = [li.negated() for li in line_items(orig)]
        elif not lines or any(li.amount > 0 for li in lines):
            raise Invalid({"lines": _("A credit note's lines are negative amounts.")})
        after = _sums([orig, *earlier])
        for li in lines:
            after[li.tax] += li.amount
        if any(v < 0 for v in after.values()):
            raise Invalid({"lines": _("The credit notes would credit more than the invoice "
                                      "billed.")})
        t = totals(lines)
        note = Invoice.create(
            site=orig.site_id, kind="credit_note", status="draft", period=orig.period,
            revision=orig.revision, payer_key=orig.payer_key, household=orig.household_id,
            organisation=orig.organisation_id, payer_name=orig.payer_name,
            payer_address=orig.payer_address, corrects=orig, reason=reason,
            **totals_columns(t))
        insert_line_rows(line_rows(note.id, list(lines)))
    return Invoice.get_by_id(note.id)


def net_of(invoice: Invoice) -> Totals:
    """An invoice together with its issued credit notes (all zero when fully reversed)."""
    notes = Invoice.select().where((Invoice.corrects == invoice) & (Invoice.status == "issued"))
    return totals_from_sums(_sums([invoice, *notes]))


def create_replacement(invoice: Invoice) -> Invoice:
    """After a full reversal, a new draft invoice for the same payer and month (the
    next revision), with the programs' lines as they are now."""
    site = Site.get_by_id(invoice.site_id)
    period = Month.parse(invoice.period)
    payer = Payer.from_key(invoice.payer_key, invoice.payer_name)
    record = payer_record(site, payer)
    payer = payer_of(record)
    address = _address(record.postal_code, record.address)
    lines = collect_lines(site, payer, period)
    with write_transaction():
        orig = _fresh(invoice)
        if orig.kind != "invoice" or orig.status != "issued" or any(
                r.total for r in net_of(orig).by_rate):
            raise InvoiceLocked(_("Only an issued invoice that credit notes reverse in full "
                                  "can be replaced."))
        latest = (Invoice.select(peewee.fn.MAX(Invoice.revision)).where(
            (Invoice.site == orig.site_id) & (Invoice.kind == "invoice")
            & (Invoice.payer_key == orig.payer_key) & (Invoice.period == orig.period)).scalar())
        if latest != orig.revision:
            raise InvoiceLocked(_("This invoice has been replaced already."))
        new = Invoice.create(
            site=orig.site_id, kind="invoice", status="draft", period=orig.period,
            revision=orig.revision + 1, payer_key=orig.payer_key, household=orig.household_id,
            organisation=orig.organisation_id, payer_name=payer.name, payer_address=address,
            lines_hash=lines_hash(payer, address, lines), **totals_columns(totals(lines)))
        insert_line_rows(line_rows(new.id, lines))
    return Invoice.get_by_id(new.id)


# --- payments -----------------------------------------------------------------------


def payment_methods() -> list[PaymentMethod]:
    """Every payment method (core and plugins), in order; the first of a code wins."""
    found: dict[str, PaymentMethod] = {}
    for batch in get_host().pm.hook.payment_methods():
        for m in batch or ():
            found.setdefault(m.code, m)
    return sorted(found.values(), key=lambda m: (m.order, m.code))


def record_payment(site: Site, payer: Payer, amount: int, method: str,
                   received_on: dt.date, invoice: Invoice | None = None,
                   reference: str = "", note: str = "") -> Payment:
    """Record money received (a part payment is fine; a negative amount is a refund)."""
    errors: dict[str, str] = {}
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        errors["amount"] = _("The amount is a whole number of yen, not zero.")
    if method not in {m.code for m in payment_methods()}:
        errors["method"] = _("Unknown payment method.")
    try:
        payer_record(site, payer)
    except NotFound:
        errors["payer"] = _("No such payer at this site.")
    if invoice is not None and not (
            invoice.site_id == site.id and invoice.payer_key == payer.key
            and invoice.status == "issued"):
        errors["invoice"] = _("The invoice is not an issued invoice of this payer.")
    if errors:
        raise Invalid(errors)
    with write_transaction():
        return Payment.create(
            site=site, payer_key=payer.key, household=payer.household_id,
            organisation=payer.organisation_id, invoice=invoice, method=method,
            amount=amount, received_on=received_on, reference=reference, note=note)


def list_payments(site: Site, since: dt.date | None = None, until: dt.date | None = None
                  ) -> list[Payment]:
    q = Payment.select().where(Payment.site == site)
    if since is not None:
        q = q.where(Payment.received_on >= since)
    if until is not None:
        q = q.where(Payment.received_on <= until)
    return list(q.order_by(Payment.received_on, Payment.id))


def balance(site: Site, payer: Payer) -> int:
    """What the payer owes (negative: paid in advance): issued invoices and credit
    notes minus payments."""
    billed = (Invoice.select(peewee.fn.COALESCE(peewee.fn.SUM(Invoice.total), 0))
              .where((Invoice.site == site) & (Invoice.payer_key == payer.key)
                     & (Invoice.status == "issued")).scalar())
    paid = (Payment.select(peewee.fn.COALESCE(peewee.fn.SUM(Payment.amount), 0))
            .where((Payment.site == site) & (Payment.payer_key == payer.key)).scalar())
    return int(billed) - int(paid)


def balances(site: Site) -> dict[str, int]:
    """Every payer's balance at the site (payers with nothing billed or paid left out)."""
    out: dict[str, int] = defaultdict(int)
    for key, total in (Invoice.select(Invoice.payer_key, peewee.fn.SUM(Invoice.total))
                       .where((Invoice.site == site) & (Invoice.status == "issued"))
                       .group_by(Invoice.payer_key).tuples()):
        out[key] += int(total)
    for key, total in (Payment.select(Payment.payer_key, peewee.fn.SUM(Payment.amount))
                       .where(Payment.site == site).group_by(Payment.payer_key).tuples()):
        out[key] -= int(total)
    return dict(out)


def outstanding(site: Site, payer_key: str | None = None) -> dict[int, int]:
    """What is still open on each issued invoice (by id).

    Credit notes reduce the invoice they correct; a payment naming an invoice goes
    to it; what is left of payments and credits settles the oldest due invoices first.
    """
    inv_q = Invoice.select().where((Invoice.site == site) & (Invoice.status == "issued"))
    pay_q = Payment.select(Payment.payer_key, Payment.invoice, Payment.amount).where(
        Payment.site == site)
    if payer_key is not None:
        inv_q = inv_q.where(Invoice.payer_key == payer_key)
        pay_q = pay_q.where(Payment.payer_key == payer_key)
    open_: dict[int, int] = {}
    due: dict[int, tuple] = {}
    pool: dict[str, int] = defaultdict(int)
    owner: dict[int, str] = {}
    credits: list[Invoice] = []
    for inv in inv_q:
        if inv.kind == "invoice":
            open_[inv.id] = inv.total
            due[inv.id] = (inv.due_date or dt.date.max, inv.sequence or 0)
            owner[inv.id] = inv.payer_key
        else:
            credits.append(inv)

    def apply(key: str, invoice_id: int | None, amount: int) -> None:
        # Only money towards an invoice settles it; refunds and surplus go to the pool.
        if amount > 0 and invoice_id in open_:
            take = max(0, min(amount, open_[invoice_id]))
            open_[invoice_id] -= take
            amount -= take
        pool[key] += amount

    for c in credits:
        apply(c.payer_key, c.corrects_id, -c.total)
    for p in pay_q:
        apply(p.payer_key, p.invoice_id, p.amount)
    by_payer: dict[str, list[int]] = defaultdict(list)
    for iid in sorted(open_, key=lambda i: due[i]):
        by_payer[owner[iid]].append(iid)
    for key, ids in by_payer.items():
        left = pool.get(key, 0)
        for iid in ids:
            if left <= 0:
                break
            take = min(left, open_[iid])
            if take > 0:
                open_[iid] -= take
                left -= take
    return open_


@dataclass(frozen=True)
class Overdue:
    invoice: Invoice
    outstanding: int
    days: int  # days past the due date


def overdue(site: Site, today: dt.date | None = None) -> list[Overdue]:
    """Issued invoices past their due date with something still to pay, oldest first."""
    today = today or site_today(site)
    left = outstanding(site)
    ids = [i for i, amount in left.items() if amount > 0]
    out = []
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start:chunk_start + 500]
        for inv in Invoice.select().where(Invoice.id.in_(chunk) & (Invoice.due_date < today)):
            out.append(Overdue(inv, left[inv.id], (today - inv.due_date).days))
    out.sort(key=lambda o: (o.invoice.due_date, o.invoice.sequence or 0))
    return out


# --- what the web pages and the API add ----------------------------------------------


def previous_month(site: Site) -> Month:
    """The month billed by default: the one before today's (billing runs after a month)."""
    today = site_today(site)
    return Month(today.year - (today.month == 1), (today.month - 2) % 12 + 1)


def review_invoices(site: Site, invoice_ids: Iterable[int]) -> int:
    """Mark the named drafts of ``site`` reviewed; others (not drafts, or not of this
    site) are left as they are. Returns how many were marked."""
    ids = sorted({int(i) for i in invoice_ids})
    if not ids:
        return 0
    with write_transaction():
        return Invoice.update(status="reviewed", reviewed_at=utcnow()).where(
            (Invoice.site == site) & Invoice.id.in_(ids) & (Invoice.status == "draft")
        ).execute()


def credit_note_for_lines(invoice: Invoice, line_ids: Iterable[int] = (),
                          reason: str = "") -> Invoice:
    """A credit note reversing the chosen lines of ``invoice`` (by InvoiceLine id), or
    the whole invoice when none are chosen. Ids of another invoice are refused."""
    wanted = {int(i) for i in line_ids}
    if not wanted:
        return create_credit_note(invoice, reason=reason)
    rows = list(InvoiceLine.select().where((InvoiceLine.invoice == invoice)
                                           & InvoiceLine.id.in_(sorted(wanted)))
                .order_by(InvoiceLine.position))
    if len(rows) != len(wanted):
        raise Invalid({"lines": _("Choose lines of this invoice.")})
    lines = [item_of_row(r).negated() for r in rows]
    if all(li.amount == 0 for li in lines):
        raise Invalid({"lines": _("The chosen lines are all zero yen: there is nothing to "
                                  "credit.")})
    return create_credit_note(invoice, [li for li in lines if li.amount], reason=reason)


def invoice_line_rows(invoice: Invoice) -> list[InvoiceLine]:
    """The stored line rows of an invoice in order (with their ids, for choosing lines)."""
    return list(InvoiceLine.select().where(InvoiceLine.invoice == invoice)
                .order_by(InvoiceLine.position))


def payer_of_invoice(invoice: Invoice) -> Payer:
    return Payer.from_key(invoice.payer_key, invoice.payer_name)


def get_organisation(site: Site, organisation_id: int | str) -> Organisation:
    """An organisation of the site's municipality, or NotFound (also for another town's)."""
    text = str(organisation_id)
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= db.MAX_ID):
        raise NotFound(organisation_id)
    found = payer_record(site, Payer("organisation", int(text)))
    assert isinstance(found, Organisation)
    return found


def payer_invoices(site: Site, payer: Payer) -> list[Invoice]:
    """Every invoice and credit note of a payer at the site, newest month first."""
    return list(Invoice.select().where((Invoice.site == site)
                                       & (Invoice.payer_key == payer.key))
                .order_by(Invoice.period.desc(), Invoice.kind.desc(), Invoice.id))


def payer_payments(site: Site, payer: Payer) -> list[Payment]:
    return list(Payment.select().where((Payment.site == site) & (Payment.payer_key == payer.key))
                .order_by(Payment.received_on.desc(), Payment.id.desc()))


def invoice_payments(invoice: Invoice) -> list[Payment]:
    return list(Payment.select().where(Payment.invoice == invoice)
                .order_by(Payment.received_on, Payment.id))


def payment_method_labels() -> dict[str, str]:
    """Code → translated label of every payment method, in order."""
    return {m.code: _(m.label) for m in payment_methods()}
