"""docs/CONTRACTS.md holds exactly the rendering of the dataset declarations between its markers.

After changing a declaration (dbt sources YAML), rewrite it with
`UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest analytics_platform_tests/test_contracts_doc.py`.
"""

from __future__ import annotations

import os

from analytics_platform.lib.contracts_doc import (
    generated_section,
    render_contracts_markdown,
    replace_generated_section,
)

from .helpers import REPO_ROOT, declared_datasets

CONTRACTS = REPO_ROOT / "docs" / "CONTRACTS.md"


def test_contracts_doc_is_the_rendering_of_the_declarations():
    rendering = render_contracts_markdown(declared_datasets())
    document = CONTRACTS.read_text()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        document = replace_generated_section(document, rendering)
        CONTRACTS.write_text(document)
    assert generated_section(document) == rendering, (
        "docs/CONTRACTS.md is out of date with the dataset declarations: run with UPDATE_SNAPSHOTS=1"
    )
    assert "| order_id | VARCHAR | yes |" in rendering and "`raw_ecommerce.orders`" in rendering
