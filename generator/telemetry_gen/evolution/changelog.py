"""Changelog step: the history of a catalog per version, from its git tags, and how changes are
written out (Markdown, JSON, and `history` entries to record in the catalog).

Every value is computed here; the Markdown template only lays the lines out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..catalog.model import Catalog
from ..diagnostics import Diagnostic
from ..targets.common import render_template
from ..targets.docs import md, md_code
from .diff import KINDS, Change, compare
from .git import GitError, catalog_at_tag, tags
from .versions import check_versions, required_bump


@dataclass(frozen=True)
class Section:
    """The changes that make one catalog version (or the unreleased work) in the history."""

    title: str  # Markdown
    changes: tuple[Change, ...]
    problems: tuple[Diagnostic, ...] = ()


def section(base: Catalog | None, new: Catalog, title: str) -> Section:
    changes = compare(base, new)
    problems = check_versions(base, new, changes) if base is not None else []
    return Section(title, tuple(changes), tuple(problems))


def git_history(current: Catalog, path: Path, pattern: str) -> tuple[list[Section], list[str]]:
    """Sections newest first: one per catalog version among the tags matching `pattern`, plus the
    unreleased changes of `current`; and a note for each tag that was skipped."""
    notes: list[str] = []
    releases: list[tuple[str, Catalog]] = []
    for tag in tags(path.parent, pattern):
        try:
            catalog, _ = catalog_at_tag(tag, path)
        except GitError as exc:
            notes.append(f"skipped tag {tag}: {exc}")
            continue
        if catalog is None:
            notes.append(f"skipped tag {tag}: its catalog has errors (`telemetry-gen diff --base {tag}` shows them)")
        elif releases and releases[-1][1].app.version == catalog.app.version:
            releases[-1] = (tag, catalog)  # several tags of one catalog version: the last one stands
        else:
            releases.append((tag, catalog))
    sections: list[Section] = []
    previous: Catalog | None = None
    for tag, catalog in releases:
        suffix = "first release, " if previous is None else ""
        sections.append(section(previous, catalog, f"{catalog.app.version} ({suffix}{md_code(tag)})"))
        previous = catalog
    unreleased = section(previous, current, f"{current.app.version} (unreleased)")
    if unreleased.changes:
        if previous is not None and previous.app.version == current.app.version:
            title = f"Unreleased (the catalog version is still {current.app.version})"
            unreleased = Section(title, unreleased.changes, unreleased.problems)
        sections.append(unreleased)
    return sections[::-1], notes


# --------------------------------------------------------------------------- writing changes out


def change_line(change: Change) -> str:
    """One change as a Markdown list item's text."""
    where = md_code(change.event) if change.event is not None else "context"
    if change.field is not None:
        where += f" {md_code(change.field)}"
    return f"{where}: {md(change.detail)} ({change.code} {change.kind})"


def markdown(title: str, sections: list[Section]) -> str:
    values = [
        {
            "title": s.title,
            "breaking": [change_line(c) for c in s.changes if c.breaking],
            "additive": [change_line(c) for c in s.changes if not c.breaking],
            "problems": [f"{md(p.message)} ({p.code})" for p in s.problems],
        }
        for s in sections
    ]
    return render_template("evolution/changes.md.jinja", title=md(title), sections=values)


def as_json(base: Catalog, new: Catalog, result: Section) -> str:
    document = {
        "base": {"file": base.file, "version": str(base.app.version)},
        "catalog": {"file": new.file, "version": str(new.app.version)},
        "required_bump": required_bump(list(result.changes)).value,
        "breaking": sum(c.breaking for c in result.changes),
        "additive": sum(not c.breaking for c in result.changes),
        "changes": [
            {
                "code": c.code,
                "kind": c.kind,
                "impact": c.impact.value,
                "event": c.event,
                "field": c.field,
                "file": c.location.file,
                "line": c.location.line,
                "column": c.location.column,
                "message": c.message,
            }
            for c in result.changes
        ],
        "version_problems": [
            {
                "code": p.code,
                "file": p.location.file,
                "line": p.location.line,
                "column": p.location.column,
                "message": p.message,
                "hint": p.hint,
            }
            for p in result.problems
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def history_entry(new: Catalog, changes: tuple[Change, ...]) -> str:
    """The changes as an entry of the catalog's `history` (YAML to paste under `history:`)."""
    lines = [f'  "{new.app.version}":']
    for change in sorted(changes, key=lambda c: (c.event or "", c.field or "", c.kind, c.detail)):
        lines.append(f"    - change: {change.kind}  # {change.code}")
        if change.event is not None:
            lines.append(f"      event: {change.event}")
        if change.field is not None:
            lines.append(f"      field: {change.field}")
        # A JSON string is a valid YAML double-quoted scalar.
        lines.append(f"      note: {json.dumps(change.detail, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def kind_rows() -> list[tuple[str, str, str, str]]:
    """(code, kind, impact, rule) for every change kind, as `diff --list` prints them."""
    return [(kind.code, kind.name, kind.impact.value, kind.rule) for kind in KINDS.values()]
