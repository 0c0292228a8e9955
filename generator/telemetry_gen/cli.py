"""The `telemetry-gen` command line. Problems are reported as diagnostics, never as tracebacks.

Exit codes: 0 success, 1 the catalog has errors (or generated output is stale with --check),
2 usage error, 3 an internal error in telemetry-gen itself.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .build import check_catalog, collector_paused, render_all
from .catalog.lint import LINTS
from .catalog.model import Catalog
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
    with collector_paused():
        catalog = _checked(catalog_path, fatal_warnings)
        out_dir = out if out is not None else catalog_path.parent / "generated"
        files = render_all(catalog, previous=out_dir)
        if not check:
            write_tree(files, out_dir)
            typer.echo(f"wrote {len(files)} files to {out_dir.as_posix()} ({len(catalog.events)} events)")
            return
        staleness = compare(files, out_dir)
    if not staleness.up_to_date:
        for line in staleness.lines():
            typer.echo(f"{out_dir.as_posix()}: {line}", err=True)
        typer.echo("generated output is stale: run `telemetry-gen build`", err=True)
        raise typer.Exit(1)
    typer.echo(f"{out_dir.as_posix()} is up to date ({len(files)} files)")


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
    with collector_paused():
        catalog = _checked(catalog_path, fatal_warnings)
    typer.echo(f"{catalog_path.as_posix()}: {len(catalog.events)} events, no errors")


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
