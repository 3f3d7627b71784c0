"""The core's billing area, written as a built-in plugin."""

from __future__ import annotations

from hubcore.billing import models
from hubcore.billing.lines import PaymentMethod
from hubcore.hookspecs import hookimpl
from hubcore.i18n import N_
from hubcore.migrations import Migrations, create_tables
from hubcore.plugins import PluginMeta

PLUGIN = PluginMeta(
    name="billing",
    label_ja="請求",
    label_en="Billing",
    requires=("people",),
    description="Invoices per payer and month, payments, credit notes, tax.",
    core=True,
)


@hookimpl
def register_models():
    return models.MODELS


@hookimpl
def register_migrations():
    return Migrations("billing", [create_tables(*models.MODELS)])


@hookimpl
def register_commands(cli):
    from hubcore.billing.cli import billing

    cli.add_command(billing)


@hookimpl
def payment_methods():
    return [
        PaymentMethod("cash", N_("Cash"), order=10),
        PaymentMethod("bank_transfer", N_("Bank transfer"), order=20),
        PaymentMethod("direct_debit", N_("Direct debit"), order=30),
    ]
