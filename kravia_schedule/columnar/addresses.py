"""Billing addresses in a frame: which distinct addresses are plainly valid, and their keys.

The core's :func:`~kravia_schedule.address.validate_billing_address` and
:func:`~kravia_schedule.customers.customer_key` are Python, one address at a time, and a
large frame holds over a million distinct addresses. :func:`recognize` decides with
column expressions which of them the core accepts *as they are*, and gives their customer
key, in a fraction of that.

It is a recognizer, deliberately narrower than the core: the usual spellings only (country
exactly ``NO``/``SE``/``FI``; organization numbers in their plain printed forms; names and
references in ASCII and the Latin-1 letters, whose Unicode normalization and case folding
Polars' lowercase reproduces). Anything else is *not plain* and goes to the core
(:func:`by_core`), which decides it and, if it refuses it, says why. So an address
accepted here must be one the core accepts with the same key; the converse need not hold.
That is property-tested (``tests/test_columnar_addresses.py``) and checked again on a
sample of every frame by :func:`agrees`; should the core ever disagree, the whole frame
takes the core's path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from kravia_schedule import rules
from kravia_schedule.address import (
    BUSINESS_FIELDS,
    COMMON_FIELDS,
    OPTIONAL_FIELDS,
    validate_billing_address,
)
from kravia_schedule.config import ProductType
from kravia_schedule.countries import Country
from kravia_schedule.customers import customer_key
from kravia_schedule.errors import InvalidBillingAddress, InvalidIdentifier
from kravia_schedule.identifiers import validate_org_number

__all__ = ["ADDRESS_FIELDS", "KEYS", "PY_WHITESPACE", "agrees", "by_core", "recognize"]

#: The billing-address fields :func:`validate_billing_address` reads (others are ignored).
ADDRESS_FIELDS: tuple[str, ...] = (*COMMON_FIELDS, *BUSINESS_FIELDS, *OPTIONAL_FIELDS)
#: The customer key columns :func:`recognize` and :func:`by_core` add (country,
#: organization number, name, reference), as in :class:`~kravia_schedule.CustomerKey`.
KEYS = ("country", "org", "name", "reference")

#: Every character ``str.isspace`` (and so ``str.strip``) treats as whitespace; Polars'
#: own notion of whitespace is Rust's, which lacks U+001C..U+001F.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

# Characters whose NFKC form is themselves and whose case fold is Rust's lowercase:
# printable ASCII and the Latin-1 letters except ß (folds to "ss"); the only whitespace
# among them is the space, so collapsing runs of spaces is ``" ".join(text.split())``.
_PLAIN_TEXT = "^[ -~\u00c0-\u00d6\u00d8-\u00de\u00e0-\u00f6\u00f8-\u00ff]*$"
# The core's patterns, anchored; the e-mail also all printable ASCII, so no Unicode
# whitespace question arises between Rust and Python.
_EMAIL = f"^(?:{rules.EMAIL_FORM})$"
_ASCII_WORD = r"^[!-~]+$"
_PHONE = f"^(?:{rules.PHONE_FORM})$"
_POSTAL = {code: f"^(?:{form})$" for code, (form, _) in rules.POSTAL_FORMS.items()}
# Organization numbers in their plain printed forms, and their compact form.
_NO_ORG = r"^[0-9 .\-]+$"  # 9 digits once the separators are removed
_SE_ORG = r"^[0-9]{6}-?[0-9]{4}$"
_FI_ORG = r"^[0-9]{7}-[0-9]$"
_BUSINESS_TYPES = [p.value for p in ProductType if p.is_business]


#: The fields whose values decide (the others need only be strings, as they are).
_CHECKED = (*COMMON_FIELDS, *BUSINESS_FIELDS, "customer_reference")


def _given(name: str) -> pl.Expr:
    """A field as ``_text`` reads it, as column ``s.<name>``: stripped, and empty means
    absent."""
    text = pl.col(f"a.{name}").str.strip_chars(PY_WHITESPACE)
    return pl.when(text.str.len_bytes() > 0).then(text).alias(f"s.{name}")


def recognize(addresses: pl.DataFrame, *, strict: bool = False) -> pl.DataFrame:
    """``addresses`` (columns ``a.<field>`` and ``payment_product_type``) with ``plain``:
    whether the core accepts the address as it is, and (where plain) its customer key
    columns :data:`KEYS`.

    With ``strict`` the check digits of the organization numbers are verified by the core
    (once per distinct number).
    """
    business = pl.col("payment_product_type").is_in(_BUSINESS_TYPES)
    # Lazily, so the optimizer evaluates repeated subexpressions once and in parallel.
    stripped = addresses.lazy().with_columns(_given(name) for name in _CHECKED)
    given = {name: pl.col(f"s.{name}") for name in _CHECKED}
    country, org = given["country"], given["organization_number"]
    name, reference = given["business_name"], given["customer_reference"]
    postal = pl.lit(False)
    org_ok = pl.lit(False)
    org_key: pl.Expr = pl.lit(None, pl.String)
    separators = org.str.replace_all(r"[ .\-]", "")
    for code, pattern in _POSTAL.items():
        postal = postal | ((country == code) & given["postal_code"].str.contains(pattern))
    for code, ok, key in (
        ("NO", org.str.contains(_NO_ORG) & separators.str.contains("^[0-9]{9}$"), separators),
        ("SE", org.str.contains(_SE_ORG), org.str.replace_all("-", "", literal=True)),
        ("FI", org.str.contains(_FI_ORG), org),
    ):
        org_ok = org_ok | ((country == code) & ok)
        org_key = pl.when(country == code).then(key).otherwise(org_key)
    required = pl.all_horizontal(given[f].is_not_null() for f in COMMON_FIELDS)
    plain = (
        required
        & country.is_in([c.value for c in Country])
        & postal
        & given["email"].str.contains(_EMAIL)
        & given["email"].str.contains(_ASCII_WORD)
        & given["phone_number"].str.contains(_PHONE)
        & name.fill_null("").str.contains(_PLAIN_TEXT)
        & reference.fill_null("").str.contains(_PLAIN_TEXT)
        & pl.when(business).then(name.is_not_null() & org_ok).otherwise(True)
    ).fill_null(False)
    collapse = r" {2,}"
    out = (
        stripped.with_columns(
            plain=plain,
            country=country,
            org=pl.when(business).then(org_key).otherwise(pl.lit("")),
            name=name.fill_null("").str.replace_all(collapse, " ").str.to_lowercase(),
            reference=reference.fill_null("").str.replace_all(collapse, " "),
        )
        .select(
            *addresses.columns, "plain", *(pl.when("plain").then(pl.col(k)).alias(k) for k in KEYS)
        )
        .collect()
    )
    if strict:
        out = _strict_org_numbers(out)
    return out


def _strict_org_numbers(out: pl.DataFrame) -> pl.DataFrame:
    """``out`` with ``plain`` false where the core refuses the organization number's
    check digits (each distinct (country, number) asked once)."""
    business = pl.col("payment_product_type").is_in(_BUSINESS_TYPES)
    numbers = (
        out.filter(pl.col("plain") & business)
        .select("country", pl.col("a.organization_number").str.strip_chars(PY_WHITESPACE))
        .unique()
    )
    refused = []
    for country, number in zip(*(numbers[c].to_list() for c in numbers.columns), strict=True):
        try:
            validate_org_number(country, number, strict=True)
        except InvalidIdentifier:
            refused.append((country, number))
    if not refused:
        return out
    bad = pl.DataFrame(refused, schema=["country", "number"], orient="row")
    stripped = pl.col("a.organization_number").str.strip_chars(PY_WHITESPACE)
    flagged = out.with_columns(number=stripped).join(
        bad.with_columns(refused=pl.lit(True)),
        on=["country", "number"],
        how="left",
        maintain_order="left",
    )
    plain = pl.col("plain") & ~(business & pl.col("refused").fill_null(False))
    return (
        flagged.with_columns(plain=plain)
        .with_columns(pl.when("plain").then(pl.col(k)).alias(k) for k in KEYS)
        .drop("number", "refused")
    )


def by_core(addresses: pl.DataFrame, *, strict: bool = False) -> pl.DataFrame:
    """``addresses`` with the core's verdict: ``valid`` and the customer key columns
    :data:`KEYS` (null where the core refuses the address)."""
    valid: list[bool] = []
    keys: list[list[str | None]] = [[] for _ in KEYS]
    for given, product in _records(addresses):
        try:
            address = validate_billing_address(given, product, strict=strict)
        except InvalidBillingAddress:
            valid.append(False)
            for column in keys:
                column.append(None)
            continue
        valid.append(True)
        key = customer_key(address)
        values = (key.country.value, key.organization_number, key.business_name,
                  key.customer_reference)  # fmt: skip
        for column, value in zip(keys, values, strict=True):
            column.append(value)
    return addresses.with_columns(
        pl.Series("valid", valid, dtype=pl.Boolean),
        *(
            pl.Series(name, column, dtype=pl.String)
            for name, column in zip(KEYS, keys, strict=True)
        ),
    )


def agrees(plain: pl.DataFrame, *, strict: bool = False, sample: int = 16) -> bool:
    """Whether the core accepts the first ``sample`` addresses :func:`recognize` found
    plain, with the same customer keys (a guard against the two drifting apart)."""
    head = plain.head(sample)
    checked = by_core(head.drop(KEYS), strict=strict)
    return bool(checked["valid"].all()) and checked.select(KEYS).equals(head.select(KEYS))


def _records(addresses: pl.DataFrame) -> Iterable[tuple[dict[str, Any], str]]:
    """Each row as the address mapping the core reads (absent fields left out)."""
    columns = [addresses[f"a.{name}"].to_list() for name in ADDRESS_FIELDS]
    products = addresses["payment_product_type"].to_list()
    for values, product in zip(zip(*columns, strict=True), products, strict=True):
        given = {k: v for k, v in zip(ADDRESS_FIELDS, values, strict=True) if v is not None}
        yield given, product
