"""The monthly run: one draft invoice per payer with lines this month, made or updated.

Idempotent and restartable. A rerun rewrites drafts whose lines changed, skips
those that did not (a digest of the lines is kept on the invoice), deletes drafts
whose lines are gone, and never touches reviewed or issued invoices. Payers are
written in batches, each batch one transaction, so every payer's invoice is
written whole or not at all, and a run killed half way leaves the finished
batches done: running it again finishes the rest.

What exists is read once at the start. A batch decides from that snapshot and
writes with guards instead of re-reading under a lock: a draft is rewritten by
``UPDATE … WHERE status = 'draft'`` (a reviewer who got there first wins, and the
row lock orders two writers), and new invoices meet the partial unique index on
(site, month, payer, revision). If another run inserted one of them meanwhile,
the batch rolls back whole, is re-read and written again.

Programs' lines are collected before each batch's transaction opens, so plugin
code never runs while the write lock is held; a batch with nothing to write opens
no transaction at all (a rerun of an unchanged month only reads).
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from hubcore import db
from hubcore.billing import operations as ops
from hubcore.billing.lines import LineItem, Month
from hubcore.billing.models import Invoice, InvoiceLine
from hubcore.billing.tax import totals
from hubcore.db import utcnow, write_transaction
from hubcore.sites.models import Site

# Payers per transaction. 1 makes a transaction per payer; larger batches are
# faster (a commit costs a round trip and, on a disk, a sync) and still hold the
# write lock only for milliseconds.
BATCH_SIZE = 100

# (id, status, lines_hash) of the latest revision of each payer's invoice
Existing = dict[str, tuple[int, str, str]]


@dataclass
class RunResult:
    period: str
    payers: int = 0  # payers looked at
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0  # drafts whose payer has nothing to pay any more
    kept: int = 0  # reviewed or issued invoices left as they are

    def summary(self) -> str:
        return (f"{self.period}: {self.payers} payers; {self.created} created, "
                f"{self.updated} updated, {self.unchanged} unchanged, {self.removed} removed, "
                f"{self.kept} reviewed or issued left as they are")


def run_month(site: Site, month: str | Month, progress: ops.Progress | None = None,
              batch_size: int = BATCH_SIZE) -> RunResult:
    """Make or update the draft invoices of ``month`` ("YYYY-MM") at ``site``.

    ``progress(done, total)`` is called after each batch is committed.
    """
    # A fresh Month: its memo must not carry a plugin's data over from another run.
    period = Month.parse(month) if isinstance(month, str) else Month(month.year, month.month)
    result = RunResult(str(period))
    existing = _existing(site, period)
    payers = ops.list_payers(site, extra_keys=existing)
    result.payers = len(payers)
    # Collecting and writing one after the other: a writer thread overlapping them
    # was slower on both databases (GIL hand-offs cost more than the overlap gained).
    for start in range(0, len(payers), batch_size):
        batch = payers[start:start + batch_size]
        computed = [(p, ops.collect_lines(site, p.payer, period)) for p in batch]
        for attempt in range(3):
            counts = RunResult(result.period)
            try:
                _write_batch(site, period, computed, existing, counts)
                break
            except peewee.IntegrityError:
                # Another run of this month wrote some of these payers: look again.
                if attempt == 2:
                    raise
                existing.update(_existing(site, period, [p.payer.key for p in batch]))
        for name in ("created", "updated", "unchanged", "removed", "kept"):
            setattr(result, name, getattr(result, name) + getattr(counts, name))
        if progress:
            progress(start + len(batch), len(payers))
    return result


def _existing(site: Site, period: Month, keys: list[str] | None = None) -> Existing:
    q = (Invoice.select(Invoice.payer_key, Invoice.id, Invoice.status, Invoice.lines_hash)
         .where((Invoice.site == site) & (Invoice.period == str(period))
                & (Invoice.kind == "invoice")))
    if keys is not None:
        q = q.where(Invoice.payer_key.in_(keys))
    # Ordered by revision: the last row per payer, the latest, is the one a run may update.
    return {key: (iid, status, digest)
            for key, iid, status, digest in q.order_by(Invoice.revision).tuples()}


Plan = tuple[list[tuple[ops.PayerInfo, list[LineItem], str]],
             list[tuple[int, ops.PayerInfo, list[LineItem], str]]]


def _plan(computed: list[tuple[ops.PayerInfo, list[LineItem]]], existing: Existing,
          result: RunResult) -> Plan:
    """What a batch must write: new invoices and drafts to rewrite (the rest is counted)."""
    new, rewrite = [], []
    for info, lines in computed:
        digest = ops.lines_hash(info.payer, info.address, lines)
        found = existing.get(info.payer.key)
        if found is None:
            if lines:
                new.append((info, lines, digest))
            continue
        invoice_id, status, old_digest = found
        if status != "draft":
            result.kept += 1
        elif old_digest == digest:
            result.unchanged += 1
        else:
            rewrite.append((invoice_id, info, lines, digest))
    return new, rewrite


def _write_batch(site: Site, period: Month, computed: list[tuple[ops.PayerInfo, list[LineItem]]],
                 existing: Existing, result: RunResult) -> None:
    new, rewrite = _plan(computed, existing, result)
    if not new and not rewrite:
        return
    with write_transaction():
        if db.is_postgres():
            # Drafts can always be made again by a rerun, so a batch need not wait for
            # its commit to reach the disk (one sync per batch saved); a crash loses at
            # most the last batches, which the next run writes again.
            db.database.execute_sql("SET LOCAL synchronous_commit TO OFF")
        if rewrite:
            _rewrite_drafts(rewrite, result)
        if new:
            _insert(site, period, new)
            result.created += len(new)


INSERT_FIELDS = [Invoice.id, Invoice.site, Invoice.kind, Invoice.status, Invoice.period,
                 Invoice.revision, Invoice.payer_key, Invoice.household, Invoice.organisation,
                 Invoice.payer_name, Invoice.payer_address, Invoice.lines_hash,
                 Invoice.created_at, Invoice.updated_at, Invoice.total, Invoice.total_standard,
                 Invoice.tax_standard, Invoice.total_reduced, Invoice.tax_reduced,
                 Invoice.total_non_taxable]


def _new_ids(n: int) -> list[int]:
    """Ids for ``n`` new invoices, taken before inserting so lines can name them
    without reading the invoices back."""
    if db.is_postgres():
        cursor = db.database.execute_sql(
            "SELECT nextval(pg_get_serial_sequence('invoice', 'id')) "
            "FROM generate_series(1, %s)", (n,))
        return [i for (i,) in cursor.fetchall()]
    # SQLite: BEGIN IMMEDIATE holds the only write lock, nobody else inserts now.
    top = Invoice.select(peewee.fn.MAX(Invoice.id)).scalar() or 0
    return list(range(top + 1, top + 1 + n))


def _insert(site: Site, period: Month, new: list[tuple[ops.PayerInfo, list[LineItem], str]]
            ) -> None:
    now = utcnow()
    rows: list[tuple] = []
    line_rows: list[tuple] = []
    for invoice_id, (info, lines, digest) in zip(_new_ids(len(new)), new, strict=True):
        p = info.payer
        t = ops.totals_columns(totals(lines))
        rows.append((invoice_id, site.id, "invoice", "draft", str(period), 0, p.key,
                     p.household_id, p.organisation_id, p.name, info.address, digest, now, now,
                     t["total"], t["total_standard"], t["tax_standard"], t["total_reduced"],
                     t["tax_reduced"], t["total_non_taxable"]))
        line_rows += ops.line_rows(invoice_id, lines)
    ops.bulk_insert(INSERT_FIELDS, rows)
    ops.insert_line_rows(line_rows)


def _rewrite_drafts(rewrite: list[tuple[int, ops.PayerInfo, list[LineItem], str]],
                    result: RunResult) -> None:
    """Replace drafts' programs' lines, keeping lines added by hand; a draft left with
    nothing to bill is deleted. A few queries for the whole batch, not per draft."""
    ids = [r[0] for r in rewrite]
    # Lock them first (PostgreSQL; SQLite is locked whole): a reviewer or a hand-added
    # line waits for this transaction. One reviewed since the run started is left alone.
    drafts = {i for (i,) in ops.locked(Invoice.select(Invoice.id).where(
        Invoice.id.in_(ids) & (Invoice.status == "draft"))).tuples()}
    manual: dict[int, list[LineItem]] = {}
    for row in InvoiceLine.select().where(InvoiceLine.invoice.in_(sorted(drafts))
                                          & (InvoiceLine.program == ops.MANUAL)
                                          ).order_by(InvoiceLine.position):
        manual.setdefault(row.invoice_id, []).append(ops.item_of_row(row))
    InvoiceLine.delete().where(InvoiceLine.invoice.in_(sorted(drafts))).execute()
    gone, rows = [], []
    now = utcnow()
    for invoice_id, info, lines, digest in rewrite:
        if invoice_id not in drafts:
            result.kept += 1
            continue
        all_lines = [*lines, *manual.get(invoice_id, [])]
        if not all_lines:
            gone.append(invoice_id)
            continue
        Invoice.update(
            payer_name=info.payer.name, payer_address=info.address, lines_hash=digest,
            updated_at=now, **ops.totals_columns(totals(all_lines)),
        ).where(Invoice.id == invoice_id).execute()
        rows += ops.line_rows(invoice_id, all_lines)
        result.updated += 1
    if gone:
        Invoice.delete().where(Invoice.id.in_(gone)).execute()
        result.removed += len(gone)
    ops.insert_line_rows(rows)
