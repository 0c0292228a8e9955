"""The `telemetry-gen` command line. Problems are reported as diagnostics, never as tracebacks.

Exit codes: 0 success, 1 the catalog has errors (or generated output is stale with --check, or
live-check found errors, or the collector cannot start), 2 usage error (including input that
cannot be read), 3 an internal error in telemetry-gen itself.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .build import check_catalog, render_all
from .catalog.lint import LINTS
from .catalog.model import Catalog
from .collector.app import EVENTS_PATH, Collector, manifest
from .collector.livecheck import InputError, live_check
from .collector.report import build_report
from .collector.schemas import Registry, registry
from .collector.server import listen, make_server, run
from .collector.store import DEDUP_WINDOW, Store
from .collector.wire import Limits
from .diagnostics import Diagnostic, Severity
from .write import compare, write_tree

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Turn events.yaml into JSON Schemas, typed Python emitters and docs.",
)

CatalogArgument = Annotated[Path, typer.Argument(help="The catalog file.", show_default=True)]
FatalWarnings = Annotated[bool, typer.Option("--fatal-warnings", help="Fail on lint warnings too.")]
DataDir = Annotated[
    Path,
    typer.Option("--data-dir", help="The collector's data folder (events/, bad/, catalog.json).", show_default=False),
]
EarlierSchemas = Annotated[
    list[Path] | None,
    typer.Option(
        "--schemas",
        help="The output (or schemas/) folder of an earlier build, so events of its versions are accepted too. "
        "Repeatable.",
    ),
]


class OutputFormat(str, enum.Enum):
    TEXT = "text"
    JSON = "json"


Format = Annotated[OutputFormat, typer.Option("--format", help="How to print the result.")]


def _report(diagnostics: list[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        typer.echo(diagnostic.render(), err=True)
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    if diagnostics:
        typer.echo(f"{errors} error(s), {warnings} warning(s)", err=True)


def _checked(catalog_path: Path, fatal_warnings: bool) -> Catalog:
    catalog, diagnostics = check_catalog(catalog_path, fatal_warnings=fatal_warnings)
    _report(diagnostics)
    if catalog is None:
        raise typer.Exit(1)
    return catalog


@app.command()
def build(
    catalog_path: CatalogArgument = Path("events.yaml"),
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder [default: generated/ beside the catalog].")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; fail if the output is not up to date.")
    ] = False,
    fatal_warnings: FatalWarnings = False,
) -> None:
    """Build every output from the catalog (or check that it is up to date)."""
    catalog = _checked(catalog_path, fatal_warnings)
    out_dir = out if out is not None else catalog_path.parent / "generated"
    files = render_all(catalog, previous=out_dir)
    if check:
        staleness = compare(files, out_dir)
        if not staleness.up_to_date:
            for line in staleness.lines():
                typer.echo(f"{out_dir.as_posix()}: {line}", err=True)
            typer.echo("generated output is stale: run `telemetry-gen build`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out_dir.as_posix()} is up to date ({len(files)} files)")
        return
    write_tree(files, out_dir)
    typer.echo(f"wrote {len(files)} files to {out_dir.as_posix()} ({len(catalog.events)} events)")


@app.command()
def lint(
    catalog_path: CatalogArgument = Path("events.yaml"),
    fatal_warnings: FatalWarnings = False,
    list_lints: Annotated[bool, typer.Option("--list", help="List every lint and exit.")] = False,
) -> None:
    """Check the catalog and report every problem, without building."""
    if list_lints:
        for lint in LINTS:
            typer.echo(f"{lint.code}  {lint.severity.value:<7}  {lint.name}: {lint.summary}")
        return
    catalog = _checked(catalog_path, fatal_warnings)
    typer.echo(f"{catalog_path.as_posix()}: {len(catalog.events)} events, no errors")


def _registry(catalog_path: Path, earlier: list[Path] | None) -> tuple[Catalog, Registry]:
    catalog = _checked(catalog_path, fatal_warnings=False)
    found, diagnostics = registry(catalog, earlier or ())
    _report(diagnostics)
    if diagnostics:
        raise typer.Exit(1)
    return catalog, found


def _print_json(document: object) -> None:
    typer.echo(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@app.command()
def collect(
    catalog_path: CatalogArgument = Path("events.yaml"),
    *,
    data_dir: DataDir,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")] = 8787,
    earlier: EarlierSchemas = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="TELEMETRY_GEN_COLLECT_TOKEN",
            help="Require `Authorization: Bearer TOKEN` (prefer the variable: arguments are visible to others).",
            show_default=False,
        ),
    ] = None,
    max_body_bytes: Annotated[int, typer.Option("--max-body-bytes", min=1, help="Largest body as sent.")] = (
        Limits.max_body_bytes
    ),
    max_events: Annotated[int, typer.Option("--max-events", min=1, help="Most events in one batch.")] = (
        Limits.max_events
    ),
    max_field_chars: Annotated[
        int, typer.Option("--max-field-chars", min=1, help="Longest string or key (never below the catalog's).")
    ] = Limits.max_field_chars,
    dedup_window: Annotated[
        int, typer.Option("--dedup-window", min=0, help="How many recent event ids are remembered to drop repeats.")
    ] = DEDUP_WINDOW,
) -> None:
    """Receive events from the runtime over HTTP, validate them, and store them as partitioned JSONL."""
    catalog, schemas = _registry(catalog_path, earlier)
    limits = Limits(max_body_bytes=max_body_bytes, max_events=max_events, max_field_chars=max_field_chars)
    try:
        store = Store(data_dir, dedup_window)
        store.write_manifest(manifest(catalog, schemas))
        sock = listen(host, port)
    except OSError as exc:
        typer.echo(f"telemetry-gen collect: cannot start: {exc.strerror or exc} ({exc.filename or host})", err=True)
        raise typer.Exit(1) from None
    collector = Collector(schemas, store, limits, token)
    bound = sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    typer.echo(f"collecting {catalog.app.title} events at http://{url_host}:{bound}{EVENTS_PATH} into {data_dir}")
    typer.echo(f"  {len(schemas.by_id)} event schemas, {store.remembered} recent event ids remembered; Ctrl-C stops")
    if not _is_loopback(host) and token is None:
        typer.echo("warning: listening beyond this machine without --token: anyone who can reach it can send", err=True)
    logging.basicConfig(level=logging.WARNING, format="telemetry-gen collect: %(message)s")
    run(make_server(collector), sock)
    counts = collector.counts
    typer.echo(
        f"collector stopped. Events stored: {counts.accepted}, duplicates dropped: {counts.duplicates}, "
        f"bad rows: {counts.bad}, requests refused: {counts.refused}"
    )


@app.command()
def report(data_dir: DataDir, output_format: Format = OutputFormat.TEXT) -> None:
    """Summarise a collector's data folder: events per version and day, bad rows, catalog coverage."""
    if not data_dir.is_dir():
        typer.echo(f"telemetry-gen report: {data_dir.as_posix()}: no such folder", err=True)
        raise typer.Exit(2)
    built = build_report(data_dir)
    if output_format is OutputFormat.JSON:
        _print_json(built.as_json())
    else:
        typer.echo(built.text(), nl=False)


@app.command("live-check")
def live_check_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="[CATALOG] FILE|-",
            help="The catalog (default events.yaml), then the captured events: a JSONL file, a folder of them "
            "(such as a collector's data folder) or - for standard input.",
            show_default=False,
        ),
    ],
    output_format: Format = OutputFormat.TEXT,
    earlier: EarlierSchemas = None,
    fatal_warnings: Annotated[bool, typer.Option("--fatal-warnings", help="Fail on warnings too.")] = False,
) -> None:
    """Check a captured event stream against the catalog; exit 1 on error findings."""
    if len(paths) > 2:
        raise typer.BadParameter("give at most a catalog and one input", param_hint="[CATALOG] FILE|-")
    catalog_path = Path(paths[0]) if len(paths) == 2 else Path("events.yaml")
    _, schemas = _registry(catalog_path, earlier)
    try:
        result = live_check(schemas, paths[-1])
    except InputError as exc:
        typer.echo(f"telemetry-gen live-check: {exc}", err=True)
        raise typer.Exit(2) from None
    if output_format is OutputFormat.JSON:
        _print_json(result.as_json())
    else:
        typer.echo(result.text(), nl=False)
    if result.failed(fatal_warnings=fatal_warnings):
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the telemetry-gen version."""
    typer.echo(__version__)


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except BaseException as exc:  # a bug in telemetry-gen, not in the user's catalog
        if isinstance(exc, KeyboardInterrupt):
            sys.exit(130)
        typer.echo(f"telemetry-gen {__version__}: internal error: {exc!r}", err=True)
        typer.echo("please report this with the catalog that caused it; details:", err=True)
        typer.echo("".join(traceback.format_exception_only(type(exc), exc)).strip(), err=True)
        sys.exit(3)
