"""telemetry-gen: an event catalog (events.yaml) → JSON Schemas, typed emitters and docs."""

__version__ = "0.1.0"
