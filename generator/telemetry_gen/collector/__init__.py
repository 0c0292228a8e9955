"""The receiving side: a local collector (`collect`), a summary of what it stored (`report`) and a
check of a captured event stream against the catalog (`live-check`).

All three validate with `jsonschema` on the very schemas `telemetry-gen build` writes (see
`schemas.py`), so an event the runtime accepts is an event the collector accepts.
"""
