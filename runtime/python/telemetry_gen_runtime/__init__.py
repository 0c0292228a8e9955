"""telemetry-gen's runtime: what the generated telemetry packages run on (standard library only).

Generated packages import it and declare it as their only dependency; apps import their own
generated package's top level instead. Everything public is listed in `__all__`; the modules
behind it are private. The toolkit (`telemetry-gen`) uses the same names: the envelope's keys and
patterns, the GET form's names and the version order.
"""

from .checks import MISSING, copied, has_duplicates, unexpected_fields
from .client import Status, Telemetry, ViolationHook
from .commands import add_argparse_command, typer_app
from .consent import Gate, Level
from .envelope import (
    ENVELOPE_KEYS,
    EVENT_ID_PATTERN,
    TIMESTAMP_MAX_LENGTH,
    TIMESTAMP_PATTERN,
    check_envelope,
    make_envelope,
    utc_timestamp,
)
from .errors import ConfigurationError, EventValidationError, TelemetryError, Violation
from .expiry import version_key
from .http import CONTEXT_PREFIX, GET_FORM_KEYS, HttpSink
from .reports import Report
from .sentry import SentrySink
from .sinks import ConsoleSink, JsonlSink, MemorySink, Session, Sink
from .spec import AppInfo, Check, ContextSpec, EventSpec
from .storage import read_json, write_json

# The runtime's own version. A generated package accepts the releases of its minor version
# (`telemetry-gen-runtime~=X.Y.0`) and checks this at import.
__version__ = "0.1.0"

__all__ = [
    "CONTEXT_PREFIX",
    "ENVELOPE_KEYS",
    "EVENT_ID_PATTERN",
    "GET_FORM_KEYS",
    "MISSING",
    "TIMESTAMP_MAX_LENGTH",
    "TIMESTAMP_PATTERN",
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
    "Report",
    "SentrySink",
    "Session",
    "Sink",
    "Status",
    "Telemetry",
    "TelemetryError",
    "Violation",
    "ViolationHook",
    "__version__",
    "add_argparse_command",
    "check_envelope",
    "copied",
    "has_duplicates",
    "make_envelope",
    "read_json",
    "typer_app",
    "unexpected_fields",
    "utc_timestamp",
    "version_key",
    "write_json",
]
