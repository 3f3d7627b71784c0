"""The monthly run as a long job: idempotent, restartable after a kill, and its CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from testplugins import lessons

from hubcore.billing import operations as ops
from hubcore.billing import run as billing_run
from hubcore.billing.cli import billing
from hubcore.billing.models import Invoice, InvoiceLine
from hubcore.billing.run import run_month
from hubcore.migrations import migrate
from hubcore.plugins import get_host
from hubcore.testing import make_site, registered

APRIL = "2026-04"
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def lsite(database):
    with registered(lessons):
        migrate(get_host())
        site = make_site(plugins=("lessons",))
        lessons.seed(site, households=40, organisations=2)
        yield site


def snapshot(site) -> list[tuple]:
    """Everything a run writes, without ids and timestamps."""
    lines: dict[int, list[tuple]] = {}
    for li in InvoiceLine.select().join(Invoice).where(Invoice.site == site).order_by(
            InvoiceLine.invoice, InvoiceLine.position):
        lines.setdefault(li.invoice_id, []).append(
            (li.position, li.program, li.description, li.day, li.quantity, li.unit_price,
             li.amount, li.tax_category, li.ref, li.hide_if_zero))
    return sorted(
        (i.payer_key, i.kind, i.status, i.revision, i.payer_name, i.payer_address, i.total,
         i.total_standard, i.tax_standard, i.total_reduced, i.tax_reduced, i.total_non_taxable,
         i.lines_hash, tuple(lines.get(i.id, ())))
        for i in Invoice.select().where(Invoice.site == site))


def uninterrupted(site) -> list[tuple]:
    """What one clean run produces: drafts deleted, the month run again in one go."""
    Invoice.delete().where((Invoice.site == site) & (Invoice.status == "draft")).execute()
    run_month(site, APRIL)
    return snapshot(site)


def _count(site) -> int:
    return Invoice.select().where(Invoice.site == site).count()


def test_run_twice_changes_nothing_the_second_time(lsite):
    first = run_month(lsite, APRIL, batch_size=7)
    once = snapshot(lsite)
    second = run_month(lsite, APRIL, batch_size=3)
    assert second.created == second.updated == second.removed == 0
    assert second.unchanged == first.created == len(once)
    assert snapshot(lsite) == once


def test_a_batch_failing_inside_its_transaction_leaves_nothing_half_written(lsite,
                                                                            monkeypatch):
    real, calls = billing_run._insert, []

    def dying(site, period, new):
        calls.append(1)
        real(site, period, new)  # the invoices of the batch are in the transaction ...
        if len(calls) == 3:
            raise RuntimeError("killed")  # ... when it dies

    monkeypatch.setattr(billing_run, "_insert", dying)
    with pytest.raises(RuntimeError):
        run_month(lsite, APRIL, batch_size=5)
    monkeypatch.setattr(billing_run, "_insert", real)
    partial = _count(lsite)
    assert 0 < partial < 37
    # Every invoice there is whole: its lines add up to its total.
    for inv in Invoice.select().where(Invoice.site == lsite):
        assert inv.total == sum(li.amount for li in ops.line_items(inv)) and ops.line_items(inv)
    result = run_month(lsite, APRIL, batch_size=5)
    assert result.unchanged == partial and result.created == 37 - partial
    assert snapshot(lsite) == uninterrupted(lsite)


def _cli(db_url: str, tmp_path: Path, *args: str, sleep: float = 0) -> tuple[list[str], dict]:
    env = {**os.environ, "DATABASE_URL": db_url, "HUBCORE_INSTANCE": str(tmp_path / "inst"),
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
           "LESSONS_SLEEP": str(sleep)}
    # `python -m testplugins.lessons` is the `hubcore` command with the test plugin
    # registered (it has no entry point of its own).
    return [sys.executable, "-m", "testplugins.lessons", *args], env


def test_a_killed_run_in_a_subprocess_reruns_to_the_same_result(lsite, database, tmp_path):
    args = ("billing", "run", "--site", lsite.slug, "--month", APRIL, "--batch-size", "2")
    cmd, env = _cli(database, tmp_path, *args, sleep=0.04)  # ~2 s for 42 payers
    log = open(tmp_path / "run.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while _count(lsite) < 8:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, "the run wrote nothing"
            time.sleep(0.02)
        proc.kill()  # SIGKILL: no cleanup, as when a machine or a session dies
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    partial = _count(lsite)
    assert 8 <= partial < 37, "the run was not killed half way"
    cmd, env = _cli(database, tmp_path, *args)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    assert f"{37 - partial} created" in done.stdout and f"{partial} unchanged" in done.stdout
    after_rerun = snapshot(lsite)
    assert len(after_rerun) == 37
    assert after_rerun == uninterrupted(lsite)


def test_cli_run_issue_and_export(lsite, database, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("HUBCORE_INSTANCE", str(tmp_path / "inst"))
    runner = CliRunner()
    r = runner.invoke(billing, ["run", "--site", lsite.slug, "--month", APRIL])
    assert r.exit_code == 0, r.output
    assert "37 created" in r.output
    r = runner.invoke(billing, ["run", "--site", lsite.slug, "--month", "2026-4"])
    assert r.exit_code == 2 and "YYYY-MM" in r.output
    r = runner.invoke(billing, ["run", "--site", "nowhere", "--month", APRIL])
    assert r.exit_code == 1 and "no such site: nowhere" in r.output
    r = runner.invoke(billing, ["issue", "--site", lsite.slug])
    assert "nothing to issue" in r.output
    ops.review_all(lsite, APRIL)
    r = runner.invoke(billing, ["issue", "--site", lsite.slug, "--month", APRIL])
    assert r.exit_code == 0 and "37 issued: 000001 … 000037" in r.output
    out = tmp_path / "april.csv"
    r = runner.invoke(billing, ["export", "invoices", "--site", lsite.slug, "--month", APRIL,
                                "--encoding", "cp932", "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_bytes().decode("cp932")
    assert text.count("\r\n") == 38 and "世帯00000" in text
    Invoice.update(payer_name="𠮷田家").where(Invoice.sequence == 2).execute()
    r = runner.invoke(billing, ["export", "invoices", "--site", lsite.slug, "--encoding",
                                "cp932", "-o", str(out)])
    assert r.exit_code == 1 and "3行目" in r.output and "payer_name" in r.output


def test_the_hubcore_command_has_the_billing_group():
    from hubcore.cli import cli

    get_host().pm.hook.register_commands(cli=cli)
    assert {"run", "issue", "export"} <= set(cli.commands["billing"].commands)
