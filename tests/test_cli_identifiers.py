"""The check-id and reference commands, on a parser built the way cli.py builds its own."""

from __future__ import annotations

import argparse

import pytest

from kravia_schedule.cli_identifiers import add_commands


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="kravia-schedule")
    commands = parser.add_subparsers(dest="command", required=True)
    add_commands(commands)
    args = parser.parse_args(list(argv))
    status: int = args.run(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def fields(out: str) -> dict[str, str]:
    """The ``label: value`` lines of check-id, stripped."""
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines())}


# --- check-id -----------------------------------------------------------------------


def test_check_id_norway(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "check-id", "NO", "NO 923 609 016 MVA")
    assert status == 0
    assert err == ""
    assert fields(out) == {
        "country": "NO",
        "canonical": "923609016",
        "formatted": "923 609 016",
        "check digit": "holds",
    }


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("556036-0793", "organization"),
        ("811228+9874", "personnummer"),
        ("701063-2391", "samordningsnummer"),
    ],
)
def test_check_id_sweden_shows_kind(
    capsys: pytest.CaptureFixture[str], number: str, kind: str
) -> None:
    status, out, _ = run(capsys, "check-id", "se", number, "--strict")
    assert status == 0
    shown = fields(out)
    assert shown["country"] == "SE"
    assert shown["kind"] == kind
    assert shown["check digit"] == "holds"
    assert shown["formatted"] == number[:6] + "-" + number[7:]


def test_check_id_finland(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "check-id", "FI", "FI01120389")
    assert status == 0
    assert fields(out)["canonical"] == "0112038-9"
    assert "kind" not in fields(out)


def test_check_id_failing_check_digit_without_strict_is_reported_not_fatal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "check-id", "NO", "123456789")
    assert status == 0
    check = fields(out)["check digit"]
    assert check.startswith("fails: ")
    assert "MOD11" in check
    assert check.endswith("(not required without --strict)")


def test_check_id_failing_check_digit_with_strict_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(capsys, "check-id", "NO", "123456789", "--strict")
    assert status == 1
    assert out == ""
    assert "invalid NO organization number" in err
    assert "MOD11" in err


def test_check_id_personnummer_date_with_strict(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "check-id", "SE", "811328-9873", "--strict")
    assert status == 1
    assert "not a real date" in err


def test_check_id_malformed_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "check-id", "SE", "55603607")
    assert status == 1
    assert out == ""
    assert "must have 10 or 12 digits, got 8" in err


def test_check_id_unknown_country_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(capsys, "check-id", "DK", "12345678")
    assert exit_info.value.code == 2
    assert "invalid choice: 'DK'" in capsys.readouterr().err


# --- reference ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["kid", "1234"], "12344"),
        (["kid", "1234", "--mod", "10"], "12344"),
        (["kid", "1234567", "--mod", "11"], "12345674"),
        (["kid", "1009", "--mod", "11"], "1009-"),
        (["ocr", "1234"], "12344"),
        (["ocr-length", "1234"], "123463"),
        (["fi", "123"], "1232"),
        (["rf", "539007547034"], "RF18539007547034"),
        (["RF", "2348236"], "RF332348236"),
    ],
)
def test_reference_generates(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    status, out, err = run(capsys, "reference", *argv)
    assert status == 0
    assert err == ""
    assert out == expected + "\n"


@pytest.mark.parametrize(
    ("argv", "label"),
    [
        (["kid", "12344"], "KID (MOD10)"),
        (["kid", "1009-", "--mod", "11"], "KID (MOD11)"),
        (["ocr-length", "123463"], "OCR number with length digit"),
        (["fi", "12 34561"], "Finnish reference number"),
        (["rf", "RF18 5390 0754 7034"], "RF creditor reference"),
    ],
)
def test_reference_check_valid(
    capsys: pytest.CaptureFixture[str], argv: list[str], label: str
) -> None:
    status, out, _ = run(capsys, "reference", *argv, "--check")
    assert status == 0
    canonical = out.split(":")[0]
    assert out == f"{canonical}: valid {label}\n"
    assert " " not in canonical


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["kid", "12343"], "fails its MOD10 check digit"),
        (["kid", "12344", "--mod", "11"], "fails its MOD11 check digit"),
        (["ocr-length", "12344"], "length digit"),
        (["fi", "1233"], "7-3-1"),
        (["rf", "RF9936"], "02-98"),
    ],
)
def test_reference_check_invalid_exits_1(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = run(capsys, "reference", *argv, "--check")
    assert status == 1
    assert out == ""
    assert err.startswith("kravia-schedule: invalid ")
    assert message in err


def test_reference_invalid_base_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "reference", "fi", "0123")
    assert status == 1
    assert out == ""
    assert "cannot generate" in err
    assert "must not start with 0" in err


def test_reference_mod_only_for_kid(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "reference", "ocr", "1234", "--mod", "11")
    assert status == 2
    assert out == ""
    assert "--mod applies to kid only" in err


@pytest.mark.parametrize("argv", [["iban", "1234"], ["kid", "1234", "--mod", "12"]])
def test_reference_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(capsys, "reference", *argv)
    assert exit_info.value.code == 2
