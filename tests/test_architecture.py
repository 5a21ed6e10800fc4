"""The package's boundaries: each module keeps its underscore names to itself, and the
rules the engines share are written in :mod:`kravia_schedule.rules` alone."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import kravia_schedule

PACKAGE = Path(kravia_schedule.__file__).parent


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


#: The package's module names, as a module imported whole is named in code.
_MODULE_NAMES = {path.stem for path in _modules()} - {"__init__", "__main__"}


def test_no_module_imports_another_modules_underscore_names() -> None:
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "kravia_schedule"
            ):
                found += [f"{path.name}: {a.name}" for a in node.names if _private(a.name)]
            # ``module._name`` on a module of the package imported as a whole
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and isinstance(node.value, ast.Name)
                and node.value.id in _MODULE_NAMES
            ):
                found.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert found == []


def test_the_check_sees_a_private_import() -> None:
    tree = ast.parse("from kravia_schedule.planning import _Planner")
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert [n for n in names if _private(n)] == ["_Planner"]


# Literal spellings of shared decisions that belong to rules.py alone: the invoice ids'
# prefixes and digest, the status sets, the address patterns.
_RULE_TEXTS = [
    r'"G-',
    r'"S-',
    r"blake2b\(digest_size=8\)",
    r"STANDARD_INVOICED(:[^=\n]*)?\s*=",
    r"GROUPED_INVOICED(:[^=\n]*)?\s*=",
    r"\[\^@\\s\]\+@",
    r"\{4,19\}",
    r'\\x1f"',
]


def test_shared_rules_are_written_only_in_rules() -> None:
    found = []
    for path in _modules():
        if path.name == "rules.py":
            continue
        text = path.read_text()
        found += [f"{path.relative_to(PACKAGE)}: {p}" for p in _RULE_TEXTS if re.search(p, text)]
    assert found == []


def test_each_rule_text_is_in_rules() -> None:
    text = (PACKAGE / "rules.py").read_text()
    assert [p for p in _RULE_TEXTS if not re.search(p, text)] == []
