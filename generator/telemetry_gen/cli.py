"""The `telemetry-gen` command line. Problems are reported as diagnostics, never as tracebacks.

Exit codes: 0 success, 1 the catalog has errors (or generated output is stale with --check, or
live-check found errors, or the collector cannot start), 2 usage error (including input that
cannot be read), 3 an internal error in telemetry-gen itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from typer.core import TyperGroup

from . import __version__
from .diagnostics import Diagnostic, Severity, fails, has_errors
from .write import compare

# Every command imports what it needs when it runs: the catalog pipeline, the collector and their
# libraries (YAML, JSON Schema, Jinja) are loaded only by the commands that use them.
if TYPE_CHECKING:
    from .catalog.model import Catalog
    from .collector.schemas import Registry
    from .collector.store import Store
    from .targets.models import Progress


class _Commands(TyperGroup):
    """The commands, `collect` loaded only when it runs or is listed.

    Its option defaults are the collector's limits, whose module imports the catalog model and the
    check generator; every other command should start without them. (`ctx` is typed loosely: its class is
    click's or typer's own, depending on typer's release.)
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), "collect"]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name == "collect":
            from .collect_command import command

            return command
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    cls=_Commands,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Turn events.yaml into JSON Schemas, typed Python emitters and docs.",
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Turn events.yaml into JSON Schemas, typed Python emitters and docs."""


CatalogArgument = Annotated[Path, typer.Argument(help="The catalog file.", show_default=True)]
FatalWarnings = Annotated[bool, typer.Option("--fatal-warnings", help="Fail on lint warnings too.")]
AppVersion = Annotated[
    str | None,
    typer.Option("--app-version", help="The app version being released: lint `expires: app:<version>` against it."),
]

StoreUrl = Annotated[
    str,
    typer.Option(
        "--store",
        "--data-dir",
        metavar="URL",
        help="Where the collector stores events: file:DIR (a data folder: events/, bad/, catalog.json; "
        "a bare DIR too) or clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE.",
        show_default=False,
    ),
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
    """Problems go to standard error, each rendered as every command renders a diagnostic, then a count."""
    for diagnostic in diagnostics:
        typer.echo(diagnostic.render(), err=True)
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    if diagnostics:
        typer.echo(f"{errors} error(s), {warnings} warning(s)", err=True)


def _diagnostics_json(diagnostics: list[Diagnostic], **result: object) -> str:
    """What `lint` and `build` print with `--format json`: every diagnostic, the counts, the result."""
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    document = {"diagnostics": [d.as_json() for d in diagnostics], "errors": errors, "warnings": warnings, **result}
    return json.dumps(document, indent=2, ensure_ascii=False)


def _failed(catalog_path: Path) -> typer.Exit:
    """The exit of a command whose catalog has errors: 2 when there is no such file, as for every
    usage error, else 1."""
    return typer.Exit(1 if catalog_path.is_file() else 2)


def _checked(
    catalog_path: Path, fatal_warnings: bool, app_version: str | None, output_format: OutputFormat | None = None
) -> Catalog:
    from .build import check_catalog

    catalog, diagnostics = check_catalog(catalog_path, fatal_warnings=fatal_warnings, app_version=app_version)
    if output_format is OutputFormat.JSON:
        typer.echo(_diagnostics_json(diagnostics, catalog=catalog_path.as_posix(), ok=catalog is not None))
    else:
        _report(diagnostics)
    if catalog is None:
        raise _failed(catalog_path)
    return catalog


def _chosen_outputs(only: str | None, skip: str | None) -> tuple[str, ...]:
    """The outputs `--only` or `--skip` leave to build, in build order; a usage error names the valid ones."""
    from .build import OUTPUTS

    if only is not None and skip is not None:
        raise _usage_error("give --only or --skip, not both")
    option, given = ("--only", only) if only is not None else ("--skip", skip)
    if given is None:
        return OUTPUTS
    names = {name.strip() for name in given.split(",") if name.strip()}
    unknown = sorted(names - set(OUTPUTS))
    if unknown or not names:
        what = f"unknown output(s) {', '.join(unknown)}" if unknown else "no output named"
        raise _usage_error(f"{option}: {what}; the outputs are {', '.join(OUTPUTS)}")
    chosen = tuple(name for name in OUTPUTS if (name in names) == (option == "--only"))
    if not chosen:
        raise _usage_error("--skip leaves no output to build")
    return chosen


@contextlib.contextmanager
def _progress_line(stream: TextIO | None, step: str) -> Iterator[Progress | None]:
    """A progress report for `step` on `stream`, a terminal (None: no report); see progress.py."""
    if stream is None:
        yield None
        return
    from .progress import ProgressLine

    line = ProgressLine(stream, step)
    try:
        yield line.update
    finally:
        line.close()


@app.command()
def build(
    catalog_path: CatalogArgument = Path("events.yaml"),
    *,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder.", show_default="generated/ beside the catalog")
    ] = None,
    python_out: Annotated[
        Path | None,
        typer.Option(
            "--python-out",
            help="A source root of your app (such as src): write the emitter package there, as "
            "<root>/<app.package as folders>, instead of a standalone distribution in the output folder.",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; fail if the output is not up to date.")
    ] = False,
    fatal_warnings: FatalWarnings = False,
    app_version: AppVersion = None,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            envvar="TELEMETRY_GEN_NO_CACHE",
            help="Neither use nor update the cache of consumer models (.telemetry-gen-cache/ beside the catalog).",
        ),
    ] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="How to print the diagnostics and the result.")
    ] = OutputFormat.TEXT,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            metavar="OUTPUTS",
            help="Build (or check) only these outputs, comma-separated: schemas, python, typescript, docs, models. "
            "The other outputs' files are left as they are.",
            show_default=False,
        ),
    ] = None,
    skip: Annotated[
        str | None,
        typer.Option("--skip", metavar="OUTPUTS", help="Build every output but these.", show_default=False),
    ] = None,
) -> None:
    """Build every output from the catalog (or check that it is up to date)."""
    from .build import BuildRequest, hand_written, run, why_stale, write_output

    outputs = _chosen_outputs(only, skip)
    out_dir = out if out is not None else catalog_path.parent / "generated"
    request = BuildRequest(
        catalog_path,
        out_dir,
        fatal_warnings,
        app_version,
        use_cache=not no_cache,
        python_out=python_out,
        outputs=outputs,
    )
    as_json = output_format is OutputFormat.JSON
    with _progress_line(sys.stderr if not as_json and sys.stderr.isatty() else None, "models") as progress:
        outcome = run(request, progress)
    result: dict[str, object] = {"out": out_dir.as_posix(), "events": outcome.events, "outputs": list(outputs)}
    if not as_json:
        _report(outcome.diagnostics)
    if outcome.trees is None:
        if as_json:
            typer.echo(_diagnostics_json(outcome.diagnostics, **result, built=False))
        raise _failed(catalog_path)
    package = outcome.trees[1:]  # with --python-out: the emitter package in the app's source tree
    if package:
        result["python_out"] = package[0].folder.as_posix()
    if not check:
        for tree in package:
            if hand_written(tree.folder):
                raise _usage_error(
                    f"{tree.folder.as_posix()} holds files telemetry-gen did not write, and the build replaces "
                    "that folder as a whole: move them, or choose another `app.package` or --python-out"
                )
        write_output(outcome.trees)
        if as_json:
            typer.echo(_diagnostics_json(outcome.diagnostics, **result, built=True, files=outcome.files))
        else:
            built = "" if request.replacing is None else f" of {', '.join(outputs)}"
            where = " and ".join(tree.folder.as_posix() for tree in outcome.trees)
            typer.echo(f"wrote {outcome.files} files{built} to {where} ({outcome.events} events)")
        return
    stale: dict[str, object] = {}
    up_to_date = True
    for key, tree in zip(("stale", "python_stale"), outcome.trees, strict=False):
        staleness = compare(tree.files, tree.folder, tree.replacing)
        reasons = why_stale(tree.files, tree.folder, staleness) if not staleness.up_to_date else []
        up_to_date = up_to_date and staleness.up_to_date
        stale[key] = {
            "changed": staleness.changed,
            "missing": staleness.missing,
            "extra": staleness.extra,
            "why": reasons,
        }
        if not as_json:
            for line in staleness.lines():
                typer.echo(f"{tree.folder.as_posix()}: {line}", err=True)
            for line in reasons:
                typer.echo(line, err=True)
    if as_json:
        typer.echo(_diagnostics_json(outcome.diagnostics, **result, up_to_date=up_to_date, **stale))
    elif not up_to_date:
        typer.echo("generated output is stale: run `telemetry-gen build`", err=True)
    else:
        where = " and ".join(tree.folder.as_posix() for tree in outcome.trees)
        typer.echo(f"{where} {'are' if package else 'is'} up to date ({outcome.files} files)")
    if not up_to_date:
        raise typer.Exit(1)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Where to write events.yaml.")] = Path("."),
    name: Annotated[str, typer.Option("--name", help="The app's name, in kebab-case (my-app).")] = "my-app",
) -> None:
    """Write a starter events.yaml (and the catalog format's schema, for editors) to begin a catalog."""
    from .starter import APP_NAME, starter_files

    if not APP_NAME.match(name):
        raise _usage_error(f"--name {name!r} is not kebab-case: lower-case words joined by '-', such as my-app")
    catalog = folder / "events.yaml"
    if catalog.exists():
        raise _usage_error(f"{catalog.as_posix()} exists already; init writes a new catalog only")
    for file in starter_files(name):
        target = folder / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.content, "utf-8")
    typer.echo(f"wrote {catalog.as_posix()}: edit it, then run `telemetry-gen build {catalog.as_posix()}`")


@app.command()
def lint(
    catalog_path: CatalogArgument = Path("events.yaml"),
    fatal_warnings: FatalWarnings = False,
    list_lints: Annotated[bool, typer.Option("--list", help="List every lint and exit.")] = False,
    app_version: AppVersion = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="How to print the diagnostics.")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """Check the catalog and report every problem, without building."""
    from .catalog.lint import LINTS

    if list_lints:
        for lint in LINTS:
            typer.echo(f"{lint.code}  {lint.severity.value:<7}  {lint.name}: {lint.summary}")
        return
    catalog = _checked(catalog_path, fatal_warnings, app_version, output_format)
    if output_format is OutputFormat.TEXT:
        typer.echo(f"{catalog_path.as_posix()}: {len(catalog.events)} events, no errors")


@app.command("code-check")
def code_check_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="[CATALOG] SRC...",
            help="The catalog (default events.yaml; given first, ending in .yaml or .yml), then the app's Python "
            "files or folders.",
            show_default=False,
        ),
    ],
    allow_unused: Annotated[
        bool, typer.Option("--allow-unused", help="Report events never used as info, not as errors.")
    ] = False,
    fatal_warnings: Annotated[
        bool, typer.Option("--fatal-warnings", help="Fail on warnings too (deprecated events still used).")
    ] = False,
    app_version: Annotated[
        str | None,
        typer.Option("--app-version", help="The app version being released, at which `expires: app:<version>` ends."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="How to print the findings and the uses.")
    ] = OutputFormat.TEXT,
) -> None:
    """Find where the app's code calls each emitter, read with ast (nothing is imported).

    Exit 1 on a name the events module does not have, an event never used, or an expired event still used.
    """
    from .catalog import load_catalog
    from .catalog.lint import Now, today
    from .codecheck import check_code

    catalog_path = paths[0] if paths[0].suffix in (".yaml", ".yml") else Path("events.yaml")
    sources = paths[1:] if paths[0].suffix in (".yaml", ".yml") else paths
    catalog, problems = load_catalog(catalog_path)
    if catalog is None:
        if output_format is OutputFormat.JSON:
            typer.echo(_diagnostics_json(problems, catalog=catalog_path.as_posix(), ok=False))
        else:
            _report(problems)
        raise _failed(catalog_path)
    if not sources:
        raise _usage_error("give the app's Python files or folders to check (SRC...)")
    if missing := [p.as_posix() for p in sources if not p.exists()]:
        raise _usage_error(f"no such file or folder: {', '.join(missing)}")
    result = check_code(catalog, sources, Now(today(), app_version), allow_unused=allow_unused)
    diagnostics = result.diagnostics
    failed = fails(diagnostics, fatal_warnings=fatal_warnings)
    if output_format is OutputFormat.JSON:
        typer.echo(_diagnostics_json(diagnostics, catalog=catalog_path.as_posix(), ok=not failed, **result.as_json()))
    else:
        typer.echo(result.summary(), nl=False)
        _report(diagnostics)
    if failed:
        raise typer.Exit(1)


class DiffFormat(str, enum.Enum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HISTORY = "history"


def _usage_error(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _comparable(loaded: tuple[Catalog | None, list[Diagnostic]], what: str) -> Catalog:
    """A catalog that can be compared; its errors (and exit 2) otherwise."""
    catalog, diagnostics = loaded
    if catalog is None:
        _report(diagnostics)
        raise _usage_error(f"the {what} has errors, so it cannot be compared")
    return catalog


def _base_catalog(catalog_path: Path, ref: str | None, base_file: Path | None) -> Catalog:
    from .catalog import load_catalog
    from .evolution.git import GitError, catalog_at, last_tag

    if base_file is not None:
        return _comparable(load_catalog(base_file), f"base catalog {base_file.as_posix()}")
    try:
        ref = ref if ref is not None else last_tag(catalog_path.parent)
        return _comparable(catalog_at(ref, catalog_path), f"base catalog at {ref}")
    except GitError as exc:
        raise _usage_error(f"{exc}; to compare with a catalog file instead, give --base-file PATH") from None


@app.command()
def diff(
    catalog_path: CatalogArgument = Path("events.yaml"),
    *,
    base: Annotated[
        str | None, typer.Option("--base", metavar="GIT_REF", help="Compare with the catalog committed at this ref.")
    ] = None,
    base_file: Annotated[Path | None, typer.Option("--base-file", help="Compare with this catalog file.")] = None,
    output_format: Annotated[DiffFormat, typer.Option("--format", help="How to print the changes.")] = DiffFormat.TEXT,
    check_version: Annotated[
        bool, typer.Option("--check-version", help="Fail unless the catalog and event versions follow every rule.")
    ] = False,
    list_kinds: Annotated[bool, typer.Option("--list", help="List every kind of change and exit.")] = False,
) -> None:
    """Classify every change since an earlier catalog (default: the last git tag) as breaking or additive.

    Exit 1 when a breaking change comes without a major version bump (with --check-version: when
    any version rule is broken), 2 on a usage error or a catalog that cannot be read.
    """
    from .catalog import load_catalog
    from .evolution import changelog as history

    if list_kinds:
        for code, name, impact, rule in history.kind_rows():
            typer.echo(f"{code}  {impact:<8}  {name}: {rule}")
        return
    if base is not None and base_file is not None:
        raise _usage_error("give --base or --base-file, not both")
    new = _comparable(load_catalog(catalog_path), "catalog")
    old = _base_catalog(catalog_path, base, base_file)
    result = history.section(old, new, f"{old.app.version} → {new.app.version}")
    # --check-version makes every broken version rule an error.
    problems = [dataclasses.replace(p, severity=Severity.ERROR) if check_version else p for p in result.problems]
    if output_format is DiffFormat.JSON:
        typer.echo(history.as_json(old, new, result), nl=False)
    elif output_format is DiffFormat.MARKDOWN:
        typer.echo(history.markdown(f"Telemetry catalog changes of {new.app.title}", [result]), nl=False)
    elif output_format is DiffFormat.HISTORY:
        typer.echo(history.history_entry(new, result.changes) if result.changes else "", nl=False)
    else:
        for change in result.changes:
            typer.echo(change.diagnostic().render())
        breaking = sum(c.breaking for c in result.changes)
        typer.echo(
            f"{len(result.changes)} change(s) from {old.file} ({old.app.version}) to {new.file} "
            f"({new.app.version}): {breaking} breaking, {len(result.changes) - breaking} additive"
        )
    _report(problems)
    if has_errors(problems):
        raise typer.Exit(1)


@app.command()
def changelog(
    catalog_path: CatalogArgument = Path("events.yaml"),
    tags: Annotated[str, typer.Option("--tags", help="Release tags to read (a git glob).")] = "*",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of printing.")] = None,
) -> None:
    """Write the catalog's history, one section per catalog version among the git tags, in Markdown."""
    from .catalog import load_catalog
    from .evolution import changelog as history
    from .evolution.git import GitError

    current = _comparable(load_catalog(catalog_path), "catalog")
    try:
        sections, notes = history.git_history(current, catalog_path, tags)
    except GitError as exc:
        raise _usage_error(str(exc)) from None
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    text = history.markdown(f"Telemetry changelog of {current.app.title}", sections)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, "utf-8")
        typer.echo(f"wrote {out.as_posix()} ({len(sections)} version(s))", err=True)


def checked_registry(catalog_path: Path, earlier: list[Path] | None) -> tuple[Catalog, Registry]:
    from .collector.schemas import registry

    catalog = _checked(catalog_path, fatal_warnings=False, app_version=None)
    found, diagnostics = registry(catalog, earlier or ())
    _report(diagnostics)
    if diagnostics:
        raise typer.Exit(1)
    return catalog, found


def _print_json(document: object) -> None:
    typer.echo(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))


def opened_store(command: str, url: str, *, existing: bool = False, window: int = 0) -> Store:
    """The store `url` names (exit 2 when it cannot be one; with `existing`, also when a data
    folder is missing). A file store remembers the last `window` event ids it holds."""
    from .collector.clickhouse import ClickHouseStore
    from .collector.store import FileStore

    folder = Path(url.removeprefix("file:"))
    if existing and not url.startswith("clickhouse:") and not folder.is_dir():
        typer.echo(f"telemetry-gen {command}: {folder.as_posix()}: no such folder", err=True)
        raise typer.Exit(2)
    try:
        store: Store = ClickHouseStore(url) if url.startswith("clickhouse:") else FileStore(folder, window)
    except ValueError as exc:
        typer.echo(f"telemetry-gen {command}: {exc}", err=True)
        raise typer.Exit(2) from None
    return store


@app.command()
def report(store_url: StoreUrl, output_format: Format = OutputFormat.TEXT) -> None:
    """Summarise what a collector stored: events per version and day, bad rows, catalog coverage."""
    from .collector.report import build_report

    store = opened_store("report", store_url, existing=True)
    try:
        built = build_report(store)
    except OSError as exc:
        typer.echo(f"telemetry-gen report: cannot read {store.url}: {exc}", err=True)
        raise typer.Exit(1) from None
    if output_format is OutputFormat.JSON:
        _print_json(built.as_json())
    else:
        typer.echo(built.text(), nl=False)


@app.command("live-check")
def live_check_command(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[CATALOG] [FILE|-]",
            help="The catalog (default events.yaml), then the captured events: a JSONL file, a folder of them "
            "(such as a collector's data folder) or - for standard input; or give --store instead.",
            show_default=False,
        ),
    ] = None,
    *,
    store_url: Annotated[
        str | None,
        typer.Option(
            "--store",
            metavar="URL",
            help="Check what a collector stored (file:DIR or clickhouse://...), in the store's order.",
            show_default=False,
        ),
    ] = None,
    output_format: Format = OutputFormat.TEXT,
    earlier: EarlierSchemas = None,
    fatal_warnings: Annotated[bool, typer.Option("--fatal-warnings", help="Fail on warnings too.")] = False,
    min_coverage: Annotated[
        float | None,
        typer.Option(
            "--min-coverage", metavar="PCT", min=0, max=100, help="Fail when fewer declared events were seen."
        ),
    ] = None,
) -> None:
    """Check a captured event stream against the catalog; exit 1 on error findings (or too little coverage)."""
    from .collector.livecheck import InputError, live_check, read, read_store

    paths = paths or []
    inputs = 0 if store_url is not None else 1
    if len(paths) > 1 + inputs or len(paths) < inputs:
        raise typer.BadParameter("give a catalog (or none) and one input, or --store", param_hint="[CATALOG] FILE|-")
    catalog_path = Path(paths[0]) if len(paths) > inputs else Path("events.yaml")
    _, schemas = checked_registry(catalog_path, earlier)
    store = None if store_url is None else opened_store("live-check", store_url, existing=True)
    try:
        result = live_check(schemas, read(paths[-1]) if store is None else read_store(store))
    except InputError as exc:
        typer.echo(f"telemetry-gen live-check: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        assert store is not None
        typer.echo(f"telemetry-gen live-check: cannot read {store.url}: {exc}", err=True)
        raise typer.Exit(1) from None
    if output_format is OutputFormat.JSON:
        _print_json(result.as_json())
    else:
        typer.echo(result.text(), nl=False)
    covered = result.coverage_percent()
    too_little = min_coverage is not None and covered < min_coverage
    if too_little:
        typer.echo(
            f"coverage {covered:.1f}% of the declared events is below --min-coverage {min_coverage:g}%", err=True
        )
    if too_little or result.failed(fatal_warnings=fatal_warnings):
        raise typer.Exit(1)


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
