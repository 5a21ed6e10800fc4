"""Our organization-number validators against python-stdnum's own test vectors and spellings.

The vectors are in ``tests/data/stdnum_vectors.toml`` (copied from python-stdnum's
repository, source file and commit cited there). Every number stdnum accepts must be
accepted here with the same number; every one it refuses must be refused here too. The
properties then build spellings from stdnum's separator rules and check the same on many
more numbers; the spellings we refuse on purpose are tested as refusals, with stdnum
shown to accept them, so the difference stays deliberate.
"""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.fi import alv as stdnum_fi_alv
from stdnum.no import mva as stdnum_no_mva
from stdnum.no import orgnr as stdnum_no_orgnr
from stdnum.se import orgnr as stdnum_se_orgnr
from stdnum.se import personnummer as stdnum_se_personnummer
from stdnum.se import vat as stdnum_se_vat

from kravia_schedule.errors import InvalidIdentifier
from kravia_schedule.identifiers import (
    fi_ytunnus,
    no_orgnr,
    se_orgnr,
    validate_org_number,
)

VECTORS_FILE = Path(__file__).parent / "data" / "stdnum_vectors.toml"
GROUPS: list[dict[str, Any]] = tomllib.loads(VECTORS_FILE.read_text(encoding="utf-8"))["group"]
SCHEMES: dict[str, ModuleType] = {"NO": no_orgnr, "SE": se_orgnr, "FI": fi_ytunnus}


def _cases(valid: bool) -> list[Any]:
    return [
        pytest.param(g, number, id=f"{g['source']}:{number}")
        for g in GROUPS
        if g["valid"] is valid
        for number in g["numbers"]
    ]


def _stdnum_canonical(group: dict[str, Any], value: str) -> str:
    """The number stdnum reads from ``value``, in our canonical form."""
    module = importlib.import_module(group["stdnum"])
    number: str = module.validate(value)
    digits = "".join(c for c in number if c.isdigit())
    if group["country"] == "NO":
        return digits[:9]
    if group["country"] == "FI":
        return f"{digits[:7]}-{digits[7]}"
    if group["stdnum"] in ("stdnum.eu.vat", "stdnum.se.vat"):
        return digits[:10]  # without the "01"
    return digits[-10:]  # a personnummer's century is not kept


def test_the_vectors_are_all_there() -> None:
    # The file is data: a lost group would weaken the tests below without failing them.
    counted = {
        (g["country"], g["valid"]): 0 for g in GROUPS
    }  # fmt: skip
    for g in GROUPS:
        counted[g["country"], g["valid"]] += len(g["numbers"])
    assert counted == {
        ("NO", True): 13,
        ("NO", False): 2,
        ("FI", True): 16,
        ("FI", False): 3,
        ("SE", True): 38,
        ("SE", False): 9,
    }


@pytest.mark.parametrize(("group", "value"), _cases(valid=True))
def test_stdnum_valid_vectors_are_accepted(group: dict[str, Any], value: str) -> None:
    expected = _stdnum_canonical(group, value)  # also proves the copy is one stdnum accepts
    country = group["country"]
    assert validate_org_number(country, value, strict=True) == expected
    assert validate_org_number(country, value) == expected
    assert SCHEMES[country].format(value) == SCHEMES[country].format(expected)


@pytest.mark.parametrize(("group", "value"), _cases(valid=False))
def test_stdnum_invalid_vectors_are_refused(group: dict[str, Any], value: str) -> None:
    module = importlib.import_module(group["stdnum"])
    if group["error"] == "is_valid":
        assert not module.is_valid(value)
    else:
        with pytest.raises(getattr(importlib.import_module("stdnum.exceptions"), group["error"])):
            module.validate(value)
    with pytest.raises(InvalidIdentifier):
        validate_org_number(group["country"], value, strict=True)


@pytest.mark.parametrize(
    ("group", "value"),
    [p for p in _cases(valid=False) if p.values[0]["error"] == "InvalidChecksum"],
)
def test_stdnum_checksum_vectors_fail_on_the_check_digit(group: dict[str, Any], value: str) -> None:
    # A wrong check digit only: well formed, so accepted without strict, refused with it
    # for the check digit (the bare 12-digit Swedish VAT form is refused by its shape).
    country = group["country"]
    if value == "123456789101":
        with pytest.raises(InvalidIdentifier, match="needs its SE prefix"):
            validate_org_number(country, value)
        return
    assert SCHEMES[country].is_valid(value)
    with pytest.raises(InvalidIdentifier, match="check digit"):
        validate_org_number(country, value, strict=True)


# --- spellings built from stdnum's separator rules ------------------------------------


@st.composite
def sprinkled(draw: st.DrawFn, text: str, separators: str, *, ends: bool = True) -> str:
    """``text`` with up to two of ``separators`` in each gap between its characters."""
    gaps = st.text(separators, max_size=2)
    out = draw(gaps) if ends else ""
    for i, char in enumerate(text):
        out += char
        if ends or i < len(text) - 1:
            out += draw(gaps)
    return out


def _with_check(body: str, calc: Any) -> str:
    try:
        return body + calc(body)
    except InvalidIdentifier:  # no valid number has this body
        assume(False)
        raise


@given(data=st.data(), body=st.text("0123456789", min_size=8, max_size=8))
def test_no_spellings_stdnum_accepts(data: st.DataObject, body: str) -> None:
    # stdnum.no.orgnr and .mva ignore spaces anywhere; .mva has "NO" optional, "MVA"
    # required, and upper-cases.
    number = _with_check(body, no_orgnr.calc_check_digit)
    prefix = data.draw(st.sampled_from(["", "NO", "no", "No"]))
    suffix = data.draw(st.sampled_from(["", "MVA", "mva", "Mva"]))
    spelled = data.draw(sprinkled(prefix + number + suffix, " "))
    stdnum = stdnum_no_mva if suffix else stdnum_no_orgnr
    assume(not prefix or suffix)  # "NO" without "MVA" is no stdnum spelling (we take it)
    assert stdnum.is_valid(spelled)
    assert no_orgnr.validate(spelled, strict=True) == number


@given(
    data=st.data(),
    body=st.text("0123456789", min_size=9, max_size=9).map(lambda t: t[:2] + "5" + t[3:]),
)
def test_se_spellings_stdnum_accepts(data: st.DataObject, body: str) -> None:
    # stdnum.se.orgnr and .vat ignore " -." anywhere; .vat has "SE" optional (we require it,
    # see test_se_bare_vat_form_is_refused_on_purpose) and "01" required, and upper-cases.
    number = _with_check(body, se_orgnr.calc_check_digit)
    vat = data.draw(st.booleans())
    prefix = data.draw(st.sampled_from(["SE", "se", "Se", "sE"])) if vat else ""
    spelled = data.draw(sprinkled(prefix + number + ("01" if vat else ""), " -."))
    assert (stdnum_se_vat if vat else stdnum_se_orgnr).is_valid(spelled)
    assert se_orgnr.validate(spelled, strict=True) == number


@given(data=st.data(), body=st.text("0123456789", min_size=7, max_size=7))
def test_fi_spellings_stdnum_accepts(data: st.DataObject, body: str) -> None:
    # stdnum.fi.alv ignores spaces and hyphens anywhere and has "FI" optional; we take
    # spaces anywhere and a hyphen after "FI" and before the check digit.
    number = _with_check(body, fi_ytunnus.calc_check_digit)
    prefix = data.draw(st.sampled_from(["", "FI", "fi", "Fi", "FI-", "fi-"]))
    hyphen = data.draw(st.sampled_from(["", "-"]))
    spelled = data.draw(sprinkled(prefix + number[:7] + hyphen + number[7], " "))
    assert stdnum_fi_alv.is_valid(spelled)
    assert fi_ytunnus.validate(spelled, strict=True) == f"{number[:7]}-{number[7]}"


# --- spellings refused on purpose (each module's docstring lists them) -----------------


@given(
    body=st.text("0123456789", min_size=7, max_size=7),
    at=st.integers(min_value=1, max_value=6),
)
def test_fi_hyphen_inside_the_body_is_refused_on_purpose(body: str, at: int) -> None:
    number = _with_check(body, fi_ytunnus.calc_check_digit)
    spelled = number[:at] + "-" + number[at:]
    assert stdnum_fi_alv.is_valid(spelled)
    with pytest.raises(InvalidIdentifier, match="a hyphen only before the check digit"):
        fi_ytunnus.validate(spelled)


@pytest.mark.parametrize("spelled", ["FI--20774740", "2077474--0", "F-I20774740"])
def test_fi_other_hyphens_are_refused_on_purpose(spelled: str) -> None:
    assert stdnum_fi_alv.is_valid(spelled)
    assert not fi_ytunnus.is_valid(spelled)


def test_se_bare_vat_form_is_refused_on_purpose() -> None:
    # SE202100500001 without "SE" reads as the century form 20 + 2100500001.
    assert stdnum_se_vat.is_valid("556036079301")
    with pytest.raises(InvalidIdentifier, match="a VAT number needs its SE prefix"):
        se_orgnr.validate("556036079301")
    assert se_orgnr.validate("SE556036079301") == "5560360793"
    assert se_orgnr.validate("202100500001") == "2100500001"  # the ambiguity
    assert se_orgnr.validate("SE202100500001") == "2021005000"


def test_se_colon_is_refused_on_purpose() -> None:
    assert stdnum_se_personnummer.is_valid("880320:0016")
    assert not se_orgnr.is_valid("880320:0016")


@pytest.mark.parametrize(
    ("country", "spelled", "stdnum"),
    [
        ("NO", "\uff19\uff18\uff18 077 917", stdnum_no_orgnr),  # fullwidth digits
        ("SE", "556036\u20130793", stdnum_se_orgnr),  # en dash
        ("FI", "2077474\u20130", stdnum_fi_alv),  # en dash
        ("FI", "\uff12077474-0", stdnum_fi_alv),
    ],
)
def test_characters_stdnum_folds_to_ascii_are_refused_on_purpose(
    country: str, spelled: str, stdnum: ModuleType
) -> None:
    assert stdnum.is_valid(spelled)
    with pytest.raises(InvalidIdentifier):
        validate_org_number(country, spelled)


@pytest.mark.parametrize("spelled", ["F\u013101120389", "f\u0131-0112038-9"])
def test_fi_prefix_is_ascii(spelled: str) -> None:
    # "\u0131" (dotless i) upper-cases to "I": "F\u0131" must not pass for "FI".
    assert "F\u0131".upper() == "FI"
    with pytest.raises(InvalidIdentifier):
        fi_ytunnus.validate(spelled)
