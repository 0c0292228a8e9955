"""The telemetry runtime shipped inside every generated package (standard library only).

Generated code imports from here; apps import the generated package's top level instead.
"""

from .client import Status, Telemetry, ViolationHook
from .commands import add_argparse_command, typer_app
from .consent import Gate, Level
from .envelope import check_envelope, make_envelope
from .errors import ConfigurationError, EventValidationError, TelemetryError
from .http import HttpSink
from .sentry import SentrySink
from .sinks import ConsoleSink, JsonlSink, MemorySink, Session, Sink
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
    "ViolationHook",
    "add_argparse_command",
    "check_envelope",
    "make_envelope",
    "typer_app",
]
