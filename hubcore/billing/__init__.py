"""Billing: invoices per payer and month, credit notes, tax, payments.

What plugins need is importable from here without touching the database::

    from hubcore.billing import LineItem, Month, Payer, PaymentMethod, TaxCategory
"""

from hubcore.billing.lines import LineItem, Month, Payer, PaymentMethod, TaxCategory

__all__ = ["LineItem", "Month", "Payer", "PaymentMethod", "TaxCategory"]
