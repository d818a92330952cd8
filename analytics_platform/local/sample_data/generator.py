"""Kept for `analytics_platform/cli.py` (seed_landing_bucket), which imports from here: the
package `analytics_platform.local.sample_data` is the API, `python -m
analytics_platform.local.sample_data` the command. Import from the package instead."""

from analytics_platform.local.sample_data import (  # noqa: F401
    LandingFile,
    SampleSpec,
    generate_landing_files,
    upload_landing_files,
    write_landing_files,
)
from analytics_platform.local.sample_data.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
