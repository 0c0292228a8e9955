"""The telemetry runtime shipped inside every generated package (standard library only).

Generated code imports from here; apps import the generated package's top level instead.
"""

from .client import Status, Telemetry, ViolationHook
from .consent import Gate, Level
from .envelope import check_envelope, make_envelope
from .errors import ConfigurationError, EventValidationError, TelemetryError
from .sentry import SentrySink
from .sinks import ConsoleSink, JsonlSink, MemorySink, Sink
from .spec import AppInfo, Check, ContextSpec, EventSpec

__all__ = [
    "AppInfo",
    "Check",
    "ConfigurationError",
    "ConsoleSink",
    "ContextSpec",
    "EventSpec",
    "EventValidationError",
    "Gate",
    "JsonlSink",
    "Level",
    "MemorySink",
    "SentrySink",
    "Sink",
    "Status",
    "Telemetry",
    "TelemetryError",
    "ViolationHook",
    "check_envelope",
    "make_envelope",
]
