"""Dintero's whole ``KraviaConfiguration``: payability, invoice delivery (the definition's
``invoice_delivery_method``, the docs' ``invoice_channel``), B2C identity verification,
and the documents it comes in (a session, a ``sessions-profile`` body, a payment
profile: tests/fixtures/config/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kravia_schedule import (
    ConfigurationError,
    Interval,
    InvoiceChannel,
    InvoiceDeliveryMethod,
    KraviaConfig,
    Payability,
    ProductConfig,
    ProductType,
    parse_configuration,
)
from kravia_schedule.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "config"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def problems(info: pytest.ExceptionInfo[ConfigurationError]) -> dict[str, str]:
    return {p.path: p.message for p in info.value.problems}


def kravia(**members: Any) -> dict[str, Any]:
    return {"configuration": {"kravia": {"type": "payment_type", **members}}}


def member(**fields: Any) -> dict[str, Any]:
    return {"type": "payment_product_type", "enabled": True, **fields}


# -- the documents it comes in -------------------------------------------------------------


def test_a_session_as_get_sessions_returns_it() -> None:
    config = parse_configuration(load("session_get.json"))
    assert config.invoice_b2b == ProductConfig(
        True, 14, True, payability=Payability.PAYABLE, invoice_channel=InvoiceChannel.MERCHANT
    )
    assert config.invoice_b2b_grouped == ProductConfig(
        True, 30, True, Interval.QUARTERLY, payability=Payability.DISABLED_BY_GATEWAY
    )
    assert config.invoice_b2c == ProductConfig(
        True,
        10,
        False,
        payability=Payability.DISABLED_BY_ORDER_AMOUNT,
        invoice_delivery_method=InvoiceDeliveryMethod.MERCHANT,
    )
    assert config.invoice_b2b.merchant_distributes
    assert config.invoice_b2c.merchant_distributes
    assert not config.invoice_b2b_grouped.merchant_distributes


def test_a_sessions_profile_body() -> None:
    config = parse_configuration(load("sessions_profile_request.json"))
    assert config.invoice_b2b == ProductConfig(True, 14, invoice_channel=InvoiceChannel.MERCHANT)
    assert config.invoice_b2b_grouped == config.invoice_b2c == ProductConfig()


def test_a_payment_profile() -> None:
    config = parse_configuration(load("payment_profile.json"))
    assert config.invoice_b2b == ProductConfig(
        True, 20, False, invoice_delivery_method=InvoiceDeliveryMethod.PROVIDER
    )
    assert not config.invoice_b2b.merchant_distributes
    assert config.invoice_b2b_grouped == ProductConfig(True, 30, False, Interval.QUARTERLY)
    # B2C names no delivery itself: the profile's payment_options give the merchant's
    # channel, under which identity verification may be off.
    assert config.invoice_b2c == ProductConfig(
        True, 14, False, invoice_channel=InvoiceChannel.MERCHANT
    )


@pytest.mark.parametrize(
    "name", ["session_get.json", "sessions_profile_request.json", "payment_profile.json"]
)
def test_each_document_round_trips_through_to_dict(name: str) -> None:
    config = parse_configuration(load(name))
    assert parse_configuration(config.to_dict()) == config
    assert parse_configuration({"kravia": config.to_dict()}) == config


def test_the_other_payment_types_of_a_document_are_ignored() -> None:
    body = load("payment_profile.json")
    body["configuration"]["dintero_psp"]["creditcard"]["no_such_key"] = 1
    body["configuration"]["vipps"] = {"type": "payment_type", "enabled": "yes"}
    assert parse_configuration(body) == parse_configuration(load("payment_profile.json"))


def test_a_document_without_kravia_says_so() -> None:
    body = load("payment_profile.json")
    del body["configuration"]["kravia"]
    with pytest.raises(ConfigurationError, match="no Kravia configuration found"):
        parse_configuration(body)


# -- payability ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [p.value for p in Payability])
def test_every_payability_value(value: str) -> None:
    config = parse_configuration(kravia(invoice_b2b_grouped=member(payability=value)))
    assert config.invoice_b2b_grouped.payability is Payability(value)
    assert config.to_dict()["invoice_b2b_grouped"]["payability"] == value


@pytest.mark.parametrize("value", ["PAYABLE", "disabled", "", None, True, 1])
def test_a_wrong_payability_names_its_path_and_the_values(value: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_configuration(kravia(invoice_b2c=member(payability=value)))
    assert problems(info) == {
        "configuration.kravia.invoice_b2c.payability": "must be one of 'payable', "
        f"'disabled_by_gateway', 'disabled_by_order_amount', got {value!r}"
    }


def test_payability_absent_is_none_and_not_shown() -> None:
    config = parse_configuration(kravia(invoice_b2b=member()))
    assert config.invoice_b2b.payability is None
    assert "payability" not in config.to_dict()["invoice_b2b"]


# -- who delivers the invoice --------------------------------------------------------------


@pytest.mark.parametrize("product", ["invoice_b2b", "invoice_b2c"])
@pytest.mark.parametrize(
    ("fields", "merchant"),
    [
        ({}, False),
        ({"invoice_delivery_method": "provider"}, False),
        ({"invoice_delivery_method": "merchant"}, True),
        ({"invoice_channel": "kravia"}, False),
        ({"invoice_channel": "merchant"}, True),
        ({"invoice_delivery_method": "merchant", "invoice_channel": "merchant"}, True),
        ({"invoice_delivery_method": "provider", "invoice_channel": "kravia"}, False),
    ],
)
def test_delivery_by_the_merchant(product: str, fields: dict[str, str], merchant: bool) -> None:
    config = parse_configuration(kravia(**{product: member(**fields)}))
    chosen = config.product(ProductType(f"kravia.{product}"))
    assert chosen.merchant_distributes is merchant
    shown = config.to_dict()[product]
    assert {k: shown[k] for k in fields} == fields
    assert not {"invoice_delivery_method", "invoice_channel"} - set(fields) & set(shown)


@pytest.mark.parametrize(("method", "channel"), [("provider", "merchant"), ("merchant", "kravia")])
def test_contradicting_delivery_keys_are_refused(method: str, channel: str) -> None:
    body = kravia(invoice_b2b=member(invoice_delivery_method=method, invoice_channel=channel))
    with pytest.raises(ConfigurationError) as info:
        parse_configuration(body)
    assert problems(info) == {
        "configuration.kravia.invoice_b2b.invoice_channel": f"{channel!r} contradicts "
        f"invoice_delivery_method {method!r}: give one of them, or both naming the same party"
    }


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("invoice_delivery_method", "Merchant", "'provider', 'merchant'"),
        ("invoice_delivery_method", "kravia", "'provider', 'merchant'"),
        ("invoice_channel", "provider", "'kravia', 'merchant'"),
        ("invoice_channel", ["merchant"], "'kravia', 'merchant'"),
    ],
)
def test_a_wrong_delivery_value_names_its_path_and_the_values(
    key: str, value: object, allowed: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_configuration(kravia(invoice_b2b=member(**{key: value})))
    assert problems(info) == {
        f"configuration.kravia.invoice_b2b.{key}": f"must be one of {allowed}, got {value!r}"
    }


@pytest.mark.parametrize("key", ["invoice_delivery_method", "invoice_channel"])
def test_grouped_invoices_have_no_delivery_choice(key: str) -> None:
    body = kravia(invoice_b2b_grouped=member(**{key: "merchant"}))
    with pytest.raises(ConfigurationError) as info:
        parse_configuration(body)
    [(path, message)] = problems(info).items()
    assert path == f"configuration.kravia.invoice_b2b_grouped.{key}"
    assert message.startswith("grouped invoices have no delivery choice")


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("payabilty", "payability"),
        ("invoice_chanel", "invoice_channel"),
        ("invoice_delivery_methods", "invoice_delivery_method"),
    ],
)
def test_a_typo_of_a_new_key_gets_the_closest_key(typo: str, suggestion: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_configuration(kravia(invoice_b2b=member(**{typo: "merchant"})))
    assert problems(info) == {
        f"configuration.kravia.invoice_b2b.{typo}": f"unknown key; did you mean {suggestion!r}?"
    }


# -- the checkout-level default: payment_options[].details.invoice_channel -----------------------


def with_options(*options: Any, **members: Any) -> dict[str, Any]:
    body = kravia(**members)
    body["configuration"]["payment_options"] = list(options)
    return body


def option(kind: str, channel: object) -> dict[str, Any]:
    return {"type": kind, "details": {"invoice_channel": channel}}


def test_the_payment_option_is_the_fallback_of_the_types_own_setting() -> None:
    body = with_options(
        {"type": "dintero_psp.creditcard", "details": {"invoice_channel": "anything"}},
        "not an option",
        {"type": ["kravia.invoice_b2b"]},
        {"type": "kravia.invoice_b2b"},
        option("kravia.invoice_b2b", "merchant"),
        option("kravia.invoice_b2c", "merchant"),
        invoice_b2b=member(),
        invoice_b2c=member(invoice_delivery_method="provider"),
    )
    config = parse_configuration(body)
    assert config.invoice_b2b.invoice_channel is InvoiceChannel.MERCHANT
    # The type's own setting comes first.
    assert config.invoice_b2c.invoice_channel is None
    assert not config.invoice_b2c.merchant_distributes
    own = with_options(
        option("kravia.invoice_b2b", "merchant"), invoice_b2b=member(invoice_channel="kravia")
    )
    assert parse_configuration(own).invoice_b2b.invoice_channel is InvoiceChannel.KRAVIA
    # An absent member is a disabled type, whatever its payment option says.
    absent = with_options(option("kravia.invoice_b2c", "merchant"), invoice_b2b=member())
    assert parse_configuration(absent).invoice_b2c == ProductConfig()


def test_a_bare_configuration_object_has_its_payment_options_too() -> None:
    body = {
        "kravia": {"invoice_b2b": member()},
        "payment_options": [option("kravia.invoice_b2b", "merchant")],
    }
    assert parse_configuration(body).invoice_b2b.merchant_distributes
    body["payment_options"] = [option("kravia.invoice_b2b", "Merchant")]
    with pytest.raises(ConfigurationError) as info:
        parse_configuration(body)
    assert problems(info) == {
        "payment_options[0].details.invoice_channel": "must be one of 'kravia', 'merchant', "
        "got 'Merchant'"
    }


@pytest.mark.parametrize(
    ("options", "path", "fragment"),
    [
        ({"type": "kravia.invoice_b2b"}, "configuration.payment_options",
         "must be a list of payment options"),
        ([option("kravia.invoice_b2b", 1)],
         "configuration.payment_options[0].details.invoice_channel", "must be one of 'kravia'"),
        ([option("kravia.invoice_b2b_grouped", "merchant")],
         "configuration.payment_options[0].details.invoice_channel",
         "grouped invoices have no delivery choice"),
        ([option("kravia.invoice_b2b", "merchant"), option("kravia.invoice_b2b", "merchant"),
          option("kravia.invoice_b2b", "kravia")],
         "configuration.payment_options[2].details.invoice_channel",
         "'kravia' contradicts an earlier kravia.invoice_b2b option's 'merchant'"),
    ],
)  # fmt: skip
def test_a_wrong_payment_option_names_its_path(options: Any, path: str, fragment: str) -> None:
    body = kravia(invoice_b2b=member())
    body["configuration"]["payment_options"] = options
    with pytest.raises(ConfigurationError) as info:
        parse_configuration(body)
    [(found, message)] = problems(info).items()
    assert found == path
    assert fragment in message


# -- identity verification -------------------------------------------------------------------


@pytest.mark.parametrize(
    "delivery", [{"invoice_delivery_method": "merchant"}, {"invoice_channel": "merchant"}]
)
def test_b2c_without_verification_when_the_merchant_distributes(delivery: dict[str, str]) -> None:
    config = parse_configuration(
        kravia(invoice_b2c=member(require_identity_verification=False, **delivery))
    )
    assert config.invoice_b2c.require_identity_verification is False
    assert config.to_dict()["invoice_b2c"]["require_identity_verification"] is False


@pytest.mark.parametrize(
    "delivery", [{}, {"invoice_delivery_method": "provider"}, {"invoice_channel": "kravia"}]
)
def test_b2c_without_verification_is_refused_when_kravia_distributes(
    delivery: dict[str, str],
) -> None:
    body = kravia(invoice_b2c=member(require_identity_verification=False, **delivery))
    with pytest.raises(ConfigurationError) as info:
        parse_configuration(body)
    [(path, message)] = problems(info).items()
    assert path == "configuration.kravia.invoice_b2c.require_identity_verification"
    assert "only when the merchant distributes the invoice" in message


@pytest.mark.parametrize("product", ["invoice_b2b", "invoice_b2b_grouped"])
def test_business_types_may_skip_verification_whoever_delivers(product: str) -> None:
    config = parse_configuration(kravia(**{product: member(require_identity_verification=False)}))
    assert config.to_dict()[product]["require_identity_verification"] is False


# -- built directly ----------------------------------------------------------------------------


def test_product_config_reads_the_values_as_strings_and_refuses_others() -> None:
    product = ProductConfig(
        True,
        payability="payable",  # type: ignore[arg-type]
        invoice_delivery_method="merchant",  # type: ignore[arg-type]
        invoice_channel="merchant",  # type: ignore[arg-type]
    )
    assert product.payability is Payability.PAYABLE
    assert product.invoice_delivery_method is InvoiceDeliveryMethod.MERCHANT
    assert product.invoice_channel is InvoiceChannel.MERCHANT
    with pytest.raises(ConfigurationError, match=r"payability: must be one of 'payable'"):
        ProductConfig(payability="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"invoice_channel: 'kravia' contradicts"):
        ProductConfig(
            invoice_delivery_method=InvoiceDeliveryMethod.MERCHANT,
            invoice_channel=InvoiceChannel.KRAVIA,
        )


def test_kravia_config_built_directly_keeps_the_rules() -> None:
    with pytest.raises(ConfigurationError) as info:
        KraviaConfig(
            invoice_b2b_grouped=ProductConfig(invoice_channel=InvoiceChannel.MERCHANT),
            invoice_b2c=ProductConfig(require_identity_verification=False),
        )
    assert set(problems(info)) == {
        "invoice_b2b_grouped.invoice_channel",
        "invoice_b2c.require_identity_verification",
    }
    allowed = KraviaConfig(
        invoice_b2c=ProductConfig(
            require_identity_verification=False,
            invoice_delivery_method=InvoiceDeliveryMethod.MERCHANT,
        )
    )
    assert allowed.invoice_b2c.merchant_distributes


def _optional(kind: Any) -> st.SearchStrategy[Any]:
    return st.none() | st.sampled_from(list(kind))


@st.composite
def _products(draw: st.DrawFn, product_type: ProductType) -> ProductConfig:
    method = channel = None
    if not product_type.is_grouped:
        method = draw(_optional(InvoiceDeliveryMethod))
        channel = draw(_optional(InvoiceChannel))
        if method is not None and channel is not None:
            channel = InvoiceChannel.MERCHANT if method == "merchant" else InvoiceChannel.KRAVIA
    merchant = "merchant" in (method, channel)
    verify = draw(st.booleans()) if product_type is not ProductType.B2C or merchant else True
    return ProductConfig(
        draw(st.booleans()),
        draw(st.integers(0, 365)),
        verify,
        draw(st.sampled_from(list(Interval))) if product_type.is_grouped else Interval.MONTHLY,
        draw(_optional(Payability)),
        method,
        channel,
    )


@given(_products(ProductType.B2B), _products(ProductType.B2B_GROUPED), _products(ProductType.B2C))
def test_to_dict_round_trips_every_valid_configuration(
    b2b: ProductConfig, grouped: ProductConfig, b2c: ProductConfig
) -> None:
    config = KraviaConfig(b2b, grouped, b2c)
    shown = json.loads(json.dumps(config.to_dict()))
    assert parse_configuration(shown) == config
    assert parse_configuration({"configuration": {"kravia": shown}}) == config


# -- through the command line ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["session_get.json", "sessions_profile_request.json", "payment_profile.json"]
)
def test_check_config_reads_each_document(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(FIXTURES / name)]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out.split("Effective configuration:\n", 1)[1])
    assert parse_configuration(shown) == parse_configuration(load(name))


def test_check_config_names_a_wrong_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = load("session_get.json")
    body["configuration"]["kravia"]["invoice_b2c"]["invoice_delivery_method"] = "shop"
    path = tmp_path / "session.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        "configuration.kravia.invoice_b2c.invoice_delivery_method: must be one of 'provider', "
        "'merchant', got 'shop'" in err
    )
    # Without merchant delivery the B2C member's verification is refused too.
    assert "configuration.kravia.invoice_b2c.require_identity_verification" in err


@pytest.mark.parametrize(
    "name", ["session_get.json", "sessions_profile_request.json", "payment_profile.json"]
)
def test_plan_takes_each_document_as_its_config(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    purchases = Path(__file__).parent.parent / "examples" / "purchases.jsonl"
    status = main(["plan", str(purchases), "--config", str(FIXTURES / name), "--format", "json"])
    assert status == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["computed_with"]["config"] == parse_configuration(load(name)).to_dict()


@pytest.mark.parametrize(
    "name", ["session.json", "sessions_profile_body.json", "payment_profile.json"]
)
def test_the_dintero_fixtures_documents_parse_too(name: str) -> None:
    """tests/fixtures/dintero/ holds the same kinds of document (as plan's input); each
    gives every type's payability as written."""
    body = json.loads((FIXTURES.parent / "dintero" / name).read_text(encoding="utf-8"))
    config = parse_configuration(body)
    kravia = body["configuration"]["kravia"]
    for product_type in ProductType:
        given = kravia[product_type.config_key].get("payability")
        assert config.product(product_type).payability == given
