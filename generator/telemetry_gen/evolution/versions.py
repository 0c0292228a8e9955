"""Version rules: what the catalog's and each event's `version` must do, given the changes.

- The catalog version `<breaking>.<additive>` never goes down. A breaking change needs a bigger
  first number; an additive change needs a bigger version.
- An event whose JSON Schema now rejects something it accepted (a breaking change that reshapes
  the schema, in the event or in the context every event carries) must raise its own `version`,
  so its schema gets a new `$id` and the old and new schemas can live side by side on the
  server. A renamed event gets a new `$id` from its name and needs no bump.
- An event's `version` never goes down.

Each broken rule is a `Diagnostic` with its own code. Its severity is what `diff` makes of it
without `--check-version`: only a breaking change without a major bump is an error by default;
`--check-version` makes every one an error.
"""

from __future__ import annotations

import enum

from ..catalog.model import Catalog, Version
from ..diagnostics import Diagnostic, Location, Severity
from .diff import KINDS, Change

CATALOG_VERSION_DOWN = "CV001"
MISSING_MAJOR = "CV002"  # a breaking change without a major bump (the default exit-1 case)
MISSING_MINOR = "CV003"
EVENT_VERSION_DOWN = "CV004"
EVENT_VERSION_KEPT = "CV005"


class Bump(enum.Enum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"


def _problem(code: str, location: Location, message: str, hint: str) -> Diagnostic:
    severity = Severity.ERROR if code == MISSING_MAJOR else Severity.WARNING
    return Diagnostic(code, severity, location, message, hint)


def required_bump(changes: list[Change]) -> Bump:
    if any(change.breaking for change in changes):
        return Bump.MAJOR
    return Bump.MINOR if changes else Bump.NONE


def next_version(version: Version, bump: Bump) -> Version:
    if bump is Bump.MAJOR:
        return Version(version.breaking + 1, 0)
    if bump is Bump.MINOR:
        return Version(version.breaking, version.additive + 1)
    return version


def check_versions(base: Catalog, new: Catalog, changes: list[Change]) -> list[Diagnostic]:
    """Every way the versions in `new` break the rules above, given the changes from `base`."""
    problems = _catalog_version(base.app.version, new, changes)
    reshaped = {c.event for c in changes if c.event is not None and KINDS[c.kind].reshapes_schema}
    context_reshaped = any(c.event is None and KINDS[c.kind].reshapes_schema for c in changes)
    renamed = {c.event for c in changes if c.kind == "event-renamed"}
    old_versions = {event.name: event.version for event in base.events}
    for event in new.events:
        old = old_versions.get(event.name)
        if old is None or event.name in renamed:
            continue
        if event.version < old:
            problems.append(
                _problem(
                    EVENT_VERSION_DOWN,
                    event.location,
                    f"event {event.name!r}: its version went down ({old} → {event.version})",
                    f"an earlier schema already has this `$id`; set `version: {old + 1}` or higher",
                )
            )
        elif event.version == old and (event.name in reshaped or context_reshaped):
            why = "its schema" if event.name in reshaped else "the context every event carries"
            problems.append(
                _problem(
                    EVENT_VERSION_KEPT,
                    event.location,
                    f"event {event.name!r}: a breaking change to {why} keeps schema version {old}",
                    f"set `version: {old + 1}` so the new schema gets its own `$id` beside the old one",
                )
            )
    return problems


def _catalog_version(old: Version, new: Catalog, changes: list[Change]) -> list[Diagnostic]:
    version, at = new.app.version, new.app.version_location
    bump = required_bump(changes)
    breaking = sum(change.breaking for change in changes)
    if version.key() < old.key():
        message = f"the catalog version went down ({old} → {version})"
        return [_problem(CATALOG_VERSION_DOWN, at, message, f'set `version: "{next_version(old, bump)}"` or higher')]
    if bump is Bump.MAJOR and version.breaking <= old.breaking:
        return [
            _problem(
                MISSING_MAJOR,
                at,
                f"{breaking} breaking change(s) need a major version bump, but the version is {old} → {version}",
                f'set `version: "{next_version(old, bump)}"` (or remove the breaking changes)',
            )
        ]
    if bump is Bump.MINOR and version.key() <= old.key():
        return [
            _problem(
                MISSING_MINOR,
                at,
                f"{len(changes)} additive change(s) need a minor version bump, but the version is {old} → {version}",
                f'set `version: "{next_version(old, bump)}"`',
            )
        ]
    return []
