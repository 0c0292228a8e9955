"""The catalog pipeline: load (YAML with positions) → validate (meta-schema) → model → lint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, Location, Severity, has_errors, sorted_diagnostics
from .lint import run_lints, today
from .model import Catalog, build_model
from .source import load_yaml
from .validate import check_structure

UNREADABLE = "CF000"


def display_path(path: Path) -> str:
    """The path as the user should see it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def parse_catalog(text: str, file: str) -> tuple[Catalog | None, list[Diagnostic]]:
    """Run load → validate → model on catalog text: the model, or None when the catalog has errors.

    Every problem that can be found is reported at once. Only a YAML syntax error stops the
    catalog from being read; otherwise each stage goes on with the parts that no earlier problem
    touches. Lints are run by the caller on a model without errors; on a catalog with errors,
    they are run here on what could be read (with today's date and no app version), since no
    model leaves this function.
    """
    loaded, diagnostics = load_yaml(text, file)
    if loaded is None:
        return None, diagnostics
    data: Any = loaded.data
    if not isinstance(data, dict):
        where = Location(file, 1, 1)
        not_a_mapping = Diagnostic(
            "CF012",
            Severity.ERROR,
            where,
            "the catalog must be a mapping",
            "start from the example events.yaml in the telemetry-gen README",
        )
        return None, sorted_diagnostics([*diagnostics, not_a_mapping])
    diagnostics += check_structure(data, loaded.source_map, loaded.flaws)
    catalog, model_diagnostics = build_model(data, loaded.source_map, file, loaded.flaws)
    diagnostics += model_diagnostics
    if has_errors(diagnostics):
        if catalog is not None:
            diagnostics += run_lints(catalog, today())
        return None, sorted_diagnostics(diagnostics)
    return catalog, sorted_diagnostics(diagnostics)


def load_catalog(path: Path) -> tuple[Catalog | None, list[Diagnostic]]:
    file = display_path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, [
            Diagnostic(
                UNREADABLE,
                Severity.ERROR,
                Location(file, 1, 1),
                f"cannot read the catalog: {reason}",
                "check the path; `telemetry-gen build` reads ./events.yaml by default",
            )
        ]
    except UnicodeDecodeError as exc:
        return None, [
            Diagnostic(
                UNREADABLE,
                Severity.ERROR,
                Location(file, 1, 1),
                f"the catalog is not UTF-8 text (byte {exc.start})",
                "save the file as UTF-8",
            )
        ]
    return parse_catalog(text, file)
