"""Billing tables: organisations, settings, prices, invoices and their lines, payments.

Money columns are integer yen (64-bit). Decimal columns (quantities, unit prices
such as 10.45 yen per care unit) have four decimal places; on SQLite they are
stored with NUMERIC affinity, exact up to 15 significant digits, which covers
every figure billing holds.
"""

from __future__ import annotations

import peewee

from hubcore.db import BaseModel, utcnow
from hubcore.people.models import Household
from hubcore.sites.models import Municipality, Site

ORGANISATION_KINDS = ("company", "insurer", "municipality", "other")
DUE_RULES = ("end_of_next_month", "days_after_issue")
KINDS = ("invoice", "credit_note")
STATUSES = ("draft", "reviewed", "issued")


class Organisation(BaseModel):
    """A payer that is not a household: a company, a care insurer, the municipality.

    Kept per municipality, not per site: the same company or insurer pays at every
    hub of the town, and one record keeps its address and registration number in
    one place. Its invoices are still per site (each site numbers its own).
    """

    municipality = peewee.ForeignKeyField(Municipality, on_delete="RESTRICT")
    name = peewee.CharField(max_length=200)
    name_kana = peewee.CharField(max_length=300, default="")
    kind = peewee.CharField(max_length=20, default="company")
    department = peewee.CharField(max_length=200, default="")  # 部署・担当
    postal_code = peewee.CharField(max_length=8, default="")
    address = peewee.CharField(max_length=300, default="")
    phone = peewee.CharField(max_length=20, default="")
    registration_number = peewee.CharField(max_length=14, default="")  # their T-number
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "organisation"
        indexes = ((("municipality", "name"), True),)


class BillingSettings(BaseModel):
    """A site's billing settings; also the row a monthly run locks on PostgreSQL."""

    site = peewee.ForeignKeyField(Site, unique=True, on_delete="CASCADE")
    issuer_name = peewee.CharField(max_length=200, default="")  # 運営法人名, printed
    issuer_address = peewee.CharField(max_length=300, default="")
    issuer_phone = peewee.CharField(max_length=20, default="")
    registration_number = peewee.CharField(max_length=14, default="")  # T + 13 digits or ""
    issuer_is_corporation = peewee.BooleanField(default=True)
    bank_account = peewee.TextField(default="")  # 振込先, printed
    due_rule = peewee.CharField(max_length=30, default="end_of_next_month")
    due_days = peewee.IntegerField(default=30)  # with due_rule "days_after_issue"
    number_prefix = peewee.CharField(max_length=10, default="")
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "billing_settings"


class Counter(BaseModel):
    """The last number issued per site and series; bumped inside the issuing transaction."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    series = peewee.CharField(max_length=20)  # "invoice" or "credit_note"
    last = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "billing_counter"
        indexes = ((("site", "series"), True),)


class Price(BaseModel):
    """A tariff entry with effective dates: valid_from ≤ day ≤ valid_to (None: open)."""

    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    program = peewee.CharField(max_length=100)
    code = peewee.CharField(max_length=100)
    label = peewee.CharField(max_length=200)
    unit_price = peewee.DecimalField(max_digits=14, decimal_places=4)
    tax_category = peewee.CharField(max_length=20)
    valid_from = peewee.DateField()
    valid_to = peewee.DateField(null=True)

    class Meta:
        table_name = "price"
        indexes = ((("site", "program", "code", "valid_from"), True),)


class Invoice(BaseModel):
    """An invoice (one per payer, site, month and revision) or a credit note.

    ``payer_key`` ("household:12" / "organisation:3") with exactly one of the two
    foreign keys set is the payer; the key makes the uniqueness an ordinary index.
    Issued rows are never changed (operations refuse it); a credit note points at
    the invoice it corrects. ``revision`` counts re-invoices after a full reversal.
    """

    # No index of their own on the foreign keys: the indexes below lead with site and
    # payer_key, and each extra index slowed the monthly run's inserts measurably.
    site = peewee.ForeignKeyField(Site, on_delete="RESTRICT", index=False)
    kind = peewee.CharField(max_length=20, default="invoice")
    status = peewee.CharField(max_length=20, default="draft")
    period = peewee.CharField(max_length=7)  # YYYY-MM
    revision = peewee.IntegerField(default=0)
    payer_key = peewee.CharField(max_length=40)
    household = peewee.ForeignKeyField(Household, null=True, on_delete="RESTRICT", index=False)
    organisation = peewee.ForeignKeyField(Organisation, null=True, on_delete="RESTRICT",
                                          index=False)
    payer_name = peewee.CharField(max_length=200, default="")
    payer_address = peewee.CharField(max_length=400, default="")
    corrects = peewee.ForeignKeyField("self", null=True, backref="credit_notes",
                                      on_delete="RESTRICT")
    reason = peewee.TextField(default="")  # why a credit note was made
    number = peewee.CharField(max_length=30, null=True)
    sequence = peewee.BigIntegerField(null=True)
    issue_date = peewee.DateField(null=True)
    due_date = peewee.DateField(null=True)
    issued_at = peewee.DateTimeField(null=True)
    reviewed_at = peewee.DateTimeField(null=True)
    issuer = peewee.TextField(default="")  # JSON snapshot of the settings at issue
    total = peewee.BigIntegerField(default=0)
    total_standard = peewee.BigIntegerField(default=0)
    tax_standard = peewee.BigIntegerField(default=0)
    total_reduced = peewee.BigIntegerField(default=0)
    tax_reduced = peewee.BigIntegerField(default=0)
    total_non_taxable = peewee.BigIntegerField(default=0)
    lines_hash = peewee.CharField(max_length=64, default="")  # the run skips unchanged drafts
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "invoice"
        indexes = (
            (("site", "number"), True),
            (("site", "period", "status"), False),
            (("site", "payer_key"), False),
        )
        constraints = [
            peewee.Check("(household_id IS NULL) <> (organisation_id IS NULL)"),
            peewee.Check("kind IN ('invoice', 'credit_note')"),
            peewee.Check("status IN ('draft', 'reviewed', 'issued')"),
        ]


# One invoice per payer, site, month (and revision): a rerun or a second run of the
# month cannot duplicate one. Partial, so credit notes are not limited by it.
Invoice.add_index(
    Invoice.index(Invoice.site, Invoice.period, Invoice.payer_key, Invoice.revision,
                  unique=True, name="invoice_one_per_payer_month")
    .where(Invoice.kind == "invoice")
)


class InvoiceLine(BaseModel):
    # indexed by (invoice, position) below
    invoice = peewee.ForeignKeyField(Invoice, backref="lines", on_delete="CASCADE", index=False)
    position = peewee.IntegerField()
    program = peewee.CharField(max_length=100)
    description = peewee.CharField(max_length=300)
    day = peewee.DateField(null=True)
    period_from = peewee.DateField(null=True)
    period_to = peewee.DateField(null=True)
    quantity = peewee.DecimalField(max_digits=14, decimal_places=4)
    unit_price = peewee.DecimalField(max_digits=14, decimal_places=4, null=True)
    amount = peewee.BigIntegerField()
    tax_category = peewee.CharField(max_length=20)
    ref = peewee.CharField(max_length=100, default="", index=True)
    hide_if_zero = peewee.BooleanField(default=False)

    class Meta:
        table_name = "invoice_line"
        indexes = ((("invoice", "position"), True),)


class Payment(BaseModel):
    """Money received from a payer (a negative amount is a refund)."""

    site = peewee.ForeignKeyField(Site, on_delete="RESTRICT")
    payer_key = peewee.CharField(max_length=40)
    household = peewee.ForeignKeyField(Household, null=True, on_delete="RESTRICT")
    organisation = peewee.ForeignKeyField(Organisation, null=True, on_delete="RESTRICT")
    invoice = peewee.ForeignKeyField(Invoice, null=True, on_delete="RESTRICT")  # optional
    method = peewee.CharField(max_length=40)
    amount = peewee.BigIntegerField()
    received_on = peewee.DateField()
    reference = peewee.CharField(max_length=200, default="")  # 振込名義, receipt no.
    note = peewee.TextField(default="")
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "payment"
        indexes = ((("site", "payer_key"), False), (("site", "received_on"), False))
        constraints = [peewee.Check("(household_id IS NULL) <> (organisation_id IS NULL)")]


MODELS = [Organisation, BillingSettings, Counter, Price, Invoice, InvoiceLine, Payment]
