"""Deterministic synthetic landing data: see `analytics_platform.local.sample_data.generator`."""
