"""The Kravia payment configuration (``configuration.kravia`` of a Dintero session).

The keys and values are those of Dintero's ``KraviaConfiguration`` (payments API
definition, ``Dintero/Dintero.Node.SDK`` ``src/generated/payments.d.ts``, with
``SessionPayability`` and ``InvoiceDeliveryMethod``), plus ``invoice_channel``, which
Dintero's Kravia invoice-delivery page uses for the same choice. :func:`parse_configuration`
reads that object wherever it sits (a session, a ``sessions-profile`` body, a payment
profile), applies the documented defaults and refuses anything it does not understand,
naming the JSON path, so that a typo such as ``days_untill_due`` is an error with a
suggestion instead of a silent fall-back to 14 days.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar

from kravia_schedule.dates import DEFAULT_DAYS_UNTIL_DUE, MAX_DAYS_UNTIL_DUE
from kravia_schedule.errors import ConfigurationError, FieldProblem
from kravia_schedule.periods import Interval

__all__ = [
    "B2B_USUAL_MAX_DAYS",
    "InvoiceChannel",
    "InvoiceDeliveryMethod",
    "KraviaConfig",
    "Payability",
    "ProductConfig",
    "ProductType",
    "parse_configuration",
]

#: Longest B2B payment term that needs no express agreement (Directive 2011/7/EU art. 3).
B2B_USUAL_MAX_DAYS = 60


class ProductType(StrEnum):
    """A Kravia payment product type (``payment_product_type`` of a transaction)."""

    B2B = "kravia.invoice_b2b"
    B2B_GROUPED = "kravia.invoice_b2b_grouped"
    B2C = "kravia.invoice_b2c"

    @property
    def config_key(self) -> str:
        """The member name in ``configuration.kravia`` (``invoice_b2b``, …)."""
        return self.value.removeprefix("kravia.")

    @property
    def is_grouped(self) -> bool:
        return self is ProductType.B2B_GROUPED

    @property
    def is_business(self) -> bool:
        return self is not ProductType.B2C


class Payability(StrEnum):
    """Whether a product type is currently available for payment (``SessionPayability``).

    Dintero reports it in a session's configuration. It concerns new payments only: a
    transaction already made is planned whatever its type's payability is now.
    """

    PAYABLE = "payable"
    DISABLED_BY_GATEWAY = "disabled_by_gateway"
    DISABLED_BY_ORDER_AMOUNT = "disabled_by_order_amount"


class InvoiceDeliveryMethod(StrEnum):
    """Who delivers the invoice to the customer (``InvoiceDeliveryMethod``, default
    ``provider``): ``provider``, Dintero (through Kravia); ``merchant``, the merchant,
    from the invoice PDF Kravia makes."""

    PROVIDER = "provider"
    MERCHANT = "merchant"


class InvoiceChannel(StrEnum):
    """The same choice as Dintero's Kravia invoice-delivery page names it
    (``invoice_channel``, default ``kravia``; ``merchant`` for custom distribution)."""

    KRAVIA = "kravia"
    MERCHANT = "merchant"


@dataclass(frozen=True, slots=True)
class ProductConfig:
    """Settings of one product type. ``interval`` only matters for the grouped type.

    ``payability``, ``invoice_delivery_method`` and ``invoice_channel`` are ``None`` when
    the configuration does not give them (Dintero's defaults then apply: delivery by
    Kravia); :attr:`merchant_distributes` is the resolved delivery choice. Neither changes
    an invoice's grouping or dates. The grouped type has no delivery choice.
    """

    enabled: bool = False
    days_until_due: int = DEFAULT_DAYS_UNTIL_DUE
    require_identity_verification: bool = True
    interval: Interval = Interval.MONTHLY
    payability: Payability | None = None
    invoice_delivery_method: InvoiceDeliveryMethod | None = None
    invoice_channel: InvoiceChannel | None = None

    def __post_init__(self) -> None:
        problem = _check_days(self.days_until_due, "days_until_due")
        if problem is not None:
            raise ConfigurationError([problem])
        for name, kind in _ENUM_FIELDS.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                object.__setattr__(self, name, _member(kind, value, name))
        if not isinstance(self.interval, Interval):
            object.__setattr__(self, "interval", _member(Interval, self.interval, "interval"))
        conflict = _delivery_conflict(self.invoice_delivery_method, self.invoice_channel, "")
        if conflict is not None:
            raise ConfigurationError([conflict])

    @property
    def merchant_distributes(self) -> bool:
        """Whether the merchant delivers the invoice (``invoice_delivery_method`` or
        ``invoice_channel`` is ``merchant``) instead of Kravia."""
        return "merchant" in (self.invoice_delivery_method, self.invoice_channel)

    def to_dict(self, product_type: ProductType) -> dict[str, Any]:
        """This member of ``configuration.kravia`` in Dintero's shape; the optional keys
        only when set, so that :func:`parse_configuration` reads back an equal value."""
        member: dict[str, Any] = {"type": "payment_product_type", "enabled": self.enabled}
        if self.payability is not None:
            member["payability"] = self.payability.value
        member["days_until_due"] = self.days_until_due
        member["require_identity_verification"] = self.require_identity_verification
        if self.invoice_delivery_method is not None:
            member["invoice_delivery_method"] = self.invoice_delivery_method.value
        if self.invoice_channel is not None:
            member["invoice_channel"] = self.invoice_channel.value
        if product_type.is_grouped:
            member["invoice_schedule"] = {"interval": self.interval.value}
        return member


@dataclass(frozen=True, slots=True)
class KraviaConfig:
    """The three product types' settings; absent types are disabled."""

    invoice_b2b: ProductConfig = field(default_factory=ProductConfig)
    invoice_b2b_grouped: ProductConfig = field(default_factory=ProductConfig)
    invoice_b2c: ProductConfig = field(default_factory=ProductConfig)

    def __post_init__(self) -> None:
        problems = []
        b2c = self.invoice_b2c
        if not b2c.require_identity_verification and not b2c.merchant_distributes:
            problems.append(FieldProblem("invoice_b2c.require_identity_verification", _B2C_VERIFY))
        grouped = self.invoice_b2b_grouped
        for name in _DELIVERY_KEYS:
            if getattr(grouped, name) is not None:
                problems.append(FieldProblem(f"invoice_b2b_grouped.{name}", _GROUPED_DELIVERY))
        if problems:
            raise ConfigurationError(problems)

    def warnings(self) -> tuple[FieldProblem, ...]:
        """Allowed but unusual settings: B2B terms longer than 60 days need agreement."""
        warnings = []
        for product_type in (ProductType.B2B, ProductType.B2B_GROUPED):
            product = self.product(product_type)
            if product.enabled and product.days_until_due > B2B_USUAL_MAX_DAYS:
                warnings.append(
                    FieldProblem(
                        f"kravia.{product_type.config_key}.days_until_due",
                        f"{product.days_until_due} days exceeds the {B2B_USUAL_MAX_DAYS} days a "
                        "business payment term may run without express agreement (EU Directive "
                        "2011/7/EU art. 3; in Norway forsinkelsesrenteloven); make sure it is agreed",
                    )
                )
        return tuple(warnings)

    def product(self, product_type: ProductType) -> ProductConfig:
        result: ProductConfig = getattr(self, product_type.config_key)
        return result

    @classmethod
    def all_enabled(
        cls,
        *,
        interval: Interval | str = Interval.MONTHLY,
        days_until_due: int = DEFAULT_DAYS_UNTIL_DUE,
    ) -> KraviaConfig:
        """All three types enabled with the documented defaults (the CLI's default)."""
        on = ProductConfig(enabled=True, days_until_due=days_until_due)
        return cls(on, replace(on, interval=_member(Interval, interval, "interval")), on)

    def with_overrides(
        self, *, interval: Interval | str | None = None, days_until_due: int | None = None
    ) -> KraviaConfig:
        """A copy with the grouped interval and/or every type's ``days_until_due`` replaced."""
        b2b, grouped, b2c = self.invoice_b2b, self.invoice_b2b_grouped, self.invoice_b2c
        if days_until_due is not None:  # ProductConfig refuses a bad value
            b2b, grouped, b2c = (
                replace(p, days_until_due=days_until_due) for p in (b2b, grouped, b2c)
            )
        if interval is not None:
            grouped = replace(grouped, interval=_member(Interval, interval, "interval"))
        return KraviaConfig(b2b, grouped, b2c)

    def to_dict(self) -> dict[str, Any]:
        """The configuration in Dintero's JSON shape (``{"type": "payment_type", …}``),
        every key :func:`parse_configuration` reads back to an equal configuration."""
        out: dict[str, Any] = {"type": "payment_type"}
        for product_type in ProductType:
            out[product_type.config_key] = self.product(product_type).to_dict(product_type)
        return out


_E = TypeVar("_E", bound=StrEnum)

#: The members of ``ProductConfig`` whose values are one of an enum's.
_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "payability": Payability,
    "invoice_delivery_method": InvoiceDeliveryMethod,
    "invoice_channel": InvoiceChannel,
}
_DELIVERY_KEYS = ("invoice_delivery_method", "invoice_channel")
# KraviaConfiguration's members: invoice_delivery_method on invoice_b2b and invoice_b2c
# only, invoice_channel (the docs' name) where that is.
_COMMON_KEYS = {"type", "enabled", "payability", "days_until_due", "require_identity_verification"}
_MEMBER_KEYS = {
    ProductType.B2B: _COMMON_KEYS | set(_DELIVERY_KEYS),
    ProductType.B2B_GROUPED: _COMMON_KEYS | {"invoice_schedule"},
    ProductType.B2C: _COMMON_KEYS | set(_DELIVERY_KEYS),
}
_KRAVIA_KEYS = {"type"} | {p.config_key for p in ProductType}
_PRODUCT_TYPES = {p.value for p in ProductType}


def _check_days(value: object, path: str) -> FieldProblem | None:
    if isinstance(value, bool) or not isinstance(value, int):
        shown = f"{value!r} ({type(value).__name__})"
        return FieldProblem(path, f"must be an integer 0–{MAX_DAYS_UNTIL_DUE}, got {shown}")
    if not 0 <= value <= MAX_DAYS_UNTIL_DUE:
        return FieldProblem(path, f"must be between 0 and {MAX_DAYS_UNTIL_DUE}, got {value}")
    return None


_B2C_VERIFY = (
    "may be false on B2C only when the merchant distributes the invoice "
    "(invoice_delivery_method or invoice_channel 'merchant'); otherwise the customer "
    "verifies with BankID"
)
_GROUPED_DELIVERY = (
    "grouped invoices have no delivery choice in Dintero's KraviaConfiguration "
    "(invoice_b2b and invoice_b2c have)"
)


def _member(kind: type[_E], value: object, path: str) -> _E:
    """``value`` as a member of ``kind``, or a ConfigurationError naming ``path`` and the
    allowed values (exactly as written: values are case-sensitive)."""
    for member in kind:
        if isinstance(value, str) and value == member.value:
            return member
    choices = ", ".join(repr(m.value) for m in kind)
    raise ConfigurationError([FieldProblem(path, f"must be one of {choices}, got {value!r}")])


def _delivery_conflict(
    method: InvoiceDeliveryMethod | None, channel: InvoiceChannel | None, prefix: str
) -> FieldProblem | None:
    """A problem when ``invoice_delivery_method`` and ``invoice_channel`` disagree on who
    delivers the invoice: neither can be taken over the other."""
    if method is None or channel is None or (method == "merchant") == (channel == "merchant"):
        return None
    return FieldProblem(
        f"{prefix}invoice_channel",
        f"{channel.value!r} contradicts invoice_delivery_method {method.value!r}: "
        "give one of them, or both naming the same party",
    )


def _unknown_keys(obj: Mapping[str, Any], allowed: set[str], path: str) -> list[FieldProblem]:
    problems = []
    for key in sorted(set(obj) - allowed, key=str):
        close = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
        hint = (
            f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(sorted(allowed))}"
        )
        problems.append(FieldProblem(f"{path}.{key}", f"unknown key{hint}"))
    return problems


class _Reader:
    """Collects every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def mapping(self, value: object, path: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.problems.append(FieldProblem(path, f"must be an object, got {type(value).__name__}"))
        return None

    def marker(self, obj: Mapping[str, Any], expected: str, path: str) -> None:
        if "type" in obj and obj["type"] != expected:
            self.problems.append(
                FieldProblem(f"{path}.type", f"must be {expected!r}, got {obj['type']!r}")
            )

    def boolean(self, obj: Mapping[str, Any], key: str, default: bool, path: str) -> bool:
        value = obj.get(key, default)
        if isinstance(value, bool):
            return value
        self.problems.append(FieldProblem(f"{path}.{key}", f"must be true or false, got {value!r}"))
        return default

    def product(
        self,
        obj: object,
        product_type: ProductType,
        path: str,
        fallback: InvoiceChannel | None = None,
    ) -> ProductConfig:
        """The member at ``path``; ``fallback`` is the checkout-level ``invoice_channel``,
        taken when the member names no delivery itself."""
        member = self.mapping(obj, path)
        if member is None:
            return ProductConfig()
        allowed = _MEMBER_KEYS[product_type]
        misplaced = [k for k in _DELIVERY_KEYS if k in member and k not in allowed]
        self.problems.extend(_unknown_keys(member, allowed | set(misplaced), path))
        self.problems.extend(FieldProblem(f"{path}.{k}", _GROUPED_DELIVERY) for k in misplaced)
        self.marker(member, "payment_product_type", path)
        enabled = self.boolean(member, "enabled", False, path)
        verify = self.boolean(member, "require_identity_verification", True, path)
        days = member.get("days_until_due", DEFAULT_DAYS_UNTIL_DUE)
        problem = _check_days(days, f"{path}.days_until_due")
        if problem:
            self.problems.append(problem)
            days = DEFAULT_DAYS_UNTIL_DUE
        interval = Interval.MONTHLY
        if "invoice_schedule" in member:
            interval = self.schedule(member["invoice_schedule"], f"{path}.invoice_schedule")
        payability = self.choice(member, "payability", Payability, path)
        method = channel = None
        if not misplaced:
            method = self.choice(member, "invoice_delivery_method", InvoiceDeliveryMethod, path)
            channel = self.choice(member, "invoice_channel", InvoiceChannel, path)
        conflict = _delivery_conflict(method, channel, f"{path}.")
        if conflict is not None:
            self.problems.append(conflict)
            method = channel = None
        elif method is None and channel is None:
            channel = fallback
        merchant = "merchant" in (method, channel)
        if product_type is ProductType.B2C and not verify and not merchant:
            self.problems.append(FieldProblem(f"{path}.require_identity_verification", _B2C_VERIFY))
            verify = True
        return ProductConfig(enabled, days, verify, interval, payability, method, channel)

    def choice(self, obj: Mapping[str, Any], key: str, kind: type[_E], path: str) -> _E | None:
        """``obj[key]`` as a member of ``kind``; ``None`` when absent (or wrong, noted)."""
        if key not in obj:
            return None
        try:
            return _member(kind, obj[key], f"{path}.{key}")
        except ConfigurationError as error:
            self.problems.extend(error.problems)
            return None

    def schedule(self, obj: object, path: str) -> Interval:
        schedule = self.mapping(obj, path)
        if schedule is None:
            return Interval.MONTHLY
        self.problems.extend(_unknown_keys(schedule, {"interval"}, path))
        interval = self.choice(schedule, "interval", Interval, path)
        return Interval.MONTHLY if interval is None else interval


def _locate_kravia(obj: Mapping[str, Any]) -> tuple[object, str, Mapping[str, Any] | None]:
    """Find the ``kravia`` member in a session body, a ``configuration`` object or itself,
    with the ``configuration`` object that holds it (``None`` for a bare ``kravia``)."""
    if "configuration" in obj and "kravia" not in obj:
        inner = obj["configuration"]
        if isinstance(inner, Mapping) and "kravia" in inner:
            return inner["kravia"], "configuration.kravia", inner
    if "kravia" in obj:
        return obj["kravia"], "kravia", obj
    if obj.get("type") == "payment_type" or set(obj) & {p.config_key for p in ProductType}:
        return obj, "kravia", None
    product_keys = [p.config_key for p in ProductType]
    if any(difflib.get_close_matches(str(k), product_keys, n=1, cutoff=0.8) for k in obj):
        return obj, "kravia", None  # a misspelled product member: report it as an unknown key
    close = difflib.get_close_matches("kravia", [str(k) for k in obj], n=1, cutoff=0.6)
    hint = f"; found {close[0]!r}, did you mean 'kravia'?" if close else ""
    raise ConfigurationError([FieldProblem("kravia", f"no Kravia configuration found{hint}")])


def _channel_defaults(
    container: Mapping[str, Any] | None, path: str, reader: _Reader
) -> dict[ProductType, InvoiceChannel]:
    """The checkout-level ``invoice_channel`` of each Kravia type, from the
    ``payment_options[].details`` of the ``configuration`` object at ``path``: Dintero's
    invoice-delivery page makes it the fallback of the type's own setting."""
    if container is None or "payment_options" not in container:
        return {}
    options = container["payment_options"]
    where = f"{path}.payment_options" if path else "payment_options"
    if not isinstance(options, list):
        reader.problems.append(FieldProblem(where, "must be a list of payment options"))
        return {}
    found: dict[ProductType, InvoiceChannel] = {}
    for index, option in enumerate(options):
        kind = option.get("type") if isinstance(option, Mapping) else None
        if not isinstance(kind, str) or kind not in _PRODUCT_TYPES:
            continue  # another payment type's option
        details = option.get("details")
        if not isinstance(details, Mapping) or "invoice_channel" not in details:
            continue
        product_type = ProductType(kind)
        at = f"{where}[{index}].details"
        if product_type.is_grouped:
            reader.problems.append(FieldProblem(f"{at}.invoice_channel", _GROUPED_DELIVERY))
            continue
        channel = reader.choice(details, "invoice_channel", InvoiceChannel, at)
        if channel is None:
            continue
        if found.get(product_type, channel) != channel:  # no order of precedence among them
            reader.problems.append(
                FieldProblem(
                    f"{at}.invoice_channel",
                    f"{channel.value!r} contradicts an earlier {kind} option's "
                    f"{found[product_type].value!r}",
                )
            )
        found[product_type] = channel
    return found


def parse_configuration(obj: Mapping[str, Any]) -> KraviaConfig:
    """Parse a Kravia configuration: a ``configuration`` object (or its ``kravia``
    member), or a document holding one: a session, a ``sessions-profile`` body, a payment
    profile.

    Other payment types beside ``kravia`` in a ``configuration`` object are ignored. A
    type that sets neither ``invoice_delivery_method`` nor ``invoice_channel`` takes the
    ``invoice_channel`` of its entry in the ``configuration``'s ``payment_options`` (the
    checkout-level default), if any. Raises :class:`ConfigurationError` listing every
    problem with its JSON path.
    """
    if not isinstance(obj, Mapping):
        raise ConfigurationError(
            [FieldProblem("$", f"must be an object, got {type(obj).__name__}")]
        )
    raw, path, container = _locate_kravia(obj)
    reader = _Reader()
    kravia = reader.mapping(raw, path)
    if kravia is None:
        raise ConfigurationError(reader.problems)
    reader.problems.extend(_unknown_keys(kravia, _KRAVIA_KEYS, path))
    reader.marker(kravia, "payment_type", path)
    defaults = _channel_defaults(container, path.removesuffix("kravia").rstrip("."), reader)
    products = {
        p: reader.product(kravia[p.config_key], p, f"{path}.{p.config_key}", defaults.get(p))
        for p in ProductType
        if p.config_key in kravia
    }
    if reader.problems:
        raise ConfigurationError(reader.problems)
    default = ProductConfig()
    return KraviaConfig(
        products.get(ProductType.B2B, default),
        products.get(ProductType.B2B_GROUPED, default),
        products.get(ProductType.B2C, default),
    )
