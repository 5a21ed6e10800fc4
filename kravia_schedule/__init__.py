"""kravia-schedule: which purchases go on which Kravia invoice, and when it is issued and due.

A pure, dependency-light engine for the Nordic invoice payments Kravia offers through
Dintero Checkout (Norway, Sweden, Finland):

>>> from datetime import date
>>> from kravia_schedule import grouped_invoice_dates
>>> dates = grouped_invoice_dates(date(2021, 2, 10), country="NO", interval="quarterly")
>>> dates.period.label, dates.issue_date.isoformat(), dates.due_date.isoformat()
('2021-Q1', '2021-04-06', '2021-04-20')

The main entry point is :func:`plan_invoices`; see the README for a tour.
"""

from kravia_schedule import rules
from kravia_schedule._version import __version__
from kravia_schedule.address import BillingAddress, required_fields, validate_billing_address
from kravia_schedule.calendar import (
    BusinessCalendar,
    CalendarKind,
    DateRoll,
    SkippedDay,
    holiday_data_years,
)
from kravia_schedule.config import KraviaConfig, ProductConfig, ProductType, parse_configuration
from kravia_schedule.countries import Country
from kravia_schedule.customers import CustomerKey
from kravia_schedule.dates import (
    InvoiceDates,
    grouped_invoice_dates,
    local_date,
    standard_invoice_dates,
)
from kravia_schedule.dintero import (
    KRAVIA_CURRENCIES,
    TRANSACTION_STATUSES,
    DinteroTransaction,
    EventAmounts,
    EventKind,
    KraviaFacts,
    SettlementStatus,
    VatBreakdown,
    WebhookUpdate,
    classify,
    is_kravia_currency,
    read_transaction,
    read_webhook,
    to_flat,
    vat_from_gross,
)
from kravia_schedule.errors import (
    CalendarRangeError,
    ConfigurationError,
    FieldProblem,
    IllegalTransition,
    InputFileError,
    InvalidArgument,
    InvalidBillingAddress,
    InvalidIdentifier,
    InvalidOption,
    InvalidPurchaseError,
    KraviaScheduleError,
    LedgerConflict,
    LedgerError,
    MergeConflictError,
    NaiveDatetimeError,
    UnknownId,
)
from kravia_schedule.invoices import (
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceLines,
    InvoicePlan,
    InvoiceState,
    PlanProvenance,
    Rejection,
    SkippedPurchase,
    SkipReason,
)
from kravia_schedule.options import PlanOptions
from kravia_schedule.periods import BillingPeriod, Interval, billing_period, periods_in_year
from kravia_schedule.planning import merge_plans, plan_invoices
from kravia_schedule.purchases import Purchase, TransactionStatus, parse_purchase
from kravia_schedule.reconcile import Discrepancy, Finding, Reconciliation, reconcile
from kravia_schedule.report import json_default
from kravia_schedule.statutory import (
    PAYMENT_RULES,
    PaymentDeadline,
    PaymentRule,
    last_on_time_payment_date,
)
from kravia_schedule.vat import RateTotal, vat_breakdown

__all__ = [
    "PAYMENT_RULES",
    "BillingAddress",
    "BillingPeriod",
    "BusinessCalendar",
    "CalendarKind",
    "CalendarRangeError",
    "ConfigurationError",
    "Country",
    "CustomerKey",
    "DateRoll",
    "Discrepancy",
    "FieldProblem",
    "Finding",
    "IllegalTransition",
    "InputFileError",
    "Interval",
    "InvalidArgument",
    "InvalidBillingAddress",
    "InvalidIdentifier",
    "InvalidOption",
    "InvalidPurchaseError",
    "Invoice",
    "InvoiceDates",
    "InvoiceItem",
    "InvoiceLine",
    "InvoiceLines",
    "InvoicePlan",
    "InvoiceState",
    "KraviaConfig",
    "KraviaScheduleError",
    "LedgerConflict",
    "LedgerError",
    "MergeConflictError",
    "NaiveDatetimeError",
    "PaymentDeadline",
    "PaymentRule",
    "PlanOptions",
    "PlanProvenance",
    "ProductConfig",
    "ProductType",
    "Purchase",
    "Reconciliation",
    "Rejection",
    "SkipReason",
    "SkippedDay",
    "SkippedPurchase",
    "TransactionStatus",
    "UnknownId",
    "__version__",
    "billing_period",
    "grouped_invoice_dates",
    "holiday_data_years",
    "json_default",
    "last_on_time_payment_date",
    "local_date",
    "merge_plans",
    "parse_configuration",
    "parse_purchase",
    "periods_in_year",
    "plan_invoices",
    "reconcile",
    "required_fields",
    "rules",
    "standard_invoice_dates",
    "validate_billing_address",
    "vat_breakdown",
]

# Dintero's own shapes (kravia_schedule.dintero), kept as one block.
__all__ += [
    "KRAVIA_CURRENCIES",
    "TRANSACTION_STATUSES",
    "DinteroTransaction",
    "EventAmounts",
    "EventKind",
    "KraviaFacts",
    "RateTotal",
    "SettlementStatus",
    "VatBreakdown",
    "WebhookUpdate",
    "classify",
    "is_kravia_currency",
    "read_transaction",
    "read_webhook",
    "to_flat",
    "vat_from_gross",
]
