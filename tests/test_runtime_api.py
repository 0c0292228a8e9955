"""The runtime's public API: what `telemetry_gen_runtime` exports is a fixed list, and the toolkit,
the collector and generated code use only that list (plus the `testing` module)."""

from __future__ import annotations

import ast
from pathlib import Path

import telemetry_gen_runtime

from conftest import GENERATED, REPO

PUBLIC = [
    "AppInfo",
    "CONTEXT_PREFIX",
    "Check",
    "ConfigurationError",
    "ConsoleSink",
    "ContextSpec",
    "ENVELOPE_KEYS",
    "EVENT_ID_PATTERN",
    "EventSpec",
    "EventValidationError",
    "GET_FORM_KEYS",
    "Gate",
    "HttpSink",
    "JsonlSink",
    "Level",
    "MISSING",
    "MemorySink",
    "Report",
    "SentrySink",
    "Session",
    "Sink",
    "Status",
    "TIMESTAMP_MAX_LENGTH",
    "TIMESTAMP_PATTERN",
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


def test_the_public_api_is_the_documented_list() -> None:
    assert sorted(telemetry_gen_runtime.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert hasattr(telemetry_gen_runtime, name), name
    readme = (REPO / "runtime" / "python" / "README.md").read_text("utf-8")
    for name in PUBLIC:
        assert f"`{name}`" in readme or name == "__version__", f"{name} is not documented in the runtime's README"


def _imports(root: Path) -> list[tuple[Path, str, list[str]]]:
    """Every `from telemetry_gen_runtime... import names` below `root`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("telemetry_gen_runtime"):
                found.append((path, node.module or "", [alias.name for alias in node.names]))
    return found


def test_toolkit_and_generated_code_use_only_public_names() -> None:
    uses = _imports(REPO / "generator" / "telemetry_gen") + _imports(GENERATED / "python")
    assert uses, "nothing imports the runtime: the scan is broken"
    for path, module, names in uses:
        assert module in ("telemetry_gen_runtime", "telemetry_gen_runtime.testing"), (path, module)
        if module == "telemetry_gen_runtime":
            assert set(names) <= set(PUBLIC), (path, sorted(set(names) - set(PUBLIC)))


def test_the_runtime_never_imports_the_toolkit() -> None:
    for path in sorted((REPO / "runtime" / "python" / "telemetry_gen_runtime").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(m == "telemetry_gen" or m.startswith("telemetry_gen.") for m in modules), path
