"""Benchmark suite of the analytics platform (`make bench`, `make bench-smoke`).

Entry point: ``python -m benchmarks.run [--smoke] [--only NAME ...]``. Each benchmark is one
module exposing ``run(ctx) -> list[Figure]``; `benchmarks.run` times them, prints the machine,
writes ``benchmarks/results/<date>.json`` and regenerates the table in ``BENCHMARKS.md``.

Benchmarks are not tests: nothing here runs in ``make test`` except the smoke mode
(``analytics_platform_tests/test_bench_smoke.py``), which only keeps the harness working.
"""
