"""The package's layers import one way: defs/ -> lib/, local/ -> lib/; lib/ is plain code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "analytics_platform"
# For each layer, the packages it must never import.
FORBIDDEN = {
    "lib": ("analytics_platform.defs", "analytics_platform.local", "analytics_platform.cli"),
    "local": ("analytics_platform.defs", "analytics_platform.cli"),
    "defs": ("analytics_platform.cli", "analytics_platform.local"),
}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_never_imports_the_layers_above_it(layer):
    offending = [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for module in sorted(imported_modules(path))
        if module.startswith(FORBIDDEN[layer])
    ]
    assert not offending, "\n".join(offending)


def test_no_module_of_the_package_is_much_over_400_lines_without_a_reason():
    # The sample-data builder of the e-commerce domain is one long table of realistic values
    # and their dirt; everything else stays small.
    allowed = {"local/sample_data/ecommerce.py"}
    long = [
        f"{path.relative_to(PACKAGE)}: {len(path.read_text().splitlines())} lines"
        for path in sorted(PACKAGE.rglob("*.py"))
        if len(path.read_text().splitlines()) > 450
        and str(path.relative_to(PACKAGE)) not in allowed
    ]
    assert not long, "\n".join(long)
