"""Bank-day calendars and the statutory due-date roll, hand-checked per country."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given

from kravia_schedule import (
    BusinessCalendar,
    CalendarKind,
    KraviaConfig,
    ProductConfig,
    grouped_invoice_dates,
    plan_invoices,
    standard_invoice_dates,
)
from kravia_schedule.cli import main
from kravia_schedule.statutory import PAYMENT_RULES, last_on_time_payment_date
from kravia_schedule.testing import countries, local_dates

# -- bank days -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "day", "public_open", "bank_open"),
    [
        ("NO", date(2025, 12, 24), True, False),  # Christmas Eve (Wed): NBO closed
        ("NO", date(2025, 12, 31), True, True),  # New Year's Eve: NBO open
        ("SE", date(2025, 12, 24), True, False),  # de-facto holiday
        ("SE", date(2025, 12, 31), True, False),  # de-facto holiday
        ("SE", date(2025, 6, 20), True, False),  # Midsummer Eve (Fri)
        ("SE", date(2025, 4, 30), True, True),  # Walpurgis Night "from 2 pm": a bank day
        ("SE", date(2025, 4, 17), True, True),  # Maundy Thursday "from 2 pm": a bank day
        ("FI", date(2025, 12, 24), False, False),  # a public holiday in Finland already
        ("FI", date(2025, 6, 20), False, False),  # Midsummer Eve, public in Finland
        ("FI", date(2025, 12, 31), True, True),
    ],
)
def test_bank_days(country, day, public_open, bank_open):
    assert BusinessCalendar(country).is_business_day(day) is public_open
    assert BusinessCalendar(country, kind="bank").is_business_day(day) is bank_open


def test_norwegian_bank_calendar_names_christmas_eve():
    calendar = BusinessCalendar("NO", kind=CalendarKind.BANK)
    assert calendar.holiday_name(date(2026, 12, 24)) == "Christmas Eve"
    assert [str(d) for d in calendar.explain(date(2026, 12, 24))] == [
        "2026-12-24 Thu: Christmas Eve",
        "2026-12-25 Fri: Christmas Day",
        "2026-12-26 Sat: Second Day of Christmas (Saturday)",
        "2026-12-27 Sun: Sunday",
    ]


def test_bank_issue_dates_differ_from_public_ones_only_on_eves():
    # Monthly November 2025 in Sweden: 1 Dec is a Monday either way.
    public = grouped_invoice_dates(date(2025, 11, 5), country="SE")
    bank = grouped_invoice_dates(
        date(2025, 11, 5), country="SE", calendar=BusinessCalendar("SE", kind="bank")
    )
    assert public.issue_date == bank.issue_date == date(2025, 12, 1)


def test_calendar_kinds_are_distinct_calendars():
    assert BusinessCalendar("NO") != BusinessCalendar("NO", kind="bank")
    assert repr(BusinessCalendar("NO", kind="bank")) == "BusinessCalendar('NO', kind='bank')"
    with pytest.raises(ValueError, match="weekly"):
        BusinessCalendar("NO", kind="weekly")


# -- the statutory roll -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "due", "last_on_time"),
    [
        ("NO", date(2025, 5, 17), date(2025, 5, 19)),  # Sat, Constitution Day -> Mon
        ("NO", date(2025, 5, 1), date(2025, 5, 2)),  # Thu 1 May -> Fri
        ("NO", date(2025, 12, 24), date(2025, 12, 24)),  # Christmas Eve counts in Norway
        ("NO", date(2025, 12, 31), date(2025, 12, 31)),
        ("NO", date(2021, 4, 1), date(2021, 4, 6)),  # Maundy Thursday .. Easter Monday
        ("SE", date(2025, 12, 31), date(2026, 1, 2)),  # New Year's Eve, New Year's Day
        ("SE", date(2025, 6, 20), date(2025, 6, 23)),  # Midsummer Eve, Day, Sunday
        ("SE", date(2025, 12, 24), date(2025, 12, 29)),  # Eve, 25, 26, weekend
        ("SE", date(2025, 4, 17), date(2025, 4, 17)),  # Maundy Thursday counts in Sweden
        ("FI", date(2025, 12, 6), date(2025, 12, 8)),  # Independence Day (Sat)
        ("FI", date(2025, 12, 24), date(2025, 12, 29)),
        ("FI", date(2026, 5, 1), date(2026, 5, 4)),  # May Day (Fri)
        ("FI", date(2026, 6, 19), date(2026, 6, 22)),  # Midsummer Eve (Fri)
        ("FI", date(2025, 12, 31), date(2025, 12, 31)),
    ],
)
def test_last_on_time_payment_date(country, due, last_on_time):
    deadline = last_on_time_payment_date(due, country)
    assert deadline.due_date == due
    assert deadline.last_on_time == last_on_time
    assert len(deadline.skipped) == (last_on_time - due).days
    assert deadline.rule is PAYMENT_RULES[deadline.rule.country]


def test_explanation_names_the_rule():
    deadline = last_on_time_payment_date(date(2025, 5, 17), "NO")
    assert deadline.explain() == (
        "2025-05-19 (gjeldsbrevloven § 5: moved past 17 May Constitution Day (Saturday), "
        "18 May Sunday)"
    )
    assert last_on_time_payment_date(date(2025, 5, 16), "NO").explain() == (
        "2025-05-16 (the due date itself)"
    )
    assert str(PAYMENT_RULES[last_on_time_payment_date(date(2025, 1, 1), "FI").rule.country])
    assert "skuldebrevslagen 5 §" in str(PAYMENT_RULES[BusinessCalendar("SE").country])


@given(local_dates(), countries())
def test_roll_never_moves_back_and_lands_on_the_first_day_that_counts(due, country):
    deadline = last_on_time_payment_date(due, country)
    counts = BusinessCalendar(country, kind="payment").is_business_day
    assert deadline.last_on_time >= due
    assert counts(deadline.last_on_time)
    day = due
    while day < deadline.last_on_time:
        assert not counts(day)
        day += timedelta(days=1)


def test_invoice_dates_carry_the_deadline():
    dates = standard_invoice_dates(date(2025, 12, 10), country="SE", days_until_due=21)
    assert dates.due_date == date(2025, 12, 31)
    assert dates.last_on_time_payment_date == date(2026, 1, 2)
    grouped = grouped_invoice_dates(date(2025, 4, 10), country="NO", days_until_due=14)
    assert grouped.due_date == grouped.last_on_time_payment_date == date(2025, 5, 16)


def test_deadline_beyond_the_holiday_data_is_unknown_not_guessed():
    dates = standard_invoice_dates(date(2100, 12, 20), country="NO", days_until_due=14)
    assert dates.due_date == date(2101, 1, 3)
    assert dates.payment_deadline is None
    assert dates.last_on_time_payment_date is None


def test_plan_invoices_carry_the_deadline_and_bank_calendar(tmp_path, capsys):
    record = {
        "id": "T1", "created_at": "2025-11-05T10:00:00+01:00", "amount": 1000,
        "vat_amount": 200, "currency": "SEK", "status": "AUTHORIZED",
        "payment_product_type": "kravia.invoice_b2b_grouped",
        "billing_address": {
            "first_name": "Anna", "last_name": "Svensson", "business_name": "Svensson AB",
            "organization_number": "5560360793", "email": "anna@example.se",
            "phone_number": "+46701234567", "address_line": "Sveavägen 1",
            "postal_code": "111 57", "country": "SE",
        },
    }  # fmt: skip
    config = KraviaConfig(invoice_b2b_grouped=ProductConfig(True, days_until_due=30))
    (invoice,) = plan_invoices([record], config, calendar_kind="bank").invoices
    assert invoice.issue_date == date(2025, 12, 1)
    assert invoice.due_date == date(2025, 12, 31)
    assert invoice.last_on_time_payment_date == date(2026, 1, 2)
    source = tmp_path / "p.jsonl"
    source.write_text(json.dumps(record) + "\n")
    assert (
        main(
            [
                "plan",
                str(source),
                "--days-until-due",
                "30",
                "--format",
                "json",
                "--calendar",
                "bank",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["invoices"][0]["last_on_time_payment_date"] == "2026-01-02"
    assert out["invoices"][0]["payment_rule"] == "skuldebrevslagen 5 §"
    assert out["computed_with"]["calendar_kind"] == "bank"
    assert out["computed_with"]["holiday_categories"]["SE"] == ["public", "de_facto"]


# -- payment-term warnings --------------------------------------------------------------


def test_b2b_terms_over_60_days_warn_but_are_allowed():
    config = KraviaConfig(
        invoice_b2b=ProductConfig(True, days_until_due=61),
        invoice_b2b_grouped=ProductConfig(True, days_until_due=60),
        invoice_b2c=ProductConfig(True, days_until_due=90),
    )
    (warning,) = config.warnings()
    assert warning.path == "kravia.invoice_b2b.days_until_due"
    assert "61 days exceeds the 60 days" in warning.message
    assert KraviaConfig(invoice_b2b=ProductConfig(False, days_until_due=90)).warnings() == ()
    assert plan_invoices([], config).warnings == config.warnings()


def test_cli_prints_warnings(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(
        '{"kravia": {"invoice_b2b_grouped": {"enabled": true, "days_until_due": 90}}}'
    )
    assert main(["check-config", str(config)]) == 0
    assert "warning: kravia.invoice_b2b_grouped.days_until_due" in capsys.readouterr().err
    assert main(["dates", "2025-12-10", "--country", "NO", "--days-until-due", "90"]) == 0
    captured = capsys.readouterr()
    assert "exceeds the 60 days" in captured.err
    # issued Fri 2 Jan 2026, due 90 days later on Maundy Thursday (Easter 2026: 5 April)
    assert "due date:       2026-04-02 (Thursday)" in captured.out
    assert (
        "last on-time payment: 2026-04-07 (gjeldsbrevloven § 5: moved past 2 Apr Maundy "
        "Thursday, 3 Apr Good Friday, 4 Apr Saturday, 5 Apr Easter Sunday (Sunday), "
        "6 Apr Easter Monday)"
    ) in captured.out


def test_cli_dates_cites_the_rule_and_uses_the_bank_calendar(capsys):
    assert (
        main(["dates", "2025-12-10", "--country", "SE", "--standard", "--days-until-due", "21"])
        == 0
    )
    assert (
        "last on-time payment: 2026-01-02 (skuldebrevslagen 5 §: moved past 31 Dec "
        "New Year's Eve, 1 Jan New Year's Day)"
    ) in capsys.readouterr().out
    assert main(["calendar", "2026", "--country", "NO", "--calendar", "bank"]) == 0
    assert "2026-11  issued 2026-12-01 Tue" in capsys.readouterr().out
    assert main(["dates", "2100-12-20", "--country", "NO", "--standard"]) == 0
    assert "last on-time payment: unknown" in capsys.readouterr().out
