"""Tests for kravia_schedule.config (parse_configuration and KraviaConfig)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kravia_schedule import (
    ConfigurationError,
    Interval,
    KraviaConfig,
    ProductConfig,
    ProductType,
    parse_configuration,
)

# The grouped-invoices document's example, verbatim.
GROUPED_DOC: dict[str, Any] = {
    "configuration": {
        "kravia": {
            "type": "payment_type",
            "invoice_b2b_grouped": {
                "type": "payment_product_type",
                "enabled": True,
                "days_until_due": 14,
                "invoice_schedule": {"interval": "monthly"},
            },
        }
    }
}

# The payment-types document's example: all three types enabled.
ALL_TYPES_KRAVIA: dict[str, Any] = {
    "type": "payment_type",
    "invoice_b2b": {
        "type": "payment_product_type",
        "enabled": True,
        "days_until_due": 14,
        "require_identity_verification": True,
    },
    "invoice_b2b_grouped": {
        "type": "payment_product_type",
        "enabled": True,
        "days_until_due": 14,
        "require_identity_verification": True,
        "invoice_schedule": {"interval": "monthly"},
    },
    "invoice_b2c": {"type": "payment_product_type", "enabled": True, "days_until_due": 14},
}

SESSION_BODY: dict[str, Any] = {
    "url": {
        "return_url": "https://example.com/accept",
        "callback_url": "https://example.com/callback",
        "merchant_terms_url": "https://example.com/terms.html",
    },
    "order": {
        "amount": 50000,
        "currency": "NOK",
        "vat_amount": 10000,
        "items": [
            {
                "amount": 50000,
                "quantity": 1,
                "line_id": "1",
                "description": "Consulting services",
                "vat": 25,
                "id": "item-1",
            }
        ],
        "merchant_reference": "order-123",
    },
    "configuration": {"kravia": ALL_TYPES_KRAVIA},
}

ON = ProductConfig(enabled=True, days_until_due=14, require_identity_verification=True)
OFF = ProductConfig()


def _problems(error: pytest.ExceptionInfo[ConfigurationError]) -> dict[str, str]:
    return {p.path: p.message for p in error.value.problems}


def _kravia(**members: Any) -> dict[str, Any]:
    return {"type": "payment_type", **members}


def _grouped(**fields: Any) -> dict[str, Any]:
    return {"type": "payment_product_type", "enabled": True, **fields}


# -- the seeds' examples -----------------------------------------------------------------


def test_grouped_document_example() -> None:
    config = parse_configuration(GROUPED_DOC)
    assert config.invoice_b2b_grouped == ProductConfig(True, 14, True, Interval.MONTHLY)
    assert config.invoice_b2b == OFF
    assert config.invoice_b2c == OFF
    assert config.invoice_b2b.enabled is False


def test_payment_types_document_example_all_three_types() -> None:
    expected = KraviaConfig(ON, ON, ON)
    assert parse_configuration({"configuration": {"kravia": ALL_TYPES_KRAVIA}}) == expected
    assert parse_configuration(SESSION_BODY) == expected  # the whole session body
    assert parse_configuration({"kravia": ALL_TYPES_KRAVIA}) == expected  # configuration obj
    assert parse_configuration(ALL_TYPES_KRAVIA) == expected  # the kravia member alone


def test_other_payment_types_beside_kravia_are_ignored() -> None:
    configuration = {"kravia": ALL_TYPES_KRAVIA, "vipps": {"type": "payment_type", "x": 1}}
    assert parse_configuration(configuration).invoice_b2c.enabled is True
    assert parse_configuration({"configuration": configuration}).invoice_b2b.enabled is True


def test_product_lookup_by_type() -> None:
    config = parse_configuration(GROUPED_DOC)
    assert config.product(ProductType.B2B_GROUPED).enabled is True
    assert config.product(ProductType.B2B).enabled is False
    assert ProductType.B2B_GROUPED.config_key == "invoice_b2b_grouped"
    assert ProductType.B2C.is_business is False
    assert ProductType.B2B_GROUPED.is_grouped is True


# -- defaults ----------------------------------------------------------------------------


def test_defaults_of_a_bare_member() -> None:
    config = parse_configuration(_kravia(invoice_b2b_grouped={}))
    grouped = config.invoice_b2b_grouped
    assert grouped.enabled is False
    assert grouped.days_until_due == 14
    assert grouped.require_identity_verification is True
    assert grouped.interval is Interval.MONTHLY


def test_missing_types_are_disabled() -> None:
    config = parse_configuration(_kravia(invoice_b2c={"enabled": True}))
    assert config.invoice_b2c.enabled is True
    assert config.invoice_b2b == OFF
    assert config.invoice_b2b_grouped == OFF
    assert parse_configuration({"type": "payment_type"}) == KraviaConfig()


def test_type_markers_are_optional() -> None:
    config = parse_configuration({"kravia": {"invoice_b2b": {"enabled": True}}})
    assert config.invoice_b2b.enabled is True


def test_empty_schedule_defaults_to_monthly() -> None:
    config = parse_configuration(_kravia(invoice_b2b_grouped=_grouped(invoice_schedule={})))
    assert config.invoice_b2b_grouped.interval is Interval.MONTHLY


def test_quarterly_and_other_values() -> None:
    config = parse_configuration(
        _kravia(
            invoice_b2b_grouped=_grouped(
                days_until_due=30,
                require_identity_verification=False,
                invoice_schedule={"interval": "quarterly"},
            ),
            invoice_b2b=_grouped(days_until_due=0, require_identity_verification=False),
            invoice_b2c=_grouped(days_until_due=365, require_identity_verification=True),
        )
    )
    assert config.invoice_b2b_grouped == ProductConfig(True, 30, False, Interval.QUARTERLY)
    assert config.invoice_b2b == ProductConfig(True, 0, False)
    assert config.invoice_b2c == ProductConfig(True, 365, True)


# -- rejections, each with its path --------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "fragment"),
    [
        pytest.param("14", "integer", id="string"),
        pytest.param(14.0, "integer", id="float"),
        pytest.param(True, "integer", id="bool"),
        pytest.param(None, "integer", id="null"),
        pytest.param(-1, "between 0 and 365", id="negative"),
        pytest.param(366, "between 0 and 365", id="366"),
    ],
)
@pytest.mark.parametrize("member", ["invoice_b2b", "invoice_b2b_grouped", "invoice_b2c"])
def test_days_until_due_rejected(days: object, fragment: str, member: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        parse_configuration(
            {"configuration": {"kravia": _kravia(**{member: _grouped(days_until_due=days)})}}
        )
    assert list(_problems(error)) == [f"configuration.kravia.{member}.days_until_due"]
    assert fragment in error.value.problems[0].message
    assert error.value.path == f"configuration.kravia.{member}.days_until_due"


def test_unknown_interval() -> None:
    body = _kravia(invoice_b2b_grouped=_grouped(invoice_schedule={"interval": "weekly"}))
    with pytest.raises(ConfigurationError) as error:
        parse_configuration(body)
    problems = _problems(error)
    assert list(problems) == ["kravia.invoice_b2b_grouped.invoice_schedule.interval"]
    assert "'weekly'" in problems["kravia.invoice_b2b_grouped.invoice_schedule.interval"]
    assert "'monthly'" in problems["kravia.invoice_b2b_grouped.invoice_schedule.interval"]


@pytest.mark.parametrize("interval", ["Monthly", "QUARTERLY", "", None, 1])
def test_interval_is_case_sensitive_and_typed(interval: object) -> None:
    body = _kravia(invoice_b2b_grouped=_grouped(invoice_schedule={"interval": interval}))
    with pytest.raises(ConfigurationError) as error:
        parse_configuration(body)
    assert error.value.path == "kravia.invoice_b2b_grouped.invoice_schedule.interval"


def test_b2c_identity_verification_cannot_be_turned_off() -> None:
    body = _kravia(invoice_b2c=_grouped(require_identity_verification=False))
    with pytest.raises(ConfigurationError) as error:
        parse_configuration(body)
    problems = _problems(error)
    assert list(problems) == ["kravia.invoice_b2c.require_identity_verification"]
    assert "B2C" in problems["kravia.invoice_b2c.require_identity_verification"]


@pytest.mark.parametrize(
    ("body", "path", "expected"),
    [
        pytest.param(
            {"type": "payment_product_type", "invoice_b2b": _grouped()},
            "kravia.type", "'payment_type'", id="top-level",
        ),
        pytest.param(
            _kravia(invoice_b2b={"type": "payment_type", "enabled": True}),
            "kravia.invoice_b2b.type", "'payment_product_type'", id="b2b-member",
        ),
        pytest.param(
            _kravia(invoice_b2b_grouped={"type": "grouped", "enabled": True}),
            "kravia.invoice_b2b_grouped.type", "'payment_product_type'", id="grouped-member",
        ),
    ],
)  # fmt: skip
def test_wrong_type_markers(body: dict[str, Any], path: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        parse_configuration(body)
    problems = _problems(error)
    assert list(problems) == [path]
    assert expected in problems[path]


@pytest.mark.parametrize(
    ("body", "path", "suggestion"),
    [
        pytest.param(
            _kravia(invoice_b2b=_grouped(days_untill_due=30)),
            "kravia.invoice_b2b.days_untill_due", "'days_until_due'", id="days_untill_due",
        ),
        pytest.param(
            _kravia(invoice_b2b_grupped=_grouped()),
            "kravia.invoice_b2b_grupped", "'invoice_b2b_grouped'", id="invoice_b2b_grupped",
        ),
        pytest.param(
            _kravia(invoice_b2b_grouped=_grouped(invoice_schedule={"intervall": "monthly"})),
            "kravia.invoice_b2b_grouped.invoice_schedule.intervall", "'interval'", id="intervall",
        ),
        pytest.param(
            _kravia(invoice_b2c=_grouped(enabeld=True)),
            "kravia.invoice_b2c.enabeld", "'enabled'", id="enabeld",
        ),
    ],
)  # fmt: skip
def test_unknown_keys_with_suggestion(body: dict[str, Any], path: str, suggestion: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        parse_configuration(body)
    problems = _problems(error)
    assert path in problems
    assert "unknown key" in problems[path]
    assert f"did you mean {suggestion}" in problems[path]


@pytest.mark.parametrize("member", ["invoice_b2b", "invoice_b2c"])
def test_invoice_schedule_is_unknown_on_non_grouped_types(member: str) -> None:
    body = _kravia(**{member: _grouped(invoice_schedule={"interval": "monthly"})})
    with pytest.raises(ConfigurationError) as error:
        parse_configuration(body)
    problems = _problems(error)
    assert list(problems) == [f"kravia.{member}.invoice_schedule"]
    assert "unknown key" in problems[f"kravia.{member}.invoice_schedule"]


def test_unknown_key_without_close_match_lists_allowed_keys() -> None:
    with pytest.raises(ConfigurationError) as error:
        parse_configuration(_kravia(invoice_b2b=_grouped(colour="blue")))
    message = _problems(error)["kravia.invoice_b2b.colour"]
    assert "allowed:" in message
    assert "days_until_due" in message


@pytest.mark.parametrize(
    ("body", "path"),
    [
        pytest.param(_kravia(invoice_b2b=_grouped(enabled="true")), "kravia.invoice_b2b.enabled", id="enabled-str"),
        pytest.param(_kravia(invoice_b2b=_grouped(enabled=1)), "kravia.invoice_b2b.enabled", id="enabled-int"),
        pytest.param(
            _kravia(invoice_b2b=_grouped(require_identity_verification="yes")),
            "kravia.invoice_b2b.require_identity_verification", id="verify-str",
        ),
        pytest.param(_kravia(invoice_b2b=[]), "kravia.invoice_b2b", id="member-list"),
        pytest.param(_kravia(invoice_b2b_grouped=_grouped(invoice_schedule="monthly")),
                     "kravia.invoice_b2b_grouped.invoice_schedule", id="schedule-str"),
        pytest.param({"kravia": "on"}, "kravia", id="kravia-str"),
    ],
)  # fmt: skip
def test_wrongly_typed_values(body: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        parse_configuration(body)
    assert path in _problems(error)


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigurationError) as error:
        parse_configuration(["kravia"])  # type: ignore[arg-type]
    assert error.value.path == "$"


def test_no_kravia_configuration_found() -> None:
    with pytest.raises(ConfigurationError) as error:
        parse_configuration({"configuration": {"vipps": {}}})
    assert error.value.path == "kravia"
    with pytest.raises(ConfigurationError) as error:
        parse_configuration({"kravai": ALL_TYPES_KRAVIA})
    assert "did you mean 'kravia'" in str(error.value)


def test_several_problems_are_reported_together() -> None:
    body = {
        "configuration": {
            "kravia": {
                "type": "payment_type",
                "invoice_b2b": {"type": "payment_product_type", "days_until_due": "14"},
                "invoice_b2b_grouped": {
                    "type": "payment_product_type",
                    "enabled": True,
                    "days_until_due": 366,
                    "invoice_schedule": {"interval": "weekly"},
                },
                "invoice_b2c": {"require_identity_verification": False, "days_untill_due": 7},
            }
        }
    }
    with pytest.raises(ConfigurationError) as error:
        parse_configuration(body)
    paths = {p.path for p in error.value.problems}
    assert paths == {
        "configuration.kravia.invoice_b2b.days_until_due",
        "configuration.kravia.invoice_b2b_grouped.days_until_due",
        "configuration.kravia.invoice_b2b_grouped.invoice_schedule.interval",
        "configuration.kravia.invoice_b2c.require_identity_verification",
        "configuration.kravia.invoice_b2c.days_untill_due",
    }
    assert len(error.value.problems) == 5
    text = str(error.value)
    assert text.startswith("invalid Kravia configuration: ")
    for path in paths:
        assert path in text
    assert isinstance(error.value, ValueError)


def test_input_is_not_modified() -> None:
    body = copy.deepcopy(SESSION_BODY)
    parse_configuration(body)
    assert body == SESSION_BODY


# -- KraviaConfig helpers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        KraviaConfig(),
        KraviaConfig(ON, ON, ON),
        KraviaConfig.all_enabled(interval="quarterly", days_until_due=30),
        KraviaConfig(
            ProductConfig(True, 0, False),
            ProductConfig(False, 365, False, Interval.QUARTERLY),
            ProductConfig(True, 7, True),
        ),
    ],
    ids=["default", "all-on", "all-enabled-quarterly", "mixed"],
)
def test_to_dict_round_trips(config: KraviaConfig) -> None:
    as_dict = config.to_dict()
    assert as_dict["type"] == "payment_type"
    assert parse_configuration(as_dict) == config
    assert parse_configuration({"configuration": {"kravia": as_dict}}) == config


def test_to_dict_shape() -> None:
    as_dict = KraviaConfig.all_enabled(interval="quarterly").to_dict()
    assert as_dict == {
        "type": "payment_type",
        "invoice_b2b": {
            "type": "payment_product_type",
            "enabled": True,
            "days_until_due": 14,
            "require_identity_verification": True,
        },
        "invoice_b2b_grouped": {
            "type": "payment_product_type",
            "enabled": True,
            "days_until_due": 14,
            "require_identity_verification": True,
            "invoice_schedule": {"interval": "quarterly"},
        },
        "invoice_b2c": {
            "type": "payment_product_type",
            "enabled": True,
            "days_until_due": 14,
            "require_identity_verification": True,
        },
    }


def test_all_enabled() -> None:
    config = KraviaConfig.all_enabled()
    for product_type in ProductType:
        product = config.product(product_type)
        assert product.enabled is True
        assert product.days_until_due == 14
        assert product.require_identity_verification is True
    assert config.invoice_b2b_grouped.interval is Interval.MONTHLY
    assert config == parse_configuration(ALL_TYPES_KRAVIA)
    quarterly = KraviaConfig.all_enabled(interval=Interval.QUARTERLY, days_until_due=21)
    assert quarterly.invoice_b2b_grouped.interval is Interval.QUARTERLY
    assert {quarterly.product(p).days_until_due for p in ProductType} == {21}


def test_with_overrides() -> None:
    base = parse_configuration(GROUPED_DOC)
    changed = base.with_overrides(interval="quarterly", days_until_due=30)
    assert changed.invoice_b2b_grouped == ProductConfig(True, 30, True, Interval.QUARTERLY)
    assert changed.invoice_b2b == ProductConfig(False, 30)
    assert changed.invoice_b2c == ProductConfig(False, 30)
    assert base.invoice_b2b_grouped.interval is Interval.MONTHLY  # the original is untouched
    assert base.with_overrides() == base
    assert base.with_overrides(days_until_due=0).invoice_b2b_grouped.days_until_due == 0
    only_interval = base.with_overrides(interval=Interval.QUARTERLY)
    assert only_interval.invoice_b2b_grouped.days_until_due == 14
    with pytest.raises(ValueError, match="weekly"):
        base.with_overrides(interval="weekly")


@pytest.mark.parametrize("days", [-1, 366, True, 14.0], ids=repr)
def test_with_overrides_rejects_bad_days(days: object) -> None:
    with pytest.raises(ValueError, match="days_until_due"):
        KraviaConfig().with_overrides(days_until_due=days)  # type: ignore[arg-type]


@pytest.mark.parametrize("days", [-1, 366, 14.0], ids=repr)
def test_all_enabled_rejects_bad_days(days: object) -> None:
    with pytest.raises(ValueError, match="days_until_due"):
        KraviaConfig.all_enabled(days_until_due=days)  # type: ignore[arg-type]


def test_configs_built_directly_are_validated_too() -> None:
    with pytest.raises(ConfigurationError, match="days_until_due"):
        ProductConfig(days_until_due=500)
    with pytest.raises(ConfigurationError, match="interval"):
        ProductConfig(interval="weekly")  # type: ignore[arg-type]
    assert ProductConfig(interval="quarterly").interval is Interval.QUARTERLY  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"invoice_b2c\.require_identity_verification"):
        KraviaConfig(invoice_b2c=ProductConfig(require_identity_verification=False))


def test_misspelled_product_member_without_type_marker_gets_a_suggestion() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_configuration({"invoice_b2b_grupped": {"enabled": True}})
    assert info.value.problems[0].path == "kravia.invoice_b2b_grupped"
    assert "did you mean 'invoice_b2b_grouped'" in info.value.problems[0].message
