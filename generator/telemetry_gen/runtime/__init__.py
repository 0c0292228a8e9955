"""The telemetry runtime shipped inside every generated package (standard library only).

Generated code imports from here; apps import the generated package's top level instead.
"""

from .checks import MISSING, copied, has_duplicates, unexpected_fields
from .client import Status, Telemetry, ViolationHook
from .commands import add_argparse_command, typer_app
from .consent import Gate, Level
from .envelope import check_envelope, make_envelope
from .errors import ConfigurationError, EventValidationError, TelemetryError, Violation
from .http import HttpSink
from .sentry import SentrySink
from .sinks import ConsoleSink, JsonlSink, MemorySink, Session, Sink
from .spec import AppInfo, Check, ContextSpec, EventSpec

__all__ = [
    "MISSING",
    "AppInfo",
    "Check",
    "ConfigurationError",
    "ConsoleSink",
    "ContextSpec",
    "EventSpec",
    "EventValidationError",
    "Gate",
    "HttpSink",
    "JsonlSink",
    "Level",
    "MemorySink",
    "SentrySink",
    "Session",
    "Sink",
    "Status",
    "Telemetry",
    "TelemetryError",
    "Violation",
    "ViolationHook",
    "add_argparse_command",
    "check_envelope",
    "copied",
    "has_duplicates",
    "make_envelope",
    "typer_app",
    "unexpected_fields",
]
