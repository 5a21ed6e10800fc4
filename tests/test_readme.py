"""Every example in README.md runs as written and shows what it prints.

The ```python blocks run in order in one namespace (the ledger example continues the first
one), in a temporary directory holding a copy of ``examples/``, so that the paths read
as from the repository root and what a block writes (``ledger.db``) lands outside the
checkout. An expression followed by ``# -> value`` (on its line or the next) must have
that ``repr`` (``...`` matches anything, as in doctests); a block followed by a ```text
block must print exactly that.

Each ```sh line that starts with ``kravia-schedule`` or ``python -m kravia_schedule`` runs
in-process through :func:`kravia_schedule.cli.main` from the repository root and must exit
with 0, or with the status its comment names (``# exit status 1``); ``< FILE`` feeds the
file to standard input. ``python -c`` lines run their code and must print the ```text
block that follows. ``make`` and ``pip`` lines are not run; any other line fails, so that
no command goes untested.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import io
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kravia_schedule import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
_EXPECT = "# -> "
_STATUS = re.compile(r"#.*\bexit status (\d+)")
_NOT_RUN = ("make ", "pip ")
_CHECKER = doctest.OutputChecker()
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, text, first line in the file, and the
    ```text block right after it (what it prints), if any."""

    lang: str
    text: str
    line: int
    output: str | None


def blocks(markdown: str) -> list[Block]:
    fences = list(_FENCE.finditer(markdown))
    found = []
    for i, fence in enumerate(fences):
        if fence.group(1) == "text":
            continue
        after = fences[i + 1] if i + 1 < len(fences) else None
        follows = (
            after is not None
            and after.group(1) == "text"
            and not markdown[fence.end() : after.start()].strip()
        )
        line = markdown.count("\n", 0, fence.start()) + 2  # the block's first code line
        output = after.group(2) if after is not None and follows else None
        found.append(Block(fence.group(1), fence.group(2), line, output))
    return found


def _matches(expected: str, actual: str) -> bool:
    return _CHECKER.check_output(expected.rstrip() + "\n", actual.rstrip() + "\n", _FLAGS)


def _expectations(lines: list[str], statement: ast.stmt) -> str | None:
    """The ``# -> value`` of a statement: on its last line, or on the next line alone."""
    assert statement.end_lineno is not None
    last = lines[statement.end_lineno - 1]
    if _EXPECT in last:
        return last.split(_EXPECT, 1)[1]
    following = lines[statement.end_lineno] if statement.end_lineno < len(lines) else ""
    if following.strip().startswith(_EXPECT):
        return following.strip()[len(_EXPECT) :]
    return None


def run_python(block: Block, namespace: dict[str, Any]) -> None:
    """Run ``block`` statement by statement in ``namespace``, checking each ``# ->`` value
    and, if the block has one, its printed output."""
    lines = block.text.splitlines()
    where = f"README.md:{block.line}"
    tree = ast.parse(block.text, filename=where)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for statement in tree.body:
            at = f"README.md:{block.line + statement.lineno - 1}"
            expected = _expectations(lines, statement)
            if expected is None:
                code = compile(ast.Module([statement], type_ignores=[]), at, "exec")
                exec(code, namespace)
                continue
            assert isinstance(statement, ast.Expr), f"{at}: '# ->' follows a non-expression"
            value = eval(compile(ast.Expression(statement.value), at, "eval"), namespace)
            assert _matches(expected, repr(value)), f"{at}: expected {expected}, got {value!r}"
    if block.output is not None:
        assert _matches(block.output, printed.getvalue()), (
            f"{where}: the block printed\n{printed.getvalue()}\nand the README shows\n"
            f"{block.output}"
        )


@dataclass(frozen=True)
class Command:
    line: int
    text: str
    output: str | None  # the block's ```text, for a block of one command


def commands(markdown: str) -> list[Command]:
    found = []
    for block in blocks(markdown):
        if block.lang != "sh":
            continue
        lines = [(i, t) for i, t in enumerate(block.text.splitlines()) if t.strip()]
        assert block.output is None or len(lines) == 1, (
            f"README.md:{block.line}: an output block must follow a single command"
        )
        found += [Command(block.line + i, text.strip(), block.output) for i, text in lines]
    return found


def test_the_readme_has_examples() -> None:
    markdown = README.read_text(encoding="utf-8")
    assert sum(b.lang == "python" for b in blocks(markdown)) >= 3
    assert len(commands(markdown)) >= 10


def test_python_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "readme"}
    for block in blocks(README.read_text(encoding="utf-8")):
        if block.lang == "python":
            run_python(block, namespace)


def run_command(
    command: Command, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run one README command line from the repository root and check its exit status
    and, if the README shows it, its output."""
    monkeypatch.chdir(ROOT)
    if command.text.startswith(_NOT_RUN):
        return
    words = shlex.split(command.text, comments=True)
    expected_status = int(m.group(1)) if (m := _STATUS.search(command.text)) else 0
    if words[:2] == ["python", "-c"]:
        assert len(words) == 3, command.text
        exec(compile(words[2], f"README.md:{command.line}", "exec"), {"__name__": "readme"})
        status: object = 0
    else:
        if words[0] == "kravia-schedule":
            argv = words[1:]
        elif words[:3] == ["python", "-m", "kravia_schedule"]:
            argv = words[3:]
        else:
            pytest.fail(f"README.md:{command.line}: a command this test does not run: {command}")
        if "<" in argv:
            at = argv.index("<")
            data = (ROOT / argv[at + 1]).read_bytes()
            argv = argv[:at] + argv[at + 2 :]
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        try:
            status = cli.main(argv)
        except SystemExit as stop:  # argparse: bad arguments, --help
            status = stop.code
    out, err = capsys.readouterr()
    assert status == expected_status, f"README.md:{command.line}: exit status {status}\n{err}"
    assert "Traceback" not in err
    if command.output is not None:
        assert _matches(command.output, out), f"README.md:{command.line} printed\n{out}"


@pytest.mark.parametrize(
    "command",
    commands(README.read_text(encoding="utf-8")),
    ids=lambda command: f"README.md:{command.line}",
)
def test_sh_commands(
    command: Command, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_command(command, monkeypatch, capsys)


def test_the_layout_names_every_module() -> None:
    """The README's Layout section lists every module and package of the tree."""
    layout = README.read_text(encoding="utf-8").split("## Layout", 1)[1].split("\n## ", 1)[0]
    package = ROOT / "kravia_schedule"
    names = {path: path.name for path in package.iterdir() if path.suffix in {".py", ".typed"}}
    for folder in (path for path in package.iterdir() if (path / "__init__.py").exists()):
        names[folder] = folder.name + "/"
        names |= {path: path.stem for path in folder.glob("*.py") if path.stem != "__init__"}
    missing = [
        str(path.relative_to(ROOT))
        for path, name in sorted(names.items())
        if not re.search(rf"(?<![\w/.]){re.escape(name)}(?!\w)", layout)
    ]
    assert not missing, f"README.md's Layout does not mention {missing}"


# -- the checks above can fail -------------------------------------------------------

_BROKEN = """
```python
x = 2 + 2
x  # -> 4
```

```python
print(x * 10)
```

```text
40
```
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("x  # -> 4", "x  # -> 5", "expected 5"),
        ("print(x * 10)", "print(x * 11)", "the block printed"),
        ("x = 2 + 2", "y = 2 + 2", "name 'x' is not defined"),
    ],
)
def test_a_broken_example_fails(old: str, new: str, message: str) -> None:
    run_all(_BROKEN)  # as written, it passes
    with pytest.raises((AssertionError, NameError), match=message):
        run_all(_BROKEN.replace(old, new))


def run_all(markdown: str) -> None:
    namespace: dict[str, Any] = {}
    for block in blocks(markdown):
        run_python(block, namespace)


@pytest.mark.parametrize(
    ("text", "output"),
    [
        ("kravia-schedule reference kid 1234567 --mod 11  # exit status 1", None),
        ("kravia-schedule check-id NO", None),  # argparse exits 2
        ("kravia-schedule plan - --strict < examples/purchases.jsonl", None),  # exits 1
        ("kravia-schedule reference kid 1234567 --mod 11", "1234567-"),
        ('python -c "print(1)"', "2"),
        ("cat examples/config.json", None),
    ],
)
def test_a_wrong_command_fails(
    text: str,
    output: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        run_command(Command(1, text, output), monkeypatch, capsys)


def test_a_right_command_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = "kravia-schedule reference kid 1234567 --mod 11"
    run_command(Command(1, reference, "12345674"), monkeypatch, capsys)
    strict = "kravia-schedule plan - --strict < examples/purchases.jsonl  # exit status 1"
    run_command(Command(2, strict, None), monkeypatch, capsys)
