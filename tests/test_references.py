"""Tests for kravia_schedule.references (KID, OCR, Finnish reference, RF) and reference_for."""

from __future__ import annotations

import doctest
from collections.abc import Callable
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649, luhn
from stdnum.iso7064 import mod_97_10

from kravia_schedule.errors import InvalidIdentifier, KraviaScheduleError
from kravia_schedule.references import (
    DEFAULT_SCHEME,
    Scheme,
    fi_reference,
    generate_reference,
    is_valid_reference,
    kid,
    ocr,
    reference_for,
    rf,
    validate_reference,
)

DIGITS = "0123456789"
ARABIC_INDIC_1234 = "\u0661\u0662\u0663\u0664"  # pass str.isdigit(), not ASCII


def _arabic(ascii_digits: str) -> str:
    return "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in ascii_digits)


@pytest.mark.parametrize("module", [kid, ocr, fi_reference, rf])
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


# --- Norwegian KID ------------------------------------------------------------------

# From the norwegian-numbers and kid-util package docs: make('1234') -> '12344',
# make('1234', MOD11) -> '12343'; make('2345678') -> '23456783' and '23456788'.
KID_PUBLISHED = [("1234", 10, "12344"), ("1234", 11, "12343"), ("2345678", 10, "23456783"), ("2345678", 11, "23456788")]  # fmt: skip


@pytest.mark.parametrize(("base", "mod", "expected"), KID_PUBLISHED)
def test_kid_published_examples(base: str, mod: kid.Mod, expected: str) -> None:
    assert kid.generate(base, mod=mod) == expected
    assert kid.validate(expected, mod=mod) == expected
    assert kid.is_valid(expected, mod=mod)


def test_kid_published_cross_checks() -> None:
    # kid-util: verify('23456788') is False under MOD10, verify('23456783') False under MOD11.
    assert not kid.is_valid("23456788", mod=10)
    assert not kid.is_valid("23456783", mod=11)
    with pytest.raises(InvalidIdentifier, match="fails its MOD10 check digit"):
        kid.validate("12343")
    with pytest.raises(InvalidIdentifier, match="fails its MOD11 check digit"):
        kid.validate("12344", mod=11)


def test_kid_mod11_hand_computed() -> None:
    # 1234: weights 2,3,4,5 from the right: 4*2 + 3*3 + 2*4 + 1*5 = 30; 30 % 11 = 8; 11-8 = 3.
    assert kid.calc_check_digit("1234", mod=11) == "3"
    # 1009: 9*2 + 0*3 + 0*4 + 1*5 = 23; 23 % 11 = 1; 11 - 1 = 10: the check "digit" is "-".
    assert kid.calc_check_digit("1009", mod=11) == "-"
    # 1043: 3*2 + 4*3 + 0*4 + 1*5 = 23 as well. Sum 0 gives 11 - 0 = 11, written "0".
    assert kid.generate("1043", mod=11) == "1043-"
    assert kid.calc_check_digit("000000", mod=11) == "0"
    # The weights cycle 2,3,4,5,6,7 from the right: a 1 in 7th place weighs 2 (11 - 2 = 9),
    # in 8th place 3 (11 - 3 = 8); weights 2, 3, ..., 8 without the cycle would give 3.
    assert kid.calc_check_digit("1000000", mod=11) == "9"
    assert kid.calc_check_digit("10000000", mod=11) == "8"


def test_kid_minus_check_digit() -> None:
    assert kid.validate("1009-", mod=11) == "1009-"
    assert not any(kid.is_valid(f"1009{d}", mod=11) for d in DIGITS)
    with pytest.raises(InvalidIdentifier, match="only a MOD11 KID"):
        kid.validate("1009-")
    with pytest.raises(InvalidIdentifier, match="must be digits"):
        kid.validate("10-09", mod=11)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1", "must have 2-25 characters, got 1"),
        ("1" * 26, "got 26"),
        ("", "got 0"),
        ("12a44", "must be digits"),
        ("1234x", "must end in a digit"),
        (ARABIC_INDIC_1234 + "4", "must be digits"),
        ("1234" + "\u0664", "must end in a digit"),
    ],
)
def test_kid_malformed(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        kid.validate(value)
    assert not kid.is_valid(value, mod=11)


def test_kid_keeps_leading_zeros_and_ignores_spaces() -> None:
    assert kid.generate("0001") == "00018"  # Luhn: 1*2 = 2 -> check 8
    assert kid.validate(" 0001 8 ") == "00018"
    assert kid.format("0001 8") == "00018"
    assert kid.compact("12 34 4") == "12344"


def test_kid_bad_mod_and_body() -> None:
    with pytest.raises(InvalidIdentifier, match="MOD10 or MOD11"):
        kid.validate("12344", mod=12)  # type: ignore[arg-type]
    with pytest.raises(InvalidIdentifier, match="1-24 digits"):
        kid.calc_check_digit("")
    with pytest.raises(InvalidIdentifier, match="1-24 digits"):
        kid.generate("1" * 25)
    with pytest.raises(InvalidIdentifier, match="1-24 digits"):
        kid.generate(ARABIC_INDIC_1234)


# --- Swedish OCR --------------------------------------------------------------------


def test_ocr_luhn_and_length_digit_hand_computed() -> None:
    # 1234 + check: 4*2=8, 3, 2*2=4, 1 -> 16 -> check 4.
    assert ocr.generate("1234") == "12344"
    # With length digit: 6 digits in all -> "12346"; Luhn: 6*2=12->3, 4, 3*2=6, 2, 1*2=2
    # -> 17 -> check 3.
    assert ocr.generate("1234", length_digit=True) == "123463"
    assert ocr.validate("123463", length_digit=True) == "123463"
    # 10 digits in all: the length digit is 10 % 10 = 0.
    assert ocr.generate("12345678", length_digit=True) == "1234567806"


def test_ocr_length_digit_catches_what_luhn_misses() -> None:
    # A dropped leading zero leaves the Luhn sum unchanged; only the length digit sees it.
    full = ocr.generate("0123", length_digit=True)
    assert full == "012369"
    assert ocr.is_valid(full[1:])
    with pytest.raises(
        InvalidIdentifier, match=r"length digit \(second to last\) must be 5, not 6"
    ):
        ocr.validate(full[1:], length_digit=True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1", "2-25 digits, got 1"),
        ("1" * 26, "got 26"),
        ("1234-4", "only digits"),
        (_arabic("12344"), "only digits"),
        ("12345", "Luhn"),
    ],
)
def test_ocr_malformed(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        ocr.validate(value)
    assert not ocr.is_valid(value, length_digit=True)


def test_ocr_generate_limits() -> None:
    assert ocr.validate(ocr.generate("1" * 24)) == "1" * 24 + luhn.calc_check_digit("1" * 24)
    assert len(ocr.generate("1" * 23, length_digit=True)) == 25
    with pytest.raises(InvalidIdentifier, match="1-23 digits"):
        ocr.generate("1" * 24, length_digit=True)
    with pytest.raises(InvalidIdentifier, match="1-23 digits"):
        ocr.generate("", length_digit=True)
    with pytest.raises(InvalidIdentifier, match="1-24 digits"):
        ocr.calc_check_digit("1" * 25)
    assert ocr.format(" 12 344 ") == "12344"
    assert ocr.calc_length_digit("1" * 23) == "5"


# --- Finnish reference number -------------------------------------------------------

# 1232: 3*7 + 2*3 + 1*1 = 28 -> 2. 1234561: 6*7+5*3+4*1+3*7+2*3+1*1 = 89 -> 1 (Finance
# Finland's example, printed "12 34561"). 12345672: 118 -> 2. 123456780: 150 -> 0.
# 1234567123456784: JustOn's worked example (sum 246 -> 4), printed "1 23456 71234 56784".
FI_VALID = [
    ("1232", "1232"),
    ("1234561", "12 34561"),
    ("12345672", "123 45672"),
    ("123456780", "1234 56780"),
    ("1234567123456784", "1 23456 71234 56784"),
]


@pytest.mark.parametrize(("number", "printed"), FI_VALID)
def test_fi_published_and_hand_computed(number: str, printed: str) -> None:
    assert fi_reference.validate(number) == number
    assert fi_reference.generate(number[:-1]) == number
    assert fi_reference.format(number) == printed
    assert fi_reference.validate(printed) == number


def test_fi_machine_readable_form_drops_leading_zeros() -> None:
    # Finance Finland's machine-readable form pads to 20 digits with zeros.
    assert fi_reference.compact("00000000000001234561") == "1234561"
    assert fi_reference.validate("00000000000001234561") == "1234561"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1233", "fails its 7-3-1 check digit"),
        ("123", "4-20 digits without leading zeros, got 3"),  # some banks take it; the spec not
        ("0123", "got 3"),  # the zero goes, and 3 digits are too few
        ("1" * 20 + "1", "got 21"),
        ("12a2", "only digits"),
        ("0000", "all zeros"),
        (_arabic("1232"), "only digits"),
        ("RF111232", "only digits"),
    ],
)
def test_fi_invalid(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        fi_reference.validate(value)
    assert not fi_reference.is_valid(value)


def test_fi_generate_refuses_leading_zero_and_bad_length() -> None:
    with pytest.raises(InvalidIdentifier, match="must not start with 0"):
        fi_reference.generate("0123")
    with pytest.raises(InvalidIdentifier, match="3-19 digits"):
        fi_reference.generate("12")
    with pytest.raises(InvalidIdentifier, match="3-19 digits"):
        fi_reference.generate("1" * 20)


def test_fi_to_rf() -> None:
    # Finance Finland's RF example: national reference 2348236 is RF33 2348 236.
    assert fi_reference.to_rf("2348236") == "RF332348236"
    assert fi_reference.to_rf("1232") == "RF111232"
    assert (
        fi_reference.to_rf("000 12345 672") == "RF" + rf.calc_check_digit("12345672") + "12345672"
    )
    assert iso11649.is_valid(fi_reference.to_rf("1234567123456784"))
    with pytest.raises(InvalidIdentifier, match="7-3-1"):
        fi_reference.to_rf("1233")


# --- RF creditor reference ----------------------------------------------------------

# RF18 5390 0754 7034: the ISO 11649 example (also in stdnum's docs); RF71 2348 231 and
# RF33 2348 236 are the Finnish guide's; RF18 5390 0754 70Y has a letter (stdnum docs).
RF_VALID = ["RF18539007547034", "RF712348231", "RF332348236", "RF185390075470Y"]


@pytest.mark.parametrize("number", RF_VALID)
def test_rf_published_examples(number: str) -> None:
    assert rf.validate(number) == number
    assert iso11649.is_valid(number)  # and stdnum agrees
    assert rf.generate(number[4:]) == number
    assert rf.validate(rf.format(number)) == number


def test_rf_forms() -> None:
    assert rf.format("RF18539007547034") == "RF18 5390 0754 7034"
    assert rf.format("RF712348231") == "RF71 2348 231"
    assert rf.validate("rf18 5390 0754 7034") == "RF18539007547034"
    assert rf.calc_check_digit("539007547034") == "18"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("RF17539007547034", "fails its MOD 97-10"),  # stdnum's invalid example
        ("XX18539007547034", "must start with RF"),
        ("RF18", "5-25 characters, got 4"),
        ("RF18" + "1" * 22, "got 26"),
        ("RFAB1234", "two digits"),
        ("RF18-5390", "characters A-Z or 0-9"),
        ("RF99" + "36", "must be 02-98, got 99"),  # stdnum accepts: 99 = 2 mod 97
        ("RF01" + "54", "got 01"),  # stdnum accepts: 01 = 98 mod 97
        ("RF00" + "72", "got 00"),  # stdnum accepts: 00 = 97 mod 97
        ("RF18" + _arabic("539007547034"), "characters A-Z or 0-9"),  # stdnum accepts
        ("RF03\u0131", "characters A-Z or 0-9"),  # dotless i; upper() would make it "I"
    ],
)
def test_rf_invalid(value: str, message: str) -> None:
    with pytest.raises(InvalidIdentifier, match=message):
        rf.validate(value)
    assert not rf.is_valid(value)


def test_rf_stdnum_surprises_are_guarded() -> None:
    # What stdnum.iso11649 alone would let through, and we do not.
    for accepted_by_stdnum in ["RF9936", "RF0154", "RF0072", "RF18" + _arabic("539007547034")]:
        assert iso11649.is_valid(accepted_by_stdnum)
        assert not rf.is_valid(accepted_by_stdnum)
    for real in ["RF0236", "RF9854", "RF9772"]:  # the congruent forms stdnum also takes
        assert rf.is_valid(real)
    assert rf.generate("I") == "RF03I"
    assert not rf.is_valid("RF03\u0131")


def test_rf_letter_digit_transposition_is_not_always_caught() -> None:
    # B = 11: "B1" reads 111 and "1B" reads 111 too, so MOD 97-10 cannot tell them apart
    # (also M2/2M, X3/3X). The "always" of the transposition property holds for digits.
    assert rf.generate("B1") == "RF14B1"
    assert rf.is_valid("RF141B")


def test_rf_bad_body() -> None:
    with pytest.raises(InvalidIdentifier, match="1-21 characters"):
        rf.generate("")
    with pytest.raises(InvalidIdentifier, match="1-21 characters"):
        rf.generate("1" * 22)
    with pytest.raises(InvalidIdentifier, match="1-21 characters"):
        rf.generate("abc")  # generate takes the canonical upper-case body


# --- properties, every scheme -------------------------------------------------------

SCHEMES = list(Scheme)
BODY_SIZES = {
    Scheme.KID10: (1, 24),
    Scheme.KID11: (1, 24),
    Scheme.OCR: (1, 24),
    Scheme.OCR_LENGTH: (1, 23),
    Scheme.FI: (3, 19),
    Scheme.RF: (1, 21),
}


@st.composite
def bases(draw: st.DrawFn, scheme: Scheme) -> str:
    low, high = BODY_SIZES[scheme]
    base = draw(st.text(DIGITS, min_size=low, max_size=high))
    if scheme is Scheme.FI and base[0] == "0":  # no leading zeros in a Finnish reference
        base = draw(st.sampled_from("123456789")) + base[1:]
    return base


@pytest.mark.parametrize("scheme", SCHEMES)
@given(data=st.data())
def test_generate_validate_roundtrip(scheme: Scheme, data: st.DataObject) -> None:
    base = data.draw(bases(scheme))
    reference = generate_reference(scheme, base)
    assert validate_reference(scheme, reference) == reference
    assert is_valid_reference(scheme, reference)
    assert base in reference


def _alphabet(scheme: Scheme) -> str:
    return DIGITS + ("-" if scheme is Scheme.KID11 else "")


# Every single-character change is caught: Luhn because d -> digit sum of 2d permutes 0-9;
# MOD11 because 11 is prime and no weight is a multiple of it ("-" is the value 10, and a
# "-" anywhere but last is malformed); 7-3-1 because 7, 3 and 1 are coprime to 10 (a
# leading digit turned 0 is dropped, which changes nothing in the sum but the digit's
# share); MOD 97-10 because 97 is prime, and 00, 01, 99, the check digits congruent to
# real ones, are refused.
@pytest.mark.parametrize("scheme", SCHEMES)
@given(data=st.data())
def test_single_character_change_is_rejected(scheme: Scheme, data: st.DataObject) -> None:
    reference = generate_reference(scheme, data.draw(bases(scheme)))
    positions = [i for i, ch in enumerate(reference) if ch in _alphabet(scheme)]
    i = data.draw(st.sampled_from(positions))
    new = data.draw(st.sampled_from([c for c in _alphabet(scheme) if c != reference[i]]))
    changed = reference[:i] + new + reference[i + 1 :]
    assert not is_valid_reference(scheme, changed)


def _transposable(scheme: Scheme, a: str, b: str) -> bool:
    """Whether the scheme promises to catch swapping the adjacent characters ``a`` and ``b``."""
    if a == b:
        return False  # no change at all
    if scheme in (Scheme.KID10, Scheme.OCR, Scheme.OCR_LENGTH):
        # Luhn: swapping x, y shifts the sum by (f(x) - x) - (f(y) - y) with f(d) the digit
        # sum of 2d; that is 0 mod 10 only for 0 and 9 (f(0) - 0 = 0, f(9) - 9 = 0).
        return {a, b} != {"0", "9"}
    if scheme is Scheme.FI:
        # 7-3-1: neighbouring weights differ by 4, 2 or 6 (the check digit weighs 1, its
        # neighbour 7), so (a - b) * difference is 0 mod 10 exactly when a - b = +-5.
        return a.isdigit() and b.isdigit() and abs(int(a) - int(b)) != 5
    # MOD11 KID: neighbouring weights differ by 1 or 5, non-zero mod the prime 11, and a
    # moved "-" is malformed. RF with a numeric body: neighbouring digits differ in weight
    # by 9 * 10**k, non-zero mod the prime 97; swaps touching "RF" break the prefix.
    return True


@pytest.mark.parametrize("scheme", SCHEMES)
@given(data=st.data())
def test_adjacent_transposition_is_rejected(scheme: Scheme, data: st.DataObject) -> None:
    reference = generate_reference(scheme, data.draw(bases(scheme)))
    pairs = [
        i
        for i in range(len(reference) - 1)
        if _transposable(scheme, reference[i], reference[i + 1])
    ]
    if not pairs:
        return  # e.g. KID "11" + check: nothing the scheme promises to catch
    i = data.draw(st.sampled_from(pairs))
    swapped = reference[:i] + reference[i + 1] + reference[i] + reference[i + 2 :]
    assert not is_valid_reference(scheme, swapped)


def test_the_excluded_transpositions_really_slip_through() -> None:
    # The exceptions the property test leaves out are real, not bugs hidden by the filter.
    assert kid.generate("1090") == "10900"
    assert kid.is_valid("19000")  # 09 -> 90 passes Luhn
    assert ocr.is_valid("19000")
    assert fi_reference.generate("161") == "1614"
    assert fi_reference.is_valid("1164")  # 6 and 1 differ by 5


# --- reference_for ------------------------------------------------------------------


def test_default_scheme_per_country() -> None:
    assert DEFAULT_SCHEME == {"NO": Scheme.KID10, "SE": Scheme.OCR_LENGTH, "FI": Scheme.FI}
    invoice = "INV-2025-0001"
    no, se, fi = (reference_for(invoice, c) for c in ("NO", "SE", "FI"))
    assert kid.is_valid(no)
    assert len(no) == 16
    assert ocr.is_valid(se, length_digit=True)
    assert len(se) == 17
    assert se[-2] == "7"  # 17 digits: length digit 7
    assert fi_reference.is_valid(fi)
    assert len(fi) == 16
    assert no[:15] == se[:15] == fi[:15]  # one body, the scheme's check digits after it


def test_reference_for_is_pinned() -> None:
    # A change of hash, digit extraction or guard would re-number every issued reference.
    assert reference_for("INV-2025-0001", "NO") == "7522669094392988"
    assert reference_for("INV-2025-0001", "NO", Scheme.RF) == "RF27752266909439298"


def test_reference_for_never_issues_a_minus_kid() -> None:
    # INV-4's unsalted body 919294074532308 has MOD11 check 10; the salted retry is taken.
    assert kid.calc_check_digit("919294074532308", mod=11) == "-"
    reference = reference_for("INV-4", "NO", "kid11")
    assert reference == "5417578792992494"
    assert kid.is_valid(reference, mod=11)


@given(
    invoice_id=st.text(min_size=1, max_size=40),
    scheme=st.sampled_from(SCHEMES),
    data=st.data(),
)
def test_reference_for_always_valid_never_leading_zero(
    invoice_id: str, scheme: Scheme, data: st.DataObject
) -> None:
    digits = data.draw(st.integers(*BODY_SIZES[scheme]))
    country = data.draw(st.sampled_from(sorted(DEFAULT_SCHEME)))
    reference = reference_for(invoice_id, country, scheme, digits=digits)
    assert reference == reference_for(invoice_id, country, scheme, digits=digits)
    assert is_valid_reference(scheme, reference)
    body = reference[4:] if scheme is Scheme.RF else reference
    assert body[0] != "0"
    assert not reference.endswith("-")
    check_digits = {Scheme.OCR_LENGTH: 2, Scheme.RF: 0}.get(scheme, 1)
    assert len(body) == digits + check_digits


@given(first=st.text(min_size=1, max_size=20), second=st.text(min_size=1, max_size=20))
def test_reference_for_depends_on_the_id(first: str, second: str) -> None:
    if first != second:
        # 15 digits: a collision here would be a 1-in-9e14 event, or a broken hash input.
        assert reference_for(first, "FI") != reference_for(second, "FI")


def test_reference_for_arguments() -> None:
    assert reference_for("A-1", " se ") == reference_for("A-1", "SE", "OCR-LENGTH")
    assert reference_for("A-1", "NO", "kid11") == reference_for("A-1", "NO", Scheme.KID11)
    with pytest.raises(InvalidIdentifier, match="no payment reference scheme for country 'DK'"):
        reference_for("A-1", "DK")
    with pytest.raises(InvalidIdentifier, match="unknown payment reference scheme 'iban'"):
        reference_for("A-1", "NO", "iban")
    with pytest.raises(InvalidIdentifier, match="3-19 digits, got digits=2"):
        reference_for("A-1", "FI", digits=2)
    with pytest.raises(InvalidIdentifier, match="1-23 digits, got digits=24"):
        reference_for("A-1", "SE", digits=24)
    with pytest.raises(InvalidIdentifier, match="got digits=True"):
        reference_for("A-1", "NO", digits=True)
    with pytest.raises(InvalidIdentifier, match="non-empty invoice id"):
        reference_for("", "NO")


# --- dispatchers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "value", "canonical"),
    [
        ("kid10", "1234 4", "12344"),
        ("kid11", "1009-", "1009-"),
        ("ocr", "12344", "12344"),
        ("ocr_length", "123463", "123463"),
        ("fi", "12 34561", "1234561"),
        ("rf", "rf18 5390 0754 7034", "RF18539007547034"),
    ],
)
def test_validate_reference_dispatch(scheme: str, value: str, canonical: str) -> None:
    assert validate_reference(scheme, value) == canonical
    assert is_valid_reference(Scheme(scheme), value)


@pytest.mark.parametrize(
    ("scheme", "value"),
    [("kid10", "12343"), ("kid11", "12344"), ("ocr_length", "12344"), ("fi", "1233")],
)
def test_is_valid_reference_false(scheme: str, value: str) -> None:
    assert not is_valid_reference(scheme, value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: validate_reference("giro", "12344"),
        lambda: is_valid_reference("", "12344"),
        lambda: generate_reference("kid12", "1234"),
    ],
)
def test_unknown_scheme_raises(call: Callable[[], object]) -> None:
    with pytest.raises(InvalidIdentifier, match="unknown payment reference scheme"):
        call()


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="KID"):
        kid.validate("12343")
    with pytest.raises(KraviaScheduleError):
        ocr.validate("x")


# --- length bounds of each scheme (sources in the module docstrings) ---------------------


def _mod11_kid(body: str) -> str:
    """Independent MOD11 check digit, weights 2..7 cycling from the right (no length bound)."""
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(body)))
    return {11: "0", 10: "-"}.get(11 - total % 11, str(11 - total % 11))


def _fi_check(body: str) -> str:
    """Independent 7-3-1 check digit (no length bound)."""
    return str(-sum(int(d) * (7, 3, 1)[i % 3] for i, d in enumerate(reversed(body))) % 10)


def _length_digit_ocr(base: str) -> str:
    """Base, length digit and Luhn check digit, for any length (no bound)."""
    with_length = base + str((len(base) + 2) % 10)
    return with_length + luhn.calc_check_digit(with_length)


# (scheme, shortest accepted, longest accepted, one shorter, one longer, bounds in the
# message). The values beyond the bounds carry correct check digits, so only the length
# can refuse them.
LENGTH_BOUNDS = [
    (Scheme.KID10, "00", "1" * 24 + luhn.calc_check_digit("1" * 24), "0",
     "1" * 25 + luhn.calc_check_digit("1" * 25), "2-25 characters"),
    (Scheme.KID11, "00", "1" * 24 + _mod11_kid("1" * 24), "0",
     "1" * 25 + _mod11_kid("1" * 25), "2-25 characters"),
    (Scheme.OCR, "00", "9" * 24 + luhn.calc_check_digit("9" * 24), "0",
     "9" * 25 + luhn.calc_check_digit("9" * 25), "2-25 digits"),
    (Scheme.OCR_LENGTH, _length_digit_ocr(""), _length_digit_ocr("1" * 23), "0",
     _length_digit_ocr("1" * 24), "2-25 digits"),
    (Scheme.FI, "1232", "1" * 19 + _fi_check("1" * 19), "12" + _fi_check("12"),
     "1" * 20 + _fi_check("1" * 20), "4-20 digits"),
    (Scheme.RF, "RF" + rf.calc_check_digit("1") + "1",
     "RF" + rf.calc_check_digit("A" * 21) + "A" * 21, "RF00",
     "RF" + str(mod_97_10.calc_check_digits("A" * 22 + "RF")) + "A" * 22, "5-25 characters"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("scheme", "shortest", "longest", "too_short", "too_long", "bounds"), LENGTH_BOUNDS
)
def test_length_bounds(
    scheme: Scheme, shortest: str, longest: str, too_short: str, too_long: str, bounds: str
) -> None:
    low, high = int(bounds.split("-")[0]), int(bounds.split("-")[1].split()[0])
    assert (len(shortest), len(longest)) == (low, high)
    assert (len(too_short), len(too_long)) == (low - 1, high + 1)
    assert validate_reference(scheme, shortest) == shortest
    assert validate_reference(scheme, longest) == longest
    for value in (too_short, too_long):
        with pytest.raises(InvalidIdentifier, match=f"must have {bounds}.*, got {len(value)}$"):
            validate_reference(scheme, value)
        assert not is_valid_reference(scheme, value)


def test_length_bound_constants() -> None:
    # The documented bounds (each module cites its source).
    assert (kid.MIN_LENGTH, kid.MAX_LENGTH) == (2, 25)
    assert (ocr.MIN_LENGTH, ocr.MAX_LENGTH) == (2, 25)
    assert (fi_reference.MIN_LENGTH, fi_reference.MAX_LENGTH) == (4, 20)
    assert (rf.MIN_LENGTH, rf.MAX_LENGTH) == (5, 25)
    # The independent check digits above agree with the modules within the bounds.
    assert kid.calc_check_digit("1" * 24, mod=11) == _mod11_kid("1" * 24)
    assert fi_reference.calc_check_digit("1" * 19) == _fi_check("1" * 19)
    assert ocr.generate("1" * 23, length_digit=True) == _length_digit_ocr("1" * 23)
