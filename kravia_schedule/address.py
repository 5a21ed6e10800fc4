"""Billing addresses and the per-product-type rules Kravia puts on them.

Required fields (from the Kravia documentation):

=====================  ========  =======================
field                  B2C       B2B and B2B grouped
=====================  ========  =======================
first_name, last_name  required  required
address_line           required  required
postal_code            required  required
country                required  required (NO, SE, FI)
phone_number, email    required  required
business_name          optional  required
organization_number    —         required
customer_reference     optional  optional (grouping key)
=====================  ========  =======================

Organization numbers are checked for their format per country (NO 9 digits; SE 10 or 12
digits, hyphen allowed; FI ``1234567-8``). Their check digits (NO MOD11, SE Luhn, FI
mod 11) are verified only with ``strict=True``: the documentation's own example
``123456789`` fails MOD11, so test data written from it would otherwise be refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from kravia_schedule import rules
from kravia_schedule._frozen import builder
from kravia_schedule.config import ProductType
from kravia_schedule.countries import Country, parse_country
from kravia_schedule.errors import (
    FieldProblem,
    InvalidArgument,
    InvalidBillingAddress,
    InvalidIdentifier,
)
from kravia_schedule.identifiers import validate_org_number
from kravia_schedule.text import text_problem

__all__ = ["BillingAddress", "required_fields", "validate_billing_address"]

COMMON_FIELDS = (
    "first_name",
    "last_name",
    "address_line",
    "postal_code",
    "country",
    "phone_number",
    "email",
)
BUSINESS_FIELDS = ("business_name", "organization_number")
OPTIONAL_FIELDS = ("postal_place", "customer_reference", "address_line_2", "co_address")

_EMAIL = re.compile(rules.EMAIL_FORM)
_PHONE = re.compile(rules.PHONE_FORM)
_POSTAL = {
    Country(code): (re.compile(form), shape) for code, (form, shape) in rules.POSTAL_FORMS.items()
}


def required_fields(product_type: ProductType | str) -> tuple[str, ...]:
    """The billing-address fields that ``product_type`` requires, in document order."""
    business = _product_type(product_type).is_business
    return COMMON_FIELDS + (BUSINESS_FIELDS if business else ())


def _product_type(value: object) -> ProductType:
    try:
        return ProductType(value)  # type: ignore[arg-type]
    except ValueError:
        names = ", ".join(p.value for p in ProductType)
        raise InvalidArgument(f"unknown product type {value!r} ({names})") from None


@dataclass(frozen=True, slots=True)
class BillingAddress:
    """A validated billing address; strings are trimmed, ``country`` is a :class:`Country`.

    ``organization_number`` keeps the spelling given; ``org_number_key`` is its canonical
    compact form (``556677-8899`` and ``165566778899`` both give ``5566778899``).
    """

    first_name: str
    last_name: str
    address_line: str
    postal_code: str
    country: Country
    phone_number: str
    email: str
    business_name: str | None = None
    organization_number: str | None = None
    org_number_key: str | None = None
    customer_reference: str | None = None
    postal_place: str | None = None
    address_line_2: str | None = None
    co_address: str | None = None
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Hashed once: planning hashes a purchase's address for every purchase.
        object.__setattr__(self, "_hash", hash(tuple(getattr(self, f) for f in _FIELDS)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt through __init__, so the hash is the loading process's own: text
        # hashes differ between processes (PYTHONHASHSEED), and a pickled ``_hash`` from
        # a worker process would not match an equal address made here.
        return (BillingAddress, tuple(getattr(self, f) for f in _FIELDS))

    def to_dict(self) -> dict[str, str]:
        """The address in Dintero's shape (absent optional fields left out)."""
        out: dict[str, str] = {}
        for name in COMMON_FIELDS + BUSINESS_FIELDS + OPTIONAL_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value)
        return out


def _text(address: Mapping[str, Any], name: str, problems: list[FieldProblem]) -> str | None:
    value = address.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(FieldProblem(name, f"must be a string, got {type(value).__name__}"))
        return None
    return value.strip() or None


#: The fields of a :class:`BillingAddress`, in order (its hash is that of their values).
_FIELDS = tuple(f.name for f in fields(BillingAddress) if f.init)
#: Builds a checked address without the frozen ``__init__`` (see :mod:`._frozen`).
_new_address = builder(BillingAddress)
#: Per product type: the fields read, and those required.
_READ = {
    p: COMMON_FIELDS + OPTIONAL_FIELDS + (BUSINESS_FIELDS if p.is_business else ("business_name",))
    for p in ProductType
}
_REQUIRED = {p: required_fields(p) for p in ProductType}


def validate_billing_address(
    address: Mapping[str, Any], product_type: ProductType | str, *, strict: bool = False
) -> BillingAddress:
    """Check ``address`` against the rules for ``product_type`` and return it typed.

    Raises :class:`InvalidBillingAddress` listing every problem, each with its field.
    ``strict=True`` also verifies organization-number check digits.
    """
    product_type = _product_type(product_type)
    if not isinstance(address, Mapping):
        raise InvalidBillingAddress([FieldProblem("billing_address", "must be an object")])
    problems: list[FieldProblem] = []
    values: dict[str, str | None] = {"organization_number": None}
    get = address.get
    for name in _READ[product_type]:
        value = get(name)
        # A plain string inline (a billing run validates each distinct address once,
        # but a large run has hundreds of thousands); anything else via _text.
        values[name] = (
            (value.strip() or None) if type(value) is str else _text(address, name, problems)
        )
    problems.extend(
        FieldProblem(name, why)
        for name, value in values.items()
        if value is not None and (why := text_problem(value)) is not None
    )
    for name in _REQUIRED[product_type]:
        if values[name] is None and not any(p.path == name for p in problems):
            problems.append(FieldProblem(name, f"is required for {product_type.value}"))

    country: Country | None = None
    if values["country"] is not None:
        try:
            country = parse_country(values["country"])
        except ValueError as error:
            problems.append(FieldProblem("country", str(error)))
    org_key = None
    org = values["organization_number"]
    if country is not None and org is not None:
        try:
            org_key = validate_org_number(country.value, org, strict=strict)
        except InvalidIdentifier as error:
            problems.append(FieldProblem("organization_number", str(error)))
    postal = values["postal_code"]
    if country is not None and postal is not None:
        pattern, shape = _POSTAL[country]
        if not pattern.fullmatch(postal):
            problems.append(
                FieldProblem(
                    "postal_code", f"{postal!r} is not a {country.value} postal code ({shape})"
                )
            )
    email, phone = values["email"], values["phone_number"]
    if email is not None and not _EMAIL.fullmatch(email):
        problems.append(FieldProblem("email", f"{email!r} is not an e-mail address"))
    if phone is not None and not _PHONE.fullmatch(phone):
        problems.append(FieldProblem("phone_number", f"{phone!r} is not a phone number"))
    if problems or country is None:
        raise InvalidBillingAddress(problems)
    checked = (  # in the order of _FIELDS
        values["first_name"] or "",
        values["last_name"] or "",
        values["address_line"] or "",
        postal or "",
        country,
        phone or "",
        email or "",
        values["business_name"],
        org,
        org_key,
        values["customer_reference"],
        values["postal_place"],
        values["address_line_2"],
        values["co_address"],
    )
    return _new_address(*checked, hash(checked))
