"""CSV exports of invoices and payments that Excel opens as they are.

UTF-8 with a byte-order mark by default: Excel takes a BOM-less UTF-8 CSV for
Shift_JIS and garbles every Japanese name. ``encoding="cp932"`` (Windows'
Shift_JIS) is there for older accounting tools; a character it cannot hold (𠮷,
a rare 異体字) stops the export with an error naming the row and the column, so
nothing is silently replaced by "?". Rows end in CRLF. Text cells that start with
= + - @ get a leading apostrophe so that Excel does not run them as formulas.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence

from hubcore.billing import operations as ops
from hubcore.billing.lines import Month
from hubcore.billing.models import Invoice, Payment
from hubcore.i18n import gettext as _
from hubcore.sites.models import Site

ENCODINGS = {"utf-8-sig": "utf-8-sig", "utf-8": "utf-8-sig", "cp932": "cp932",
             "shift_jis": "cp932", "sjis": "cp932"}


class ExportEncodingError(ValueError):
    """A cell cannot be written in the chosen encoding; says which row and column."""

    def __init__(self, row: int, column: str, char: str, encoding: str):
        self.row, self.column, self.char, self.encoding = row, column, char, encoding
        super().__init__(_("Row {row}, column “{column}”: the character “{char}” (U+{code}) "
                           "cannot be written in {encoding}; export as UTF-8 instead or change "
                           "the text.").format(row=row, column=column, char=char,
                                               code=f"{ord(char):04X}", encoding=encoding))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | dt.date):
        return str(value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _codec(encoding: str) -> str:
    codec = ENCODINGS.get(encoding.lower())
    if codec is None:
        raise ValueError(f"unknown encoding {encoding!r}: use utf-8-sig or cp932")
    return codec


def iter_csv(header: Sequence[str], rows: Iterable[Sequence[object]],
             encoding: str = "utf-8-sig", chunk_rows: int = 500) -> Iterator[bytes]:
    """The CSV in chunks of ``chunk_rows`` rows (for a streamed download).

    A cell the encoding cannot hold raises ExportEncodingError when its row is reached;
    call ``check_encodable`` first to refuse before the first byte is sent.
    """
    codec = _codec(encoding)
    if codec == "utf-8-sig":
        yield b"\xef\xbb\xbf"
        codec = "utf-8"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    out: list[bytes] = []
    for number, row in enumerate([list(header), *rows], start=1):
        cells = [_cell(v) for v in row]
        buf.seek(0)
        buf.truncate()
        writer.writerow(cells)
        try:
            out.append(buf.getvalue().encode(codec))
        except UnicodeEncodeError:
            _raise_for(number, header, cells, codec, encoding)
            raise
        if len(out) >= chunk_rows:
            yield b"".join(out)
            out = []
    if out:
        yield b"".join(out)


def _raise_for(number: int, header: Sequence[str], cells: Sequence[str], codec: str,
               encoding: str) -> None:
    for column, cell in zip(header, cells, strict=True):
        for ch in cell:
            try:
                ch.encode(codec)
            except UnicodeEncodeError:
                raise ExportEncodingError(number, column, ch, encoding) from None


def check_encodable(header: Sequence[str], rows: Sequence[Sequence[object]],
                    encoding: str) -> None:
    """Raise ExportEncodingError for the first cell ``encoding`` cannot hold."""
    codec = _codec(encoding)
    if codec == "utf-8-sig":
        return  # UTF-8 holds every character
    for number, row in enumerate([list(header), *rows], start=1):
        cells = [_cell(v) for v in row]
        try:
            "".join(cells).encode(codec)
        except UnicodeEncodeError:
            _raise_for(number, header, cells, codec, encoding)
            raise


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]],
              encoding: str = "utf-8-sig") -> bytes:
    """Rows as CSV bytes in ``encoding`` (see ENCODINGS); row 1 is the header."""
    return b"".join(iter_csv(header, rows, encoding))


INVOICE_HEADER = ("number", "kind", "status", "period", "revision", "issue_date", "due_date",
                  "payer_kind", "payer_name", "total", "total_10", "tax_10", "total_8",
                  "tax_8", "total_non_taxable", "corrects")


def invoice_rows(site: Site, period: str | Month | None = None,
                 issued_only: bool = False) -> list[tuple]:
    """One row per invoice and credit note (of ``period``); totals tax-included per rate."""
    q = Invoice.select().where(Invoice.site == site)
    if period is not None:
        q = q.where(Invoice.period == str(period))
    if issued_only:
        q = q.where(Invoice.status == "issued")
    rows = list(q.order_by(Invoice.period, Invoice.kind.desc(), Invoice.sequence, Invoice.id))
    numbers = {r.id: r.number for r in rows}
    missing = {r.corrects_id for r in rows if r.corrects_id and r.corrects_id not in numbers}
    if missing:
        numbers.update(dict(Invoice.select(Invoice.id, Invoice.number)
                            .where(Invoice.id.in_(sorted(missing))).tuples()))
    return [
        (r.number, r.kind, r.status, r.period, r.revision, r.issue_date, r.due_date,
         r.payer_key.split(":")[0], r.payer_name, r.total, r.total_standard, r.tax_standard,
         r.total_reduced, r.tax_reduced, r.total_non_taxable,
         numbers.get(r.corrects_id) if r.corrects_id else None)
        for r in rows]


def export_invoices(site: Site, period: str | Month | None = None, encoding: str = "utf-8-sig",
                    issued_only: bool = False) -> bytes:
    """One row per invoice and credit note (of ``period``); totals tax-included per rate."""
    return write_csv(INVOICE_HEADER, invoice_rows(site, period, issued_only), encoding)


PAYMENT_HEADER = ("received_on", "payer_kind", "payer_name", "method", "amount", "reference",
                  "invoice_number", "note")


def payment_rows(site: Site, since: dt.date | None = None,
                 until: dt.date | None = None) -> list[tuple]:
    payments: list[Payment] = ops.list_payments(site, since, until)
    names = _payer_names(site, {p.payer_key for p in payments})
    numbers = dict(Invoice.select(Invoice.id, Invoice.number).where(Invoice.id.in_(
        sorted({p.invoice_id for p in payments if p.invoice_id}) or [0])).tuples())
    return [
        (p.received_on, p.payer_key.split(":")[0], names.get(p.payer_key, ""), p.method,
         p.amount, p.reference, numbers.get(p.invoice_id), p.note)
        for p in payments]


def export_payments(site: Site, since: dt.date | None = None, until: dt.date | None = None,
                    encoding: str = "utf-8-sig") -> bytes:
    return write_csv(PAYMENT_HEADER, payment_rows(site, since, until), encoding)


def _payer_names(site: Site, keys: set[str]) -> dict[str, str]:
    return {info.payer.key: info.payer.name for info in ops.list_payers(site, keys)
            if info.payer.key in keys}
