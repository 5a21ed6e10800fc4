"""Tests for kravia_schedule.identifiers (NO, SE and FI organization numbers)."""

from __future__ import annotations

import doctest
from collections.abc import Callable
from datetime import date
from types import ModuleType

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.fi import alv as stdnum_fi_alv
from stdnum.fi import ytunnus as stdnum_fi_ytunnus
from stdnum.no import orgnr as stdnum_no_orgnr
from stdnum.se import orgnr as stdnum_se_orgnr

from kravia_schedule import identifiers
from kravia_schedule.errors import InvalidIdentifier
from kravia_schedule.identifiers import (
    compact_org_number,
    fi_ytunnus,
    format_org_number,
    is_valid_org_number,
    no_orgnr,
    se_orgnr,
    validate_org_number,
)

# Published numbers of real organizations; each passes its check digit.
VALID = {
    "NO": ["923609016", "974760673", "985399077"],  # Equinor, Brønnøysundregistrene, ...
    "SE": ["5560360793", "5565475489", "2021005489", "5566778899"],  # Saab, ...
    "FI": ["0112038-9", "2331972-7", "0737546-2", "1572860-0"],  # Nokia, ...
}
SCHEMES: dict[str, ModuleType] = {"NO": no_orgnr, "SE": se_orgnr, "FI": fi_ytunnus}
BODY_LENGTH = {"NO": 8, "SE": 9, "FI": 7}
ALL_VALID = [(c, n) for c, numbers in VALID.items() for n in numbers]


def _digits(ascii_digits: str, zero: int) -> str:
    """Spell ``ascii_digits`` with another script's digits (zero = code point of its 0)."""
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in ascii_digits)


ARABIC_INDIC = 0x0660  # "\u0661\u0662..." look like digits and pass str.isdigit()
FULLWIDTH = 0xFF10


def _luhn_ok(number: str) -> bool:
    """Independent textbook Luhn, to cross-check se_orgnr."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d // 10 + d % 10
    return total % 10 == 0


# --- known examples -----------------------------------------------------------------


@pytest.mark.parametrize("module", [identifiers, no_orgnr, se_orgnr, fi_ytunnus])
def test_docstring_examples(module: ModuleType) -> None:
    # The examples show refusals too, with the exact message.
    result = doctest.testmod(module)
    assert result.attempted >= 2
    assert result.failed == 0


@pytest.mark.parametrize(("country", "number"), ALL_VALID)
@pytest.mark.parametrize("strict", [False, True])
def test_known_valid_numbers(country: str, number: str, strict: bool) -> None:
    module = SCHEMES[country]
    assert module.validate(number, strict=strict) == number
    assert module.is_valid(number, strict=strict)


@pytest.mark.parametrize("number", VALID["SE"])
def test_se_examples_agree_with_independent_luhn(number: str) -> None:
    assert _luhn_ok(number)


def test_format_only_mode_accepts_made_up_number() -> None:
    assert no_orgnr.validate("123456789") == "123456789"
    assert no_orgnr.is_valid("123456789")
    assert not no_orgnr.is_valid("123456789", strict=True)
    with pytest.raises(InvalidIdentifier, match="MOD11"):
        no_orgnr.validate("123456789", strict=True)


@pytest.mark.parametrize(
    ("module", "value", "expected"),
    [
        (no_orgnr, "923609016", "923 609 016"),
        (no_orgnr, "NO 923 609 016 MVA", "923 609 016"),
        (se_orgnr, "5560360793", "556036-0793"),
        (se_orgnr, "165560360793", "556036-0793"),
        (fi_ytunnus, "01120389", "0112038-9"),
        (fi_ytunnus, "FI01120389", "0112038-9"),
    ],
)
def test_format(module: ModuleType, value: str, expected: str) -> None:
    assert module.format(value) == expected


# --- Norway -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["NO923609016MVA", "no923609016mva", "NO 923 609 016 MVA", "923.609.016", " 923-609-016 "],
)
def test_no_decorated_forms(value: str) -> None:
    assert no_orgnr.compact(value) == "923609016"
    assert no_orgnr.validate(value, strict=True) == "923609016"


def test_no_wrong_length_message() -> None:
    with pytest.raises(InvalidIdentifier, match="must have 9 digits, got 8"):
        no_orgnr.validate("92360901")
    with pytest.raises(InvalidIdentifier, match="got 10"):
        no_orgnr.validate("9236090160")


def test_no_check_digit_ten_has_no_number() -> None:
    with pytest.raises(InvalidIdentifier, match="MOD11 gives 10"):
        no_orgnr.calc_check_digit("10000013")
    assert not any(no_orgnr.is_valid(f"10000013{d}", strict=True) for d in "0123456789")


# --- Sweden -------------------------------------------------------------------------


def test_se_equivalent_forms() -> None:
    forms = ["556677-8899", "5566778899", "165566778899", "SE556677889901", "se 5566778899 01"]
    assert {se_orgnr.compact(f) for f in forms} == {"5566778899"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("16556036-0793", "5560360793"),  # 12-digit organisationsnummer
        ("19811228-9874", "8112289874"),  # sole trader, personnummer with century
        ("200101011234", "0101011234"),
        ("811228+9874", "8112289874"),  # "+" separator: aged 100 or more
    ],
)
def test_se_long_forms(value: str, expected: str) -> None:
    assert se_orgnr.validate(value) == expected


def test_se_personnummer_is_luhn_checked() -> None:
    assert se_orgnr.validate("198112289874", strict=True) == "8112289874"
    assert not se_orgnr.is_valid("198112289875", strict=True)


def test_se_invalid_twelve_digit_prefix() -> None:
    with pytest.raises(InvalidIdentifier, match="start with 16, 19 or 20"):
        se_orgnr.validate("175566778899")


@pytest.mark.parametrize(
    "value", ["556.036.0793", "SE 556.036.079.301", "SE.556036.0793.01", "811228.9874"]
)
def test_se_dots_are_separators(value: str) -> None:
    assert se_orgnr.validate(value, strict=True) in ("5560360793", "8112289874")


@pytest.mark.parametrize("value", ["556677889", "55667788990", "SE5566778899"])
def test_se_wrong_length_or_shape(value: str) -> None:
    assert not se_orgnr.is_valid(value)


def test_se_wrong_length_message() -> None:
    with pytest.raises(InvalidIdentifier, match="must have 10 or 12 digits, got 9"):
        se_orgnr.validate("556677889")


def test_se_luhn_failure() -> None:
    assert se_orgnr.is_valid("5560360794")
    with pytest.raises(InvalidIdentifier, match="Luhn"):
        se_orgnr.validate("5560360794", strict=True)


# --- Finland ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("112038-9", "0112038-9"),  # 6-digit body is zero-padded
        ("FI01120389", "0112038-9"),  # VAT form
        ("fi 0112038-9", "0112038-9"),
        ("01120389", "0112038-9"),
        (" 2331972-7 ", "2331972-7"),
    ],
)
def test_fi_accepted_forms(value: str, expected: str) -> None:
    assert fi_ytunnus.compact(value) == expected
    assert fi_ytunnus.validate(value, strict=True) == expected


@pytest.mark.parametrize("value", ["0112038", "01120389-", "011203-89", "12345-6", "0112038-9-1"])
def test_fi_malformed(value: str) -> None:
    with pytest.raises(InvalidIdentifier, match="must look like 1234567-8"):
        fi_ytunnus.validate(value)


@pytest.mark.parametrize("value", ["011203-89", "0-1120389", "0112-038-9"])
def test_fi_misplaced_hyphen_is_named(value: str) -> None:
    with pytest.raises(InvalidIdentifier, match=r"\(a hyphen only before the check digit\)"):
        fi_ytunnus.validate(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("FI-01120389", "0112038-9"),  # the VAT form with a separator after the prefix
        ("FI- 0112038-9", "0112038-9"),
        ("fi-112038-9", "0112038-9"),
        ("FI-", "FI-"),  # nothing after the prefix: left as it is
        ("FI--01120389", "FI--01120389"),
    ],
)
def test_fi_hyphen_after_prefix(value: str, expected: str) -> None:
    assert fi_ytunnus.compact(value) == expected
    assert fi_ytunnus.is_valid(value, strict=True) == (expected == "0112038-9")


def test_fi_remainder_one_has_no_number() -> None:
    with pytest.raises(InvalidIdentifier, match="remainder 1"):
        fi_ytunnus.calc_check_digit("1000008")
    assert not any(fi_ytunnus.is_valid(f"1000008-{d}", strict=True) for d in "0123456789")


# --- rejected input, all schemes ----------------------------------------------------

BAD_INPUT = [
    ("NO", "92360901A"),
    ("NO", _digits("123456789", ARABIC_INDIC)),
    ("NO", _digits("923609016", FULLWIDTH)),
    ("NO", ""),
    ("SE", "556036079X"),
    ("SE", _digits("5560360793", ARABIC_INDIC)),
    ("SE", "16" + _digits("5560360793", ARABIC_INDIC)),
    ("FI", "0112O38-9"),
    ("FI", _digits("0112038-9", ARABIC_INDIC)),
    ("FI", "FI" + _digits("01120389", ARABIC_INDIC)),
    ("SE", _digits("5560360793", FULLWIDTH)),
    ("FI", _digits("0112038-9", FULLWIDTH)),
]


@pytest.mark.parametrize(("country", "value"), BAD_INPUT)
@pytest.mark.parametrize("strict", [False, True])
def test_rejects_non_ascii_digits_and_letters(country: str, value: str, strict: bool) -> None:
    assert not SCHEMES[country].is_valid(value, strict=strict)
    with pytest.raises(InvalidIdentifier):
        SCHEMES[country].validate(value, strict=strict)


def test_invalid_identifier_is_value_error() -> None:
    with pytest.raises(ValueError, match="digits 0-9"):
        no_orgnr.validate(_digits("123456789", ARABIC_INDIC))


@pytest.mark.parametrize(("country", "length"), list(BODY_LENGTH.items()))
def test_calc_check_digit_rejects_wrong_body(country: str, length: int) -> None:
    with pytest.raises(InvalidIdentifier):
        SCHEMES[country].calc_check_digit("1" * (length + 1))
    with pytest.raises(InvalidIdentifier):
        SCHEMES[country].calc_check_digit(_digits("1" * length, ARABIC_INDIC))


# --- dispatch helpers ---------------------------------------------------------------


def test_dispatch_helpers() -> None:
    assert compact_org_number("NO", "NO 923 609 016 MVA") == "923609016"
    assert validate_org_number("SE", "165560360793", strict=True) == "5560360793"
    assert validate_org_number("fi", "FI01120389") == "0112038-9"
    assert is_valid_org_number("NO", "123456789")
    assert not is_valid_org_number("NO", "123456789", strict=True)
    assert format_org_number("SE", "5560360793") == "556036-0793"
    with pytest.raises(InvalidIdentifier, match="must have 9 digits"):
        validate_org_number("NO", "1234")


@pytest.mark.parametrize(
    "call",
    [
        lambda: compact_org_number("DK", "12345678"),
        lambda: validate_org_number("DK", "12345678"),
        lambda: is_valid_org_number("DK", "12345678"),
        lambda: format_org_number("", "12345678"),
    ],
)
def test_dispatch_unknown_country(call: Callable[[], object]) -> None:
    with pytest.raises(InvalidIdentifier, match="no organization number scheme for country"):
        call()


# --- properties ---------------------------------------------------------------------


def _assemble(country: str, body: str, check: str) -> str:
    return f"{body}-{check}" if country == "FI" else body + check


@st.composite
def se_bodies(draw: st.DrawFn) -> str:
    """First 9 digits of a Swedish number that strict mode can accept.

    An organization number (third digit 2-9), or a personnummer / samordningsnummer whose
    YYMMDD is a real date: strict mode checks the date, so 9 random digits will not do
    (``000000000`` plus its Luhn digit fails it).
    """
    kind = draw(st.sampled_from(["organization", "personnummer", "samordningsnummer"]))
    if kind == "organization":
        head, tail = draw(
            st.text("0123456789", min_size=8, max_size=8).map(lambda t: (t[:2], t[2:]))
        )
        return head + draw(st.sampled_from("23456789")) + tail
    serial = draw(st.text("0123456789", min_size=3, max_size=3))
    born = draw(st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 31)))
    day = born.day + (60 if kind == "samordningsnummer" else 0)
    return f"{born:%y%m}{day:02d}{serial}"


@st.composite
def valid_numbers(draw: st.DrawFn, country: str) -> str:
    if country == "SE":
        body = draw(se_bodies())
    else:
        body = draw(
            st.text("0123456789", min_size=BODY_LENGTH[country], max_size=BODY_LENGTH[country])
        )
    try:
        check = SCHEMES[country].calc_check_digit(body)
    except InvalidIdentifier:  # NO remainder 10 / FI remainder 1: no valid number
        assume(False)
        raise  # unreachable: assume(False) aborts the example
    return _assemble(country, body, check)


@pytest.mark.parametrize("country", SCHEMES)
@given(data=st.data())
def test_calculated_check_digit_is_accepted(country: str, data: st.DataObject) -> None:
    number = data.draw(valid_numbers(country))
    assert SCHEMES[country].validate(number, strict=True) == number


# Every single-digit change is detected: MOD11 and the FI scheme because 11 is prime and
# no weight is a multiple of 11 (and the check-digit maps are injective in the remainder);
# Luhn because d -> digit sum of 2d permutes 0-9.
@pytest.mark.parametrize("country", SCHEMES)
@given(data=st.data())
def test_single_digit_change_is_rejected(country: str, data: st.DataObject) -> None:
    number = data.draw(valid_numbers(country))
    positions = [i for i, ch in enumerate(number) if ch.isdigit()]
    i = data.draw(st.sampled_from(positions))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != number[i]]))
    changed = number[:i] + new + number[i + 1 :]
    assert not SCHEMES[country].is_valid(changed, strict=True)
    assert SCHEMES[country].is_valid(changed)  # still well formed


NOISY = st.text("0123456789 -.+NOSEFIMVAnosefimva\t\u0661\uff11", max_size=20)


@pytest.mark.parametrize("country", SCHEMES)
@given(value=NOISY)
def test_compact_is_idempotent(country: str, value: str) -> None:
    once = SCHEMES[country].compact(value)
    assert SCHEMES[country].compact(once) == once


@pytest.mark.parametrize("country", SCHEMES)
@given(data=st.data())
def test_validate_format_roundtrip(country: str, data: st.DataObject) -> None:
    module = SCHEMES[country]
    number = data.draw(valid_numbers(country))
    assert module.validate(module.format(number), strict=True) == module.validate(number)


# --- python-stdnum underneath -------------------------------------------------------


def _mod11_textbook(digits: str, weights: tuple[int, ...]) -> str | None:
    """Independent MOD11 check digit: 11 - (sum % 11), 11 -> 0, 10 -> no valid number."""
    check = 11 - sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11
    return None if check == 10 else str(check % 11)


@given(body=st.text("0123456789", min_size=8, max_size=8))
def test_no_check_digit_matches_textbook_mod11(body: str) -> None:
    expected = _mod11_textbook(body, (3, 2, 7, 6, 5, 4, 3, 2))
    if expected is None:
        with pytest.raises(InvalidIdentifier, match="MOD11 gives 10"):
            no_orgnr.calc_check_digit(body)
    else:
        assert no_orgnr.calc_check_digit(body) == expected


@given(body=st.text("0123456789", min_size=7, max_size=7))
def test_fi_check_digit_matches_textbook_mod11(body: str) -> None:
    # Same rule as MOD11 with the Y-tunnus weights: remainder 1 (check 10) has no number.
    expected = _mod11_textbook(body, (7, 9, 10, 5, 8, 4, 2))
    if expected is None:
        with pytest.raises(InvalidIdentifier, match="remainder 1"):
            fi_ytunnus.calc_check_digit(body)
    else:
        assert fi_ytunnus.calc_check_digit(body) == expected


@given(number=st.text("0123456789", min_size=9, max_size=9))
def test_no_strict_agrees_with_stdnum(number: str) -> None:
    assert no_orgnr.is_valid(number, strict=True) == stdnum_no_orgnr.is_valid(number)


@given(number=st.text("0123456789", min_size=8, max_size=8))
def test_fi_strict_agrees_with_stdnum(number: str) -> None:
    dashed = f"{number[:7]}-{number[7]}"
    assert fi_ytunnus.is_valid(dashed, strict=True) == stdnum_fi_ytunnus.is_valid(number)


@given(body=st.text("0123456789", min_size=9, max_size=9))
def test_se_organization_shaped_strict_agrees_with_stdnum(body: str) -> None:
    number = body[:2] + "7" + body[3:] + se_orgnr.calc_check_digit(body[:2] + "7" + body[3:])
    assert se_orgnr.is_valid(number, strict=True)
    assert stdnum_se_orgnr.is_valid(number)
    assert _luhn_ok(number)


def test_stdnum_checksums_read_non_ascii_digits_but_we_do_not() -> None:
    # The surprise that makes the ASCII check come first: int() reads any script's digits.
    arabic = _digits("923609016", ARABIC_INDIC)
    assert stdnum_no_orgnr.checksum(arabic) == 0
    assert not no_orgnr.is_valid(arabic, strict=True)
    arabic_fi = _digits("01120389", ARABIC_INDIC)
    assert stdnum_fi_alv.checksum(arabic_fi) == 0
    assert not fi_ytunnus.is_valid(f"{arabic_fi[:7]}-{arabic_fi[7]}", strict=True)


# --- Sweden: sole traders (personnummer, samordningsnummer) -------------------------


@pytest.mark.parametrize(
    ("value", "canonical", "expected_kind"),
    [
        ("556036-0793", "5560360793", "organization"),  # Saab AB
        ("SE556036079301", "5560360793", "organization"),  # its VAT number
        ("165560360793", "5560360793", "organization"),
        ("2021005489", "2021005489", "organization"),  # third digit 2: the lowest group
        ("811228-9874", "8112289874", "personnummer"),  # Skatteverket's example
        ("811228+9874", "8112289874", "personnummer"),  # the same person, aged 100+
        ("19811228-9874", "8112289874", "personnummer"),
        ("198112289874", "8112289874", "personnummer"),
        ("701063-2391", "7010632391", "samordningsnummer"),  # day 63 = 3rd + 60
        ("000229-0005", "0002290005", "personnummer"),  # 29 Feb 2000
    ],
)
def test_se_kinds_pass_strict(value: str, canonical: str, expected_kind: str) -> None:
    assert se_orgnr.validate(value, strict=True) == canonical
    assert se_orgnr.kind(value) == expected_kind


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("811328-9873", "not a real date"),  # month 13, Luhn holds
        ("811232-9878", "not a real date"),  # 32 December
        ("811292-9875", r"not a real date \(YYMMDD with day \+ 60\)"),  # day 92 - 60 = 32
        ("000000-0000", "not a real date"),  # Luhn holds (all zeros), no month 00
        ("000229+0005", "not a real date"),  # '+': born 1900, not a leap year
        ("19000229-0005", "19000229 is not a real date"),  # the century says 1900
        ("205560360793", "century prefix 20"),  # a century on an organization number
        ("556036+0793", "'\\+' separator"),
        ("811228-9875", "Luhn"),
    ],
)
def test_se_strict_rejects_impossible_personnummer(value: str, message: str) -> None:
    assert se_orgnr.is_valid(value)  # the shape is fine
    with pytest.raises(InvalidIdentifier, match=message):
        se_orgnr.validate(value, strict=True)


def test_se_leap_day_depends_on_the_century() -> None:
    assert se_orgnr.is_valid("20000229-0005", strict=True)
    assert not se_orgnr.is_valid("19000229-0005", strict=True)
    assert se_orgnr.is_valid("000229-0005", strict=True)  # no '+': 2000
    assert not se_orgnr.is_valid("000229+0005", strict=True)  # '+': 1900


def _real_date(number: str) -> bool:
    """Independent date check: 20YY and 19YY have the same leap years except 00, which a
    10-digit number without '+' reads as 2000."""
    day = int(number[4:6])
    day -= 60 if day > 60 else 0
    try:
        date(2000 + int(number[:2]), int(number[2:4]), day)
    except ValueError:
        return False
    return True


@given(body=st.text("0123456789", min_size=9, max_size=9))
def test_se_strict_is_luhn_and_date(body: str) -> None:
    number = body + se_orgnr.calc_check_digit(body)
    expected = number[2] >= "2" or _real_date(number)
    assert se_orgnr.is_valid(number, strict=True) == expected
    assert se_orgnr.kind(number) == (
        "organization"
        if number[2] >= "2"
        else "samordningsnummer"
        if int(number[4:6]) > 60
        else "personnummer"
    )


def test_se_kind_rejects_malformed() -> None:
    with pytest.raises(InvalidIdentifier, match="10 or 12 digits"):
        se_orgnr.kind("55603607")


def test_se_vat_prefix_is_ascii_only() -> None:
    # With re.IGNORECASE alone "\u017f" (long s) matches "s"; the VAT form must be ASCII.
    assert not se_orgnr.is_valid("\u017fE556036079301")
    assert se_orgnr.validate("se556036079301") == "5560360793"


@pytest.mark.parametrize(
    ("country", "vat", "org"),
    [
        ("NO", "NO923609016MVA", "923609016"),
        ("SE", "SE556036079301", "5560360793"),
        ("FI", "FI01120389", "0112038-9"),
    ],
)
def test_vat_forms_compact_to_the_organization_number(country: str, vat: str, org: str) -> None:
    assert validate_org_number(country, vat, strict=True) == org
