"""Deterministic synthetic landing data: see `analytics_platform.sample_data.generator`."""
