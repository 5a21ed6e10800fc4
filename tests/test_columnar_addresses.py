"""The columnar address recognizer: an address it finds plain is one the core accepts as
it is, with the core's customer key; usual addresses are plain; the rest go to the core."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")

from _records import GROUPED, nordmann_address, nordmann_record  # noqa: E402

from kravia_schedule import columnar, plan_invoices  # noqa: E402
from kravia_schedule.columnar import placing  # noqa: E402
from kravia_schedule.columnar.addresses import (  # noqa: E402
    ADDRESS_FIELDS,
    KEYS,
    agrees,
    by_core,
    recognize,
)
from kravia_schedule.config import ProductType  # noqa: E402

PRODUCTS = [p.value for p in ProductType]


def frame(rows: list[tuple[dict[str, Any], str]]) -> Any:
    """The distinct-address frame the planner hands the recognizer."""
    data: dict[str, list[Any]] = {f"a.{f}": [a.get(f) for a, _ in rows] for f in ADDRESS_FIELDS}
    data["payment_product_type"] = [product for _, product in rows]
    return pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))


def plain_ones(rows: list[tuple[dict[str, Any], str]], *, strict: bool = False) -> list[bool]:
    """Which rows the recognizer finds plain, having checked each against the core."""
    addresses = frame(rows)
    found = recognize(addresses, strict=strict)
    core = by_core(addresses, strict=strict)
    assert found.select(addresses.columns).equals(addresses)  # rows kept, in order
    for plain, mine, valid, theirs, row in zip(
        found["plain"], found.select(KEYS).rows(), core["valid"], core.select(KEYS).rows(), rows,
        strict=True,
    ):  # fmt: skip
        if plain:
            assert valid, f"plain, but the core refuses it: {row}"
            assert mine == theirs, f"another customer key than the core's: {row}"
        else:
            assert mine == (None,) * len(KEYS)
    return found["plain"].to_list()


# -- usual addresses take the fast path ----------------------------------------------


@pytest.mark.parametrize("product", PRODUCTS)
def test_the_nordmann_address_is_plain_for_every_product(product):
    assert plain_ones([(nordmann_address(), product)], strict=True) == [True]


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({}, ("NO", "923609016", "nordmann as", "")),
        ({"country": " NO\x1c"}, ("NO", "923609016", "nordmann as", "")),  # str.strip's
        ({"organization_number": "923 609 016"}, ("NO", "923609016", "nordmann as", "")),
        ({"organization_number": "923.609.016"}, ("NO", "923609016", "nordmann as", "")),
        ({"business_name": "  NORDMANN   As "}, ("NO", "923609016", "nordmann as", "")),
        ({"business_name": "Ærø Økologiske Å/S"}, ("NO", "923609016", "ærø økologiske å/s", "")),
        ({"customer_reference": " Dept  7 "}, ("NO", "923609016", "nordmann as", "Dept 7")),
        ({"customer_reference": "   "}, ("NO", "923609016", "nordmann as", "")),
        (
            {"country": "SE", "postal_code": "111 22", "organization_number": "556036-0793"},
            ("SE", "5560360793", "nordmann as", ""),
        ),
        (
            {"country": "SE", "postal_code": "11122", "organization_number": "5560360793"},
            ("SE", "5560360793", "nordmann as", ""),
        ),
        (
            {"country": "FI", "postal_code": "00100", "organization_number": "0112038-9"},
            ("FI", "0112038-9", "nordmann as", ""),
        ),
    ],
)
def test_usual_spellings_are_plain_with_the_core_key(changes, key):
    rows = [(nordmann_address(**changes), GROUPED)]
    assert plain_ones(rows) == [True]
    assert recognize(frame(rows)).select(KEYS).row(0) == key


@pytest.mark.parametrize(
    "changes",
    [
        {"country": "no"},  # the core reads it; the recognizer does not try
        {"organization_number": "NO 923609016 MVA"},
        {"organization_number": "19556036-0793", "country": "SE", "postal_code": "11122"},
        {"business_name": "Straße GmbH"},  # ß folds to "ss": Polars' lowercase keeps it
        {"business_name": "Nordmann\xa0AS"},  # a space Python splits on
        {"business_name": "ﬁsk AS"},  # NFKC changes it
        {"email": "ola@nordmänn.no"},
        {"postal_code": "01 51"},  # refused by the core too
        {"phone_number": "nine"},
    ],
)
def test_unusual_spellings_go_to_the_core(changes):
    assert plain_ones([(nordmann_address(**changes), GROUPED)]) == [False]


def test_strict_check_digits_are_the_core_s():
    rows = [(nordmann_address(organization_number="123456789"), GROUPED)]
    assert plain_ones(rows, strict=False) == [True]
    assert plain_ones(rows, strict=True) == [False]  # fails MOD11: the core says why
    b2c = [(nordmann_address(organization_number="123456789"), "kravia.invoice_b2c")]
    assert plain_ones(b2c, strict=True) == [True]  # B2C does not read the number


# -- the property ----------------------------------------------------------------------

_TRICKY = [
    *"aAzZ09 -.+()/@ßµªÆØÅæøåÄÖäöÿÞİΣς",
    *"\t\n\x00\x1c\x1f\x7f\x85\xa0\u2003\ufb01\u01c5\u0661\uff10",
]
garbage = st.text(st.sampled_from(_TRICKY), max_size=12)
spaces = st.sampled_from(["", " ", "  ", "\t", "\xa0", "\x1f"])


def padded(core: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(spaces, core, spaces).map("".join)


def digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from("0123456789"), min_size=low, max_size=high)


def spelled_number() -> st.SearchStrategy[str]:
    """Organization numbers in every shape: separators, prefixes and suffixes, any length."""
    separator = st.sampled_from(["", "", " ", "-", ".", "+", "  "])
    parts = st.lists(st.tuples(digits(1, 5), separator).map("".join), min_size=1, max_size=4)
    prefix = st.sampled_from(["", "", "NO", "no ", "SE", "FI", "16", "19", "20"])
    suffix = st.sampled_from(["", "", "MVA", "01", "-1"])
    return st.tuples(prefix, parts.map("".join), suffix).map("".join)


plain_names = st.text(st.sampled_from("Nordmn AS-Ø&øÆ  "), max_size=14)
names = st.one_of(plain_names, st.text(st.sampled_from([*"Nordmn AS", *_TRICKY]), max_size=14))
#: Each field's usual values.
usual = {
    "first_name": st.just("Ola"),
    "last_name": st.just("Nordmann"),
    "address_line": st.just("Storgata 1"),
    "phone_number": st.one_of(
        st.sampled_from(["+4799999999", "+46 8 123 45 67", "040-123456", "(09) 1234"]),
        st.from_regex(r"\+?[0-9][0-9 ()\-]{3,20}", fullmatch=True),
    ),
    "email": st.one_of(
        st.sampled_from(["ola@nordmann.no", "a.b@c.se", "x@y.z.fi"]),
        st.from_regex(r"[a-zø.]{1,4}@[a-z.]{1,4}\.[a-z.]{1,3}", fullmatch=True),
    ),
    "business_name": st.one_of(plain_names, names),
    "customer_reference": st.one_of(st.just(""), plain_names, names),
    "postal_place": st.just("Oslo"),
}
#: Per country: its postal codes and organization numbers, as people write them.
by_country = {
    "NO": (["0151", "9990"], ["923609016", "923 609 016", "923.609.016", "123456789",
                              "NO 923609016 MVA", "923609016MVA"]),
    "SE": (["111 22", "11122"], ["556036-0793", "5560360793", "165560360793",
                                 "SE556036079301", "811228-9874", "811228+9874"]),
    "FI": (["00100"], ["0112038-9", "01120389", "FI01120389", "112038-9"]),
}  # fmt: skip


@st.composite
def addresses(draw: st.DrawFn) -> dict[str, Any]:
    """An address of usual values (mostly of one country), padded, some fields (often
    none) absent or garbage."""
    address = {name: draw(padded(values)) for name, values in usual.items()}
    country = draw(st.sampled_from(sorted(by_country)))
    postal, numbers = by_country[country]
    address["country"] = draw(padded(st.sampled_from([country] * 4 + ["no", "Se", "DK"])))
    address["postal_code"] = draw(padded(st.one_of(st.sampled_from(postal), digits(3, 6))))
    number = st.one_of(st.sampled_from(numbers), spelled_number())
    address["organization_number"] = draw(padded(number))
    for name in draw(st.lists(st.sampled_from(sorted(address)), max_size=3, unique=True)):
        address[name] = draw(st.one_of(st.none(), garbage))
    return {name: value for name, value in address.items() if value is not None}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(addresses(), st.sampled_from(PRODUCTS)), min_size=1, max_size=20),
    st.booleans(),
)
def test_plain_addresses_are_the_core_s_with_its_keys(rows, strict):
    plain_ones(rows, strict=strict)  # asserts row by row


# -- the guard -----------------------------------------------------------------------


def test_agrees_notices_another_key():
    found = recognize(frame([(nordmann_address(), GROUPED)] * 3))
    assert agrees(found)
    assert not agrees(found.with_columns(name=pl.lit("someone else")))


def test_should_the_core_disagree_every_address_takes_the_core_path(monkeypatch):
    monkeypatch.setattr(placing, "agrees", lambda *args, **kwargs: False)
    calls: list[int] = []
    core = placing.by_core

    def counting(addresses: Any, **kwargs: Any) -> Any:
        calls.append(addresses.height)
        return core(addresses, **kwargs)

    monkeypatch.setattr(placing, "by_core", counting)
    records = [
        nordmann_record("T1", "2025-01-31T23:30:00Z", 5000),
        nordmann_record("T2", "2025-02-01T10:00:00Z", 7000, business_name="NORDMANN  as"),
        nordmann_record("T3", "2025-02-02T10:00:00Z", 9000, business_name="Other AS"),
    ]
    plan = columnar.plan_frame(pl.DataFrame(records))
    assert plan == plan_invoices(records)
    assert calls == [3]  # all three distinct addresses, none of them plain any more
