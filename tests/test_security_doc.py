"""docs/security.md cites tests as `path::function` to show each safeguard; every one it
cites must exist, so the page cannot point at a test that was renamed or removed."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "security.md"
REFERENCE = re.compile(r"`([\w./-]+\.py)::(test_\w+)`")


def _defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_every_test_the_security_page_cites_exists():
    references = REFERENCE.findall(PAGE.read_text(encoding="utf-8"))
    missing = []
    for path, name in references:
        module = ROOT / path
        if not module.is_file():
            missing.append(f"{path} (no such file)")
        elif name not in _defined_tests(module):
            missing.append(f"{path}::{name}")

    assert len(references) > 20, "the page should cite its tests as `path::test_name`"
    assert missing == [], "docs/security.md cites tests that do not exist"
