"""Tests for kravia_schedule.address (validate_billing_address and required_fields)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any

import pytest
from _records import DROP, changed
from hypothesis import given
from hypothesis import strategies as st

from kravia_schedule import (
    BillingAddress,
    Country,
    InvalidBillingAddress,
    ProductType,
    required_fields,
    validate_billing_address,
)
from kravia_schedule.countries import parse_country
from kravia_schedule.identifiers import validate_org_number
from kravia_schedule.testing import billing_addresses

# The grouped-invoices document's example billing address, verbatim.
SEED_ADDRESS: dict[str, Any] = {
    "first_name": "Ola",
    "last_name": "Nordmann",
    "business_name": "Nordmann AS",
    "organization_number": "123456789",
    "customer_reference": "dept-engineering",
    "email": "ola@nordmann.no",
    "phone_number": "+4799999999",
    "address_line": "Storgata 1",
    "postal_code": "0151",
    "postal_place": "Oslo",
    "country": "NO",
}

B2C_REQUIRED = [
    "first_name", "last_name", "address_line", "postal_code", "country", "phone_number", "email",
]  # fmt: skip
B2B_REQUIRED = [*B2C_REQUIRED, "business_name", "organization_number"]
BUSINESS_TYPES = ["kravia.invoice_b2b", "kravia.invoice_b2b_grouped"]

SE_ADDRESS: dict[str, Any] = {
    "first_name": "Sven",
    "last_name": "Svensson",
    "business_name": "Svensson AB",
    "organization_number": "5566778899",
    "email": "sven@svensson.se",
    "phone_number": "+46 70 123 45 67",
    "address_line": "Drottninggatan 1",
    "postal_code": "111 51",
    "country": "SE",
}
FI_ADDRESS: dict[str, Any] = {
    "first_name": "Matti",
    "last_name": "Meikäläinen",
    "business_name": "Meikäläinen Oy",
    "organization_number": "2331972-7",
    "email": "matti@example.fi",
    "phone_number": "+358401234567",
    "address_line": "Mannerheimintie 1",
    "postal_code": "00100",
    "country": "FI",
}


def _fullwidth(ascii_digits: str) -> str:
    """The same digits in FULLWIDTH DIGIT form (U+FF10..U+FF19); they pass str.isdigit()."""
    return "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in ascii_digits)


def _arabic_indic(ascii_digits: str) -> str:
    """The same digits as ARABIC-INDIC DIGITs (U+0660..U+0669)."""
    return "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in ascii_digits)


def _paths(error: pytest.ExceptionInfo[InvalidBillingAddress]) -> list[str]:
    return [p.path for p in error.value.problems]


# -- the seed's example ------------------------------------------------------------------


@pytest.mark.parametrize("product_type", BUSINESS_TYPES)
def test_seed_address_passes_non_strict(product_type: str) -> None:
    address = validate_billing_address(SEED_ADDRESS, product_type)
    assert isinstance(address, BillingAddress)
    assert address.country is Country.NO
    assert address.organization_number == "123456789"
    assert address.org_number_key == "123456789"
    assert address.business_name == "Nordmann AS"
    assert address.customer_reference == "dept-engineering"
    assert address.postal_place == "Oslo"
    assert address.to_dict() == SEED_ADDRESS


def test_seed_address_fails_strict_on_the_check_digit() -> None:
    # MOD11 by hand: 3*1+2*2+7*3+6*4+5*5+4*6+3*7+2*8 = 138; 138 % 11 = 6; 11-6 = 5 != 9.
    with pytest.raises(InvalidBillingAddress) as error:
        validate_billing_address(SEED_ADDRESS, "kravia.invoice_b2b", strict=True)
    assert _paths(error) == ["organization_number"]
    assert "check digit" in error.value.problems[0].message


@pytest.mark.parametrize("org", ["923609016", "974760673", "923 609 016", "NO923609016MVA"])
def test_valid_norwegian_numbers_pass_strict(org: str) -> None:
    address = validate_billing_address(
        changed(SEED_ADDRESS, organization_number=org), ProductType.B2B, strict=True
    )
    assert address.org_number_key == org.replace(" ", "").removeprefix("NO").removesuffix("MVA")
    assert address.organization_number == org  # the spelling given is kept


# -- required fields ---------------------------------------------------------------------


def test_required_fields_per_product_type() -> None:
    assert list(required_fields("kravia.invoice_b2c")) == B2C_REQUIRED
    assert list(required_fields(ProductType.B2B)) == B2B_REQUIRED
    assert list(required_fields(ProductType.B2B_GROUPED)) == B2B_REQUIRED


@pytest.mark.parametrize("how", ["missing", "empty", "blank", "null"])
@pytest.mark.parametrize("field", B2C_REQUIRED)
def test_b2c_required_field(field: str, how: str) -> None:
    value = {"missing": DROP, "empty": "", "blank": "   ", "null": None}[how]
    with pytest.raises(InvalidBillingAddress) as error:
        validate_billing_address(changed(SEED_ADDRESS, **{field: value}), "kravia.invoice_b2c")
    assert _paths(error) == [field]
    assert "required" in error.value.problems[0].message


@pytest.mark.parametrize("product_type", BUSINESS_TYPES)
@pytest.mark.parametrize("field", B2B_REQUIRED)
def test_b2b_required_field(field: str, product_type: str) -> None:
    with pytest.raises(InvalidBillingAddress) as error:
        validate_billing_address(changed(SEED_ADDRESS, **{field: DROP}), product_type)
    assert _paths(error) == [field]
    assert product_type in error.value.problems[0].message


def test_b2c_business_fields_are_optional() -> None:
    address = validate_billing_address(
        changed(SEED_ADDRESS, business_name=DROP, organization_number=DROP), "kravia.invoice_b2c"
    )
    assert address.business_name is None
    assert address.organization_number is None


@pytest.mark.parametrize("org", ["123456789", "not a number", "12", "556677-8899"])
def test_b2c_ignores_organization_number(org: str) -> None:
    address = validate_billing_address(
        changed(SEED_ADDRESS, organization_number=org), "kravia.invoice_b2c", strict=True
    )
    assert address.organization_number is None
    assert address.org_number_key is None
    assert address.business_name == "Nordmann AS"  # optional, kept when given


def test_optional_fields_are_trimmed_and_empty_means_absent() -> None:
    address = validate_billing_address(
        changed(SEED_ADDRESS, customer_reference="  ", first_name="  Ola ", postal_place=""),
        "kravia.invoice_b2b_grouped",
    )
    assert address.customer_reference is None
    assert address.first_name == "Ola"
    assert address.postal_place is None


# -- country -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [("no", Country.NO), ("No", Country.NO), (" NO ", Country.NO), ("NO", Country.NO)],
)
def test_country_is_normalized(given: str, expected: Country) -> None:
    address = validate_billing_address(changed(SEED_ADDRESS, country=given), "kravia.invoice_b2b")
    assert address.country is expected
    assert address.to_dict()["country"] == "NO"


@pytest.mark.parametrize(
    ("country", "fragment"),
    [
        pytest.param("DK", "not a Kravia market", id="DK"),
        pytest.param("dk", "not a Kravia market", id="dk"),
        pytest.param("US", "not a Kravia market", id="US"),
        pytest.param("NOR", "ISO 3166", id="NOR"),
        pytest.param("Norway", "ISO 3166", id="Norway"),
        pytest.param("N0", "ISO 3166", id="N0-digit"),
        pytest.param("", "required", id="empty"),
    ],
)
def test_bad_country(country: str, fragment: str) -> None:
    with pytest.raises(InvalidBillingAddress) as error:
        validate_billing_address(changed(SEED_ADDRESS, country=country), "kravia.invoice_b2c")
    assert _paths(error) == ["country"]
    assert fragment in error.value.problems[0].message


# -- organization numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country_address", "org", "key"),
    [
        pytest.param(SE_ADDRESS, "556677-8899", "5566778899", id="se-hyphen"),
        pytest.param(SE_ADDRESS, "5566778899", "5566778899", id="se-10"),
        pytest.param(SE_ADDRESS, "165566778899", "5566778899", id="se-12-with-16"),
        pytest.param(SE_ADDRESS, "556036-0793", "5560360793", id="se-saab"),
        pytest.param(FI_ADDRESS, "2331972-7", "2331972-7", id="fi-canonical"),
        pytest.param(FI_ADDRESS, "0112038-9", "0112038-9", id="fi-nokia"),
        pytest.param(FI_ADDRESS, "23319727", "2331972-7", id="fi-no-hyphen"),
        pytest.param(SEED_ADDRESS, "974 760 673", "974760673", id="no-spaced"),
    ],
)
def test_org_number_key(country_address: dict[str, Any], org: str, key: str) -> None:
    for strict in (False, True):
        address = validate_billing_address(
            changed(country_address, organization_number=org), "kravia.invoice_b2b", strict=strict
        )
        assert address.org_number_key == key
        assert address.organization_number == org


def test_fi_format_without_check_digit_in_non_strict_mode() -> None:
    # 1234567-8: weights 7,9,10,5,8,4,2 give 153; 153 % 11 = 10; check 11-10 = 1 != 8.
    org = "1234567-8"
    address = validate_billing_address(
        changed(FI_ADDRESS, organization_number=org), ProductType.B2B
    )
    assert address.org_number_key == "1234567-8"
    with pytest.raises(InvalidBillingAddress) as error:
        validate_billing_address(
            changed(FI_ADDRESS, organization_number=org), ProductType.B2B, strict=True
        )
    assert _paths(error) == ["organization_number"]


@pytest.mark.parametrize(
    ("country_address", "org"),
    [
        pytest.param(SEED_ADDRESS, "12345678", id="no-8-digits"),
        pytest.param(SEED_ADDRESS, "1234567890", id="no-10-digits"),
        pytest.param(SEED_ADDRESS, "12345678A", id="no-letter"),
        pytest.param(SE_ADDRESS, "55667788", id="se-8-digits"),
        pytest.param(SE_ADDRESS, "175566778899", id="se-12-bad-prefix"),
        pytest.param(FI_ADDRESS, "1234567", id="fi-7-digits"),
        pytest.param(FI_ADDRESS, "1234567-89", id="fi-two-check-digits"),
        pytest.param(FI_ADDRESS, "123456789", id="fi-9-digits"),
        pytest.param(SEED_ADDRESS, _fullwidth("923609016"), id="no-fullwidth"),
    ],
)
def test_malformed_org_numbers(country_address: dict[str, Any], org: str) -> None:
    with pytest.raises(InvalidBillingAddress) as error:
        validate_billing_address(
            changed(country_address, organization_number=org), "kravia.invoice_b2b_grouped"
        )
    assert _paths(error) == ["organization_number"]


def test_org_number_format_follows_the_address_country() -> None:
    # A valid Norwegian number in a Swedish address is not a Swedish number.
    with pytest.raises(InvalidBillingAddress) as error:
        validate_billing_address(
            changed(SE_ADDRESS, organization_number="923609016"), "kravia.invoice_b2b"
        )
    assert _paths(error) == ["organization_number"]


# -- postal codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country_address", "postal", "ok"),
    [
        pytest.param(SEED_ADDRESS, "0151", True, id="no-4"),
        pytest.param(SEED_ADDRESS, "9990", True, id="no-9990"),
        pytest.param(SEED_ADDRESS, "151", False, id="no-3"),
        pytest.param(SEED_ADDRESS, "01510", False, id="no-5"),
        pytest.param(SEED_ADDRESS, "01 51", False, id="no-space"),
        pytest.param(SEED_ADDRESS, "NO-0151", False, id="no-prefix"),
        pytest.param(SE_ADDRESS, "111 51", True, id="se-space"),
        pytest.param(SE_ADDRESS, "11151", True, id="se-5"),
        pytest.param(SE_ADDRESS, "1115", False, id="se-4"),
        pytest.param(SE_ADDRESS, "11 151", False, id="se-space-wrong-place"),
        pytest.param(SE_ADDRESS, "111  51", False, id="se-two-spaces"),
        pytest.param(SE_ADDRESS, "SE-111 51", False, id="se-prefix"),
        pytest.param(FI_ADDRESS, "00100", True, id="fi-5"),
        pytest.param(FI_ADDRESS, "001 00", False, id="fi-space"),
        pytest.param(FI_ADDRESS, "0010", False, id="fi-4"),
        pytest.param(FI_ADDRESS, "001000", False, id="fi-6"),
    ],
)
def test_postal_codes(country_address: dict[str, Any], postal: str, ok: bool) -> None:
    record = changed(country_address, postal_code=postal)
    if ok:
        assert validate_billing_address(record, "kravia.invoice_b2b").postal_code == postal
    else:
        with pytest.raises(InvalidBillingAddress) as error:
            validate_billing_address(record, "kravia.invoice_b2b")
        assert _paths(error) == ["postal_code"]
        assert country_address["country"] in error.value.problems[0].message


def test_postal_code_is_trimmed() -> None:
    address = validate_billing_address(
        changed(SEED_ADDRESS, postal_code=" 0151 "), "kravia.invoice_b2c"
    )
    assert address.postal_code == "0151"


@pytest.mark.parametrize(
    ("country_address", "postal"),
    [
        (SEED_ADDRESS, _fullwidth("0151")),
        (FI_ADDRESS, _arabic_indic("00100")),
        (SE_ADDRESS, _fullwidth("111 51")),
    ],
    ids=["no-fullwidth", "fi-arabic-indic", "se-fullwidth"],
)
def test_postal_code_must_be_ascii_digits(country_address: dict[str, Any], postal: str) -> None:
    with pytest.raises(InvalidBillingAddress):
        validate_billing_address(changed(country_address, postal_code=postal), "kravia.invoice_b2c")


# -- e-mail and phone ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("ola@nordmann.no", True),
        ("ola.nordmann+invoices@sub.example.co.uk", True),
        ("ola@nordmann", False),
        ("ola.nordmann.no", False),
        ("ola@@nordmann.no", False),
        ("ola nordmann@x.no", False),
        ("@nordmann.no", False),
        ("ola@nordmann.", False),
    ],
)
def test_email_sanity(email: str, ok: bool) -> None:
    record = changed(SEED_ADDRESS, email=email)
    if ok:
        assert validate_billing_address(record, "kravia.invoice_b2c").email == email
    else:
        with pytest.raises(InvalidBillingAddress) as error:
            validate_billing_address(record, "kravia.invoice_b2c")
        assert _paths(error) == ["email"]


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("+4799999999", True),
        ("99999999", True),
        ("+46 70 123 45 67", True),
        ("+358 (40) 123-4567", True),
        ("call me", False),
        ("+47", False),
        ("123", False),
        ("++4799999999", False),
        ("+47 9999 9999 ext 12", False),
        ("+4799999999" + "9" * 20, False),
    ],
)
def test_phone_sanity(phone: str, ok: bool) -> None:
    record = changed(SEED_ADDRESS, phone_number=phone)
    if ok:
        assert validate_billing_address(record, "kravia.invoice_b2c").phone_number == phone
    else:
        with pytest.raises(InvalidBillingAddress) as error:
            validate_billing_address(record, "kravia.invoice_b2c")
        assert _paths(error) == ["phone_number"]


# -- several problems, wrong types -------------------------------------------------------------


def test_several_problems_are_listed_at_once() -> None:
    record = changed(
        SEED_ADDRESS,
        first_name=DROP,
        business_name="",
        organization_number="12345678",
        postal_code="151",
        email="ola-at-nordmann.no",
        phone_number="ring",
    )
    with pytest.raises(InvalidBillingAddress) as error:
        validate_billing_address(record, "kravia.invoice_b2b")
    assert set(_paths(error)) == {
        "first_name", "business_name", "organization_number", "postal_code", "email",
        "phone_number",
    }  # fmt: skip
    assert len(error.value.problems) == 6
    assert str(error.value).startswith("invalid billing address: ")
    assert isinstance(error.value, ValueError)


def test_bad_country_and_missing_field_together() -> None:
    with pytest.raises(InvalidBillingAddress) as error:
        validate_billing_address(
            changed(SEED_ADDRESS, country="DK", email=DROP), "kravia.invoice_b2c"
        )
    assert set(_paths(error)) == {"country", "email"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("postal_code", 151),
        ("organization_number", 923609016),
        ("first_name", ["Ola"]),
        ("country", 47),
        ("phone_number", 4799999999),
        ("customer_reference", 7),
    ],
)
def test_non_string_field_value(field: str, value: object) -> None:
    with pytest.raises(InvalidBillingAddress) as error:
        validate_billing_address(changed(SEED_ADDRESS, **{field: value}), "kravia.invoice_b2b")
    assert _paths(error) == [field]
    assert "must be a string" in error.value.problems[0].message


def test_address_must_be_a_mapping() -> None:
    with pytest.raises(InvalidBillingAddress) as error:
        validate_billing_address(["Storgata 1"], "kravia.invoice_b2c")  # type: ignore[arg-type]
    assert error.value.path == "billing_address"


def test_unknown_product_type() -> None:
    with pytest.raises(ValueError, match=r"kravia\.invoice_b2x"):
        validate_billing_address(SEED_ADDRESS, "kravia.invoice_b2x")


def test_unknown_fields_are_ignored() -> None:
    address = validate_billing_address(
        changed(SEED_ADDRESS, fax="+4722222222"), "kravia.invoice_b2c"
    )
    assert "fax" not in address.to_dict()


def test_b2c_ignores_organization_number_whatever_its_type() -> None:
    address = dict(SEED_ADDRESS, organization_number=923609016)
    result = validate_billing_address(address, ProductType.B2C)
    assert result.organization_number is None
    assert result.org_number_key is None


_PADDED = st.sampled_from(["", " ", "\t"])
_OPTIONAL_TEXT = st.none() | st.sampled_from(["", "  ", "c/o Hansen", " Etg. 2 ", "Oslo"])


@given(st.sampled_from(list(ProductType)), st.data())
def test_every_field_lands_in_its_own_slot_and_hashes_as_built_by_keyword(product_type, data):
    # The validator builds the address positionally, past the frozen __init__: each value
    # must land in its own field, and the hash must be the one __init__ would give.
    raw = data.draw(billing_addresses(product_type))
    for name in ("co_address", "address_line_2", "postal_place", "customer_reference"):
        value = data.draw(_OPTIONAL_TEXT, label=name)
        if value is not None:
            raw[name] = value
    pad = data.draw(_PADDED, label="pad")
    raw = {name: f"{pad}{value}{pad}" if value else value for name, value in raw.items()}
    country = parse_country(raw["country"])

    def text(name: str) -> str | None:
        return (raw.get(name) or "").strip() or None

    org = text("organization_number") if product_type.is_business else None
    expected = BillingAddress(
        first_name=raw["first_name"].strip(), last_name=raw["last_name"].strip(),
        address_line=raw["address_line"].strip(), postal_code=raw["postal_code"].strip(),
        country=country, phone_number=raw["phone_number"].strip(),
        email=raw["email"].strip(), business_name=text("business_name"),
        organization_number=org,
        org_number_key=validate_org_number(country.value, org) if org else None,
        customer_reference=text("customer_reference"), postal_place=text("postal_place"),
        address_line_2=text("address_line_2"), co_address=text("co_address"),
    )  # fmt: skip
    got = validate_billing_address(raw, product_type)
    assert type(got) is BillingAddress
    assert got == expected
    assert hash(got) == hash(expected)
    assert repr(got) == repr(expected)
    with pytest.raises(FrozenInstanceError):
        got.email = "x"  # type: ignore[misc]


def test_an_address_pickled_in_another_process_hashes_as_one_made_here(tmp_path):
    # Text hashes differ between processes (PYTHONHASHSEED): a worker's pickled address
    # must not bring its own hash along, or equal addresses would miss in sets and dicts.
    import subprocess
    import sys

    dumped = tmp_path / "address.pickle"
    make = (
        "from kravia_schedule import validate_billing_address\n"
        f"address = validate_billing_address({dict(changed(SEED_ADDRESS))!r}, 'kravia.invoice_b2b')\n"
    )
    dump = make + f"import pickle; open({str(dumped)!r}, 'wb').write(pickle.dumps(address))\n"
    load = make + (
        f"import pickle; loaded = pickle.loads(open({str(dumped)!r}, 'rb').read())\n"
        "print(loaded == address, hash(loaded) == hash(address), loaded in {address})\n"
    )
    for seed, code in (("1", dump), ("2", load)):
        env = {"PYTHONHASHSEED": seed, "PATH": ""}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
    assert done.stdout.split() == ["True", "True", "True"]
