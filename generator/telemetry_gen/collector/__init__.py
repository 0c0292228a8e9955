"""The receiving side: a local collector (`collect`), a summary of what it stored (`report`) and a
check of a captured event stream against the catalog (`live-check`).

The collector and live-check validate with the very checks the runtime runs before sending:
`check_envelope` and the validators `telemetry-gen build` generates, rendered in memory (see
`schemas.py` and `checks.py`), so an event the runtime accepts is an event the collector accepts.
"""
