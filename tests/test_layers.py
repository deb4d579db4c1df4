"""The layers import only downwards (docs/ARCHITECTURE.md): a change of direction is an import
cycle waiting to happen, and the core must stay usable without the layers above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mibao_desktop"

# package → the MiBao packages and modules it may not import
FORBIDDEN = {
    "ledgers": ("db", "services", "excel", "printing", "ui", "storage", "security"),
    "security": ("db", "services", "excel", "printing", "ui", "storage", "ledgers"),
    "db": ("services", "excel", "printing", "ui"),
    "services": ("excel", "ui"),  # the print service renders through printing's pure drawing code
    "storage": ("excel", "printing", "ui"),
    "excel": ("ui",),
    "printing": ("ui", "excel", "services", "db", "storage"),
}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mibao_desktop"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("mibao_desktop"))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(package):
    wrong = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue  # revisions are written out, not the declarations' users
        for name in imports(path):
            parts = name.split(".")
            if len(parts) > 1 and parts[1] in FORBIDDEN[package]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert wrong == []
