"""Deterministic synthetic landing data (see ``analytics_platform.sample_data.generator``).

The names are imported lazily so that ``python -m analytics_platform.sample_data.generator``
does not import the generator module twice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analytics_platform.sample_data.generator import (
        COLUMNS,
        DATASETS,
        LandingFile,
        SampleSpec,
        generate_landing_files,
        main,
        upload_landing_files,
        write_landing_files,
    )

__all__ = [
    "COLUMNS",
    "DATASETS",
    "LandingFile",
    "SampleSpec",
    "generate_landing_files",
    "main",
    "upload_landing_files",
    "write_landing_files",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        module = importlib.import_module("analytics_platform.sample_data.generator")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
