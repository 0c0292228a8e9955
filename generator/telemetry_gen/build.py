"""The whole pipeline: catalog file → model → lints → every output target → files."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from .cache import BuildRequest, Outcome, today
from .catalog import load_catalog
from .catalog.lint import run_lints
from .catalog.model import Catalog
from .diagnostics import Diagnostic, Severity, has_errors
from .targets import docs, jsonschema, python
from .targets.common import GeneratedFile
from .write import manifest, write_tree

# One renderer per output target that needs nothing but the catalog.
TARGETS: dict[str, Callable[[Catalog], list[GeneratedFile]]] = {
    "schemas": jsonschema.render,
    "python": python.render,
    "docs": docs.render,
}


def check_catalog(
    path: Path, *, fatal_warnings: bool = False, app_version: str | None = None
) -> tuple[Catalog | None, list[Diagnostic]]:
    """Load and lint a catalog; the catalog is None when it must not be built.

    `app_version` is the app version being released, against which `expires: app:<version>` is linted.
    """
    catalog, diagnostics = load_catalog(path)
    if catalog is None:
        return None, diagnostics
    diagnostics = diagnostics + run_lints(catalog, today(), app_version)
    failing = has_errors(diagnostics) or (fatal_warnings and any(d.severity is Severity.WARNING for d in diagnostics))
    return (None if failing else catalog), diagnostics


def catalog_format_file() -> GeneratedFile:
    """The catalog format's JSON Schema, written beside the output so editors can autocomplete."""
    text = resources.files("telemetry_gen.catalog").joinpath("catalog.schema.json").read_text("utf-8")
    return GeneratedFile("catalog.schema.json", text)


def render_all(catalog: Catalog, previous: Path | None = None) -> list[GeneratedFile]:
    """Every output file. `previous` is the current output folder, whose models file may be reused."""
    files = [catalog_format_file()]
    for render in TARGETS.values():
        files += render(catalog)
    from .targets import models  # it loads importlib.metadata, which is slow to import and no other target needs

    files += models.render(catalog, previous)
    return sorted(files, key=lambda f: f.path)


def run(request: BuildRequest, *, write: bool) -> Outcome:
    """Check and render the catalog, and write the output when `write`; what the build came to."""
    catalog, diagnostics = check_catalog(
        request.catalog, fatal_warnings=request.fatal_warnings, app_version=request.app_version
    )
    if catalog is None:
        return Outcome(diagnostics, 0, None)
    files = render_all(catalog, previous=request.out)
    if write:
        write_tree(files, request.out)
    return Outcome(diagnostics, len(catalog.events), manifest(files))
