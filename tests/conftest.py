"""Shared helpers: build catalogs from text, import what they generate, run the CLI."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from local_clickhouse import MISSING, ClickHouse
from typer.testing import CliRunner

from telemetry_gen import build
from telemetry_gen.build import check_catalog, render_all
from telemetry_gen.catalog import parse_catalog
from telemetry_gen.catalog.model import (
    ArrayType,
    BooleanType,
    Catalog,
    EnumType,
    Field,
    NumericType,
    ObjectType,
    StringType,
    ValueType,
)
from telemetry_gen.cli import app
from telemetry_gen.targets import jsonschema as schema_target
from telemetry_gen.targets.common import GeneratedFile
from telemetry_gen.targets.python import parameter_name
from telemetry_gen.write import write_tree

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GENERATED = REPO / "generated"  # the example catalog's committed build
# A hardware-wallet app's catalog: nested event names, lowerCamelCase wire names.
HARDWARE_WALLET = REPO / "examples" / "hardware-wallet" / "events.yaml"
EXAMPLE_PACKAGE = "vigilant_trader_telemetry"

MINIMAL_CATALOG = """\
catalog_format: 1
app:
  name: demo-app
  title: Demo App
  package: demo_app_telemetry
  version: "1.0"
  domains: [app]
never_collected:
  - Passwords
events:
  app/started:
    description: The app started; counts active installations.
    trigger: Once per process, after start-up.
    category: usage
    owner: core-team
    since: "1.0"
    fields:
      mode:
        type: enum
        values: [cli, gui]
        description: How the app was started.
        privacy: interaction
        required: true
"""

# The minimal catalog and two events that expire: one with an app version, one on a date.
EXPIRING = (
    MINIMAL_CATALOG
    + """\
  app/legacy-started:
    description: The old start event, kept until every app has moved on.
    trigger: Once per process, after start-up.
    category: usage
    owner: core-team
    since: "1.0"
    expires: app:2.0
  app/trial-shown:
    description: The trial banner was shown; an experiment that ends.
    trigger: When the banner appears.
    category: usage
    owner: core-team
    since: "1.0"
    expires: "2030-06-30"
"""
)


def catalog_from_text(text: str, file: str = "events.yaml") -> Catalog:
    """The model of a catalog that must be valid; fails the test with its diagnostics otherwise."""
    catalog, diagnostics = parse_catalog(textwrap.dedent(text), file)
    assert catalog is not None, "\n".join(d.render() for d in diagnostics)
    return catalog


def assert_valid_schemas(files: list[GeneratedFile]) -> None:
    """Every JSON Schema among `files`, as written, is a valid Draft 2020-12 schema."""
    for file in files:
        if file.path.startswith("schemas/"):
            jsonschema.Draft202012Validator.check_schema(json.loads(file.content))


def render_text(text: str) -> list[GeneratedFile]:
    return render_all(catalog_from_text(text))


def build_text(text: str, out: Path) -> Catalog:
    """Build a valid catalog's outputs into `out`."""
    catalog = catalog_from_text(text)
    write_tree(render_all(catalog), out)
    return catalog


def import_generated(out: Path, package: str) -> ModuleType:
    """Import a freshly generated package, forgetting any earlier one of the same name."""
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
    sys.path.insert(0, str(out / "python"))
    try:
        importlib.invalidate_caches()
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(out / "python"))


def file_tree(root: Path) -> dict[str, bytes]:
    """Every file below `root`, by its relative path, with its bytes; bytecode caches are not output."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.relative_to(root).parts
    }


def sample(value_type: ValueType, examples: tuple[Any, ...]) -> Any:
    """A valid value: the catalog's first example, else one built from the limits."""
    if examples:
        return examples[0]
    if isinstance(value_type, EnumType):
        return value_type.values[0]
    if isinstance(value_type, NumericType):
        value = value_type.minimum if value_type.minimum is not None else value_type.maximum or 0
        return int(value) if value_type.integer else float(value)
    if isinstance(value_type, BooleanType):
        return True
    if isinstance(value_type, StringType):
        assert value_type.pattern is None, "give pattern-checked fields an example in the catalog"
        return "x" * max(value_type.min_length or 0, 1)
    if isinstance(value_type, ArrayType):
        return [sample(value_type.items, ())] * max(value_type.min_items or 0, 1)
    assert isinstance(value_type, ObjectType)
    return {f.name: sample(f.type, f.examples) for f in value_type.fields}


def arguments(fields: tuple[Field, ...]) -> dict[str, Any]:
    return {parameter_name(f.name): sample(f.type, f.examples) for f in fields}


def app_context(catalog: Catalog) -> dict[str, Any]:
    """A valid value of each context field the app gives (`source: app`), as `configure(context=...)` takes them."""
    return {c.name: sample(c.declared.type, c.declared.examples) for c in catalog.context if c.declared is not None}


def run_cli(*args: str) -> tuple[int, str]:
    """Run `telemetry-gen ARGS` in-process; return the exit code and everything it printed."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture
def package() -> ModuleType:
    """The example's generated package, imported afresh so each test configures its own runtime."""
    return import_generated(GENERATED, EXAMPLE_PACKAGE)


@pytest.fixture(scope="module")
def example_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example catalog built afresh: its package carries the runtime as it is in the source
    tree, not the copy committed in `generated/`."""
    out = tmp_path_factory.mktemp("example")
    build_text((REPO / "events.yaml").read_text("utf-8"), out)
    return out


@pytest.fixture(scope="session")
def hardware_wallet() -> Catalog:
    """The hardware-wallet app's catalog (examples/hardware-wallet), checked as `build` checks it."""
    catalog, diagnostics = check_catalog(HARDWARE_WALLET)
    assert catalog is not None, "\n".join(d.render() for d in diagnostics)
    return catalog


@pytest.fixture(scope="session")
def hardware_wallet_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hardware-wallet catalog built by the command an app's team runs, warnings being fatal."""
    out = tmp_path_factory.mktemp("hardware-wallet") / "generated"
    code, output = run_cli("build", str(HARDWARE_WALLET), "--out", str(out), "--fatal-warnings", "--no-cache")
    assert code == 0, output
    assert "warning" not in output, output
    return out


@pytest.fixture
def chdir_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture(autouse=True)
def _no_build_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds run the pipeline they test; the build cache has tests of its own (test_build_cache.py)."""
    monkeypatch.setenv("TELEMETRY_GEN_NO_CACHE", "1")


@pytest.fixture(autouse=True)
def _no_ambient_consent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests decide consent themselves; the machine's environment must not."""
    for name in list(os.environ):
        if name == "DO_NOT_TRACK" or name.endswith("_TELEMETRY"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True, scope="session")
def _every_schema_built_is_checked() -> Iterator[None]:
    """Every schema any test builds (in-process) is checked against the 2020-12 meta-schema.

    The build does not check its own output (it took seconds on large catalogs), so a generator
    bug that writes an invalid schema must fail the test whose build wrote it.
    """
    render = schema_target.render

    def checked(catalog: Catalog) -> list[GeneratedFile]:
        files = render(catalog)
        assert_valid_schemas(files)
        return files

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema_target, "render", checked)
        patch.setitem(build.TARGETS, "schemas", checked)
        yield


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouse]:
    """One real ClickHouse server for the session, on a free loopback port, in a temporary folder.

    It fails, rather than skips, where `clickhouse-server` is missing: CI installs it."""
    if shutil.which("clickhouse-server") is None:
        pytest.fail(MISSING)
    server = ClickHouse.start(tmp_path_factory.mktemp("clickhouse"))
    yield server
    server.stop()
