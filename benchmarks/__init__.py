"""Benchmarks: telemetry-gen against what apps would otherwise use, in one run (`python -m benchmarks`).

Each part runs in its own process and prints one JSON line; `benchmarks.run` gathers them into
the results table. Parts that measure other libraries run in `benchmarks/.venv-compare`, a venv
the run creates with the pinned versions in `requirements-compare.txt`.
"""
