"""Diff step: two catalog models → every change between them, each classified breaking or additive.

The rule (written out in docs/evolution.md): a change is *breaking* when an event that was valid
under the base catalog may be rejected, or read differently, under the new one, or when it sends
data under less consent or in a more identifying privacy class than users were told; every other
change to what is sent is *additive*. Wording-only edits (descriptions, triggers, owners,
examples, justifications) change no data and are not reported.

Changes are data: a kind (a kebab-case name and a code, `CD…`, both stable), where (event,
field, file:line:column) and a message; `compare` returns them all, sorted, and the callers report
them together, each as a `Diagnostic` (a breaking change is a warning, an additive one information).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass

from ..catalog.model import (
    ArrayType,
    BooleanType,
    Catalog,
    Category,
    ContextField,
    EnumType,
    Event,
    Field,
    NumericType,
    ObjectType,
    Privacy,
    ScalarType,
    StringType,
    ValueType,
)
from ..diagnostics import Diagnostic, Location, Severity


class Impact(enum.Enum):
    BREAKING = "breaking"
    ADDITIVE = "additive"


@dataclass(frozen=True)
class ChangeKind:
    code: str  # CD001-CD008 events, CD010-CD022 fields, CD030-CD034 context; never renumbered
    name: str
    impact: Impact
    badge: str  # how the docs mark it: added, changed, removed or deprecated
    rule: str  # why it is breaking or additive, for docs/evolution.md and `diff --list`
    reshapes_schema: bool = False  # the event's JSON Schema accepts less: its `version` must go up


_B, _A = Impact.BREAKING, Impact.ADDITIVE
KINDS: dict[str, ChangeKind] = {
    kind.name: kind
    for kind in (
        ChangeKind("CD001", "event-added", _A, "added", "a new event; no earlier data is affected"),
        ChangeKind(
            "CD002", "event-removed", _B, "removed", "apps in the field still send it, and the new catalog rejects it"
        ),
        ChangeKind(
            "CD003", "event-renamed", _B, "changed", "its name and schema `$id` change: queries and dashboards lose it"
        ),
        ChangeKind("CD004", "event-deprecated", _A, "deprecated", "nothing sent changes; readers are told to move on"),
        ChangeKind(
            "CD005",
            "event-consent-lowered",
            _B,
            "changed",
            "`usage` → `errors`: sent to users who agreed to error reports only; also `errors` ↔ `opt-out`, "
            "`usage` → `opt-out` (the event changes what it is), and any category → `feedback`",
        ),
        ChangeKind(
            "CD006",
            "event-consent-raised",
            _A,
            "changed",
            "`errors` → `usage`, or `feedback` → another category: sent to fewer users",
        ),
        ChangeKind(
            "CD007", "event-expiry-changed", _A, "changed", "when the event stops is announced, not what it carries"
        ),
        ChangeKind(
            "CD008", "event-version-changed", _A, "changed", "the schema gets a new `$id`; the old one stays valid"
        ),
        ChangeKind("CD010", "field-added-optional", _A, "added", "earlier events, which lack it, stay valid"),
        ChangeKind("CD011", "field-added-required", _B, "added", "earlier events lack it and are rejected", True),
        ChangeKind(
            "CD012", "field-removed", _B, "removed", "earlier events carry it and are rejected (no extra keys)", True
        ),
        ChangeKind("CD013", "field-type-changed", _B, "changed", "earlier values have the wrong type", True),
        ChangeKind(
            "CD014",
            "field-bound-tightened",
            _B,
            "changed",
            "a limit (length, range, pattern, item count, uniqueness) now rejects some earlier values",
            True,
        ),
        ChangeKind("CD015", "field-bound-loosened", _A, "changed", "every earlier value is still accepted"),
        ChangeKind("CD016", "field-enum-value-added", _A, "changed", "every earlier value is still accepted"),
        ChangeKind(
            "CD017", "field-enum-value-removed", _B, "changed", "earlier events with that value are rejected", True
        ),
        ChangeKind("CD018", "field-made-required", _B, "changed", "earlier events without it are rejected", True),
        ChangeKind("CD019", "field-made-optional", _A, "changed", "every earlier event is still valid"),
        ChangeKind(
            "CD020",
            "field-privacy-raised",
            _B,
            "changed",
            "the field now says more about the user than the docs promised (technical < interaction < pseudonymous)",
        ),
        ChangeKind("CD021", "field-privacy-lowered", _A, "changed", "the field now says less about the user"),
        ChangeKind("CD022", "field-unit-changed", _B, "changed", "the same numbers now mean something else", True),
        ChangeKind(
            "CD030",
            "context-field-added",
            _B,
            "added",
            "every event's context requires it; earlier events lack it",
            True,
        ),
        ChangeKind("CD031", "context-field-removed", _B, "removed", "earlier events carry it and are rejected", True),
        ChangeKind(
            "CD032",
            "context-field-changed",
            _B,
            "changed",
            "its source, type or package changes; for a field the app gives, any change a field's "
            "change kind calls breaking",
            True,
        ),
        ChangeKind(
            "CD033",
            "context-field-added-optional",
            _A,
            "added",
            "an optional field the app gives; earlier events, which lack it, stay valid",
        ),
        ChangeKind(
            "CD034",
            "context-field-loosened",
            _A,
            "changed",
            "a field the app gives accepts every earlier value, or says less about the user (a field's "
            "additive change kinds)",
        ),
    )
}

# The consent an event's category needs: the opt-out record goes to users at `errors` or `all`,
# a feedback event to anyone who sends it. A change between categories of the same rank is
# counted as lowered, the side that breaks.
_CONSENT_RANK = {Category.USAGE: 2, Category.ERRORS: 1, Category.OPT_OUT: 1, Category.FEEDBACK: 0}

# How much each privacy class says about the user (sensitive never reaches a valid catalog).
_PRIVACY_RANK = {Privacy.TECHNICAL: 0, Privacy.INTERACTION: 1, Privacy.PSEUDONYMOUS: 2, Privacy.SENSITIVE: 3}


@dataclass(frozen=True)
class Change:
    kind: str
    event: str | None  # the event's name in the new catalog (in the base one if it was removed)
    field: str | None  # dotted for a nested field; the context field's name for context changes
    location: Location  # in the new catalog, or in the base one for what was removed
    detail: str  # what happened, e.g. "max_length 64 → 32"

    @property
    def impact(self) -> Impact:
        return KINDS[self.kind].impact

    @property
    def breaking(self) -> bool:
        return self.impact is Impact.BREAKING

    @property
    def message(self) -> str:
        where = _where(self.event, self.field) if self.event is not None else f"context field {self.field!r}"
        return f"{where}: {self.detail}"

    @property
    def code(self) -> str:
        return KINDS[self.kind].code

    def sort_key(self) -> tuple[bool, str, str, str, str]:
        return (not self.breaking, self.event or "", self.field or "", self.kind, self.detail)

    def diagnostic(self) -> Diagnostic:
        """The change as `diff` prints it: a breaking change warns, an additive one informs."""
        severity = Severity.WARNING if self.breaking else Severity.INFO
        return Diagnostic(self.code, severity, self.location, f"{self.impact.value} {self.kind}: {self.message}")


def _where(event: str, field: str | None) -> str:
    return f"event {event!r}" + (f", field {field!r}" if field else "")


class _Differ:
    def __init__(self) -> None:
        self.changes: list[Change] = []

    def add(self, kind: str, event: str | None, field: str | None, location: Location, detail: str) -> None:
        self.changes.append(Change(kind, event, field, location, detail))

    # -- events --------------------------------------------------------------------------

    def events(self, base: tuple[Event, ...], new: tuple[Event, ...]) -> None:
        old_by_name = {event.name: event for event in base}
        new_names = {event.name for event in new}
        matched: set[str] = set()
        for event in new:
            old = old_by_name.get(event.name)
            if old is None and event.renamed_from in old_by_name and event.renamed_from not in new_names:
                old = old_by_name[event.renamed_from]
                self.add("event-renamed", event.name, None, event.location, f"renamed from {old.name!r}")
            if old is None:
                self.add("event-added", event.name, None, event.location, "added")
                continue
            matched.add(old.name)
            self.event(old, event)
        for old in base:
            if old.name not in matched:
                self.add("event-removed", old.name, None, old.location, "removed")

    def event(self, old: Event, new: Event) -> None:
        name, at = new.name, new.location
        if old.deprecated is None and new.deprecated is not None:
            self.add("event-deprecated", name, None, at, f"deprecated: {new.deprecated}")
        if old.category != new.category:
            raised = _CONSENT_RANK[new.category] > _CONSENT_RANK[old.category]
            kind = "event-consent-raised" if raised else "event-consent-lowered"
            self.add(kind, name, None, at, f"category {old.category.value} → {new.category.value}")
        if old.expires != new.expires:
            self.add("event-expiry-changed", name, None, at, f"expires {old.expires} → {new.expires}")
        if old.version != new.version:
            self.add("event-version-changed", name, None, at, f"schema version {old.version} → {new.version}")
        self.fields(name, old.fields, new.fields, "")

    # -- fields --------------------------------------------------------------------------

    def fields(self, event: str, base: tuple[Field, ...], new: tuple[Field, ...], prefix: str) -> None:
        old_by_name = {f.name: f for f in base}
        new_by_name = {f.name: f for f in new}
        for name in sorted(old_by_name.keys() | new_by_name.keys()):
            old, current = old_by_name.get(name), new_by_name.get(name)
            dotted = prefix + name
            if old is None:
                assert current is not None
                kind = "field-added-required" if current.required else "field-added-optional"
                self.add(kind, event, dotted, current.location, "added" + (" (required)" if current.required else ""))
            elif current is None:
                self.add("field-removed", event, dotted, old.location, "removed")
            else:
                self.field(event, dotted, old, current)

    def field(self, event: str, dotted: str, old: Field, new: Field) -> None:
        at = new.location
        if old.required != new.required:
            kind = "field-made-required" if new.required else "field-made-optional"
            self.add(kind, event, dotted, at, "optional → required" if new.required else "required → optional")
        if old.privacy != new.privacy:
            raised = _PRIVACY_RANK[new.privacy] > _PRIVACY_RANK[old.privacy]
            kind = "field-privacy-raised" if raised else "field-privacy-lowered"
            self.add(kind, event, dotted, at, f"privacy {old.privacy.value} → {new.privacy.value}")
        if isinstance(old.type, ObjectType) and isinstance(new.type, ObjectType):
            self.fields(event, old.type.fields, new.type.fields, dotted + ".")
            return
        for kind, what in _type_changes(old.type, new.type):
            self.add(kind, event, dotted, at, what)

    # -- context -------------------------------------------------------------------------

    def context(self, base: tuple[ContextField, ...], new: tuple[ContextField, ...]) -> None:
        old_by_name = {c.name: c for c in base}
        new_by_name = {c.name: c for c in new}
        for name in sorted(old_by_name.keys() | new_by_name.keys()):
            old, current = old_by_name.get(name), new_by_name.get(name)
            if old is None:
                assert current is not None
                kind = "context-field-added" if current.required else "context-field-added-optional"
                self.add(kind, None, name, current.location, f"added (source {current.source})")
            elif current is None:
                self.add("context-field-removed", None, name, old.location, "removed")
            elif (old.source, old.package) != (current.source, current.package):
                self.add(
                    "context-field-changed",
                    None,
                    name,
                    current.location,
                    f"source {_source(old)} → {_source(current)}",
                )
            elif old.declared is not None and current.declared is not None:
                self.app_context_field(name, old.declared, current.declared, current.location)

    def app_context_field(self, name: str, old: Field, new: Field, at: Location) -> None:
        """A context field the app gives changes as an event field would; each change is breaking
        (`context-field-changed`) or not (`context-field-loosened`) as it would be there."""
        as_field = _Differ()
        as_field.field("", name, old, new)
        for change in as_field.changes:
            kind = "context-field-changed" if change.breaking else "context-field-loosened"
            self.add(kind, None, name, at, change.detail)


def _source(field: ContextField) -> str:
    return field.source + (f" ({field.package})" if field.package else "")


def type_name(value_type: ValueType) -> str:
    if isinstance(value_type, NumericType):
        return "integer" if value_type.integer else "number"
    if isinstance(value_type, ArrayType):
        return f"array of {type_name(value_type.items)}"
    return {StringType: "string", EnumType: "enum", BooleanType: "boolean", ObjectType: "object"}[type(value_type)]


def _type_changes(old: ValueType, new: ValueType) -> Iterator[tuple[str, str]]:
    if isinstance(old, ArrayType) and isinstance(new, ArrayType):
        yield from _limit(old.max_items, new.max_items, "max_items", upper=True)
        yield from _limit(old.min_items or 0, new.min_items or 0, "min_items", upper=False)
        if old.unique != new.unique:
            kind = "field-bound-tightened" if new.unique else "field-bound-loosened"
            yield kind, f"unique {old.unique} → {new.unique}"
        for kind, what in _scalar_changes(old.items, new.items):
            yield kind, f"items: {what}"
        return
    if isinstance(old, ArrayType | ObjectType) or isinstance(new, ArrayType | ObjectType):
        yield "field-type-changed", f"type {type_name(old)} → {type_name(new)}"
        return
    yield from _scalar_changes(old, new)


def _scalar_changes(old: ScalarType, new: ScalarType) -> Iterator[tuple[str, str]]:
    if isinstance(old, NumericType) and isinstance(new, NumericType):
        yield from _numeric_changes(old, new)
    elif isinstance(old, StringType) and isinstance(new, StringType):
        yield from _limit(old.max_length, new.max_length, "max_length", upper=True)
        yield from _limit(old.min_length or 0, new.min_length or 0, "min_length", upper=False)
        if old.pattern != new.pattern:
            if new.pattern is None:
                yield "field-bound-loosened", f"pattern {old.pattern} removed"
            elif old.pattern is None:
                yield "field-bound-tightened", f"pattern {new.pattern} added"
            else:  # whether one regular expression admits all another does cannot be decided here
                yield "field-bound-tightened", f"pattern {old.pattern} → {new.pattern} (may reject earlier values)"
    elif isinstance(old, EnumType) and isinstance(new, EnumType):
        for value in sorted(set(old.values) - set(new.values)):
            yield "field-enum-value-removed", f"value {value!r} removed"
        for value in sorted(set(new.values) - set(old.values)):
            yield "field-enum-value-added", f"value {value!r} added"
    elif type(old) is not type(new):
        yield "field-type-changed", f"type {type_name(old)} → {type_name(new)}"


def _numeric_changes(old: NumericType, new: NumericType) -> Iterator[tuple[str, str]]:
    if old.integer != new.integer:  # every integer is a number, not the other way round
        kind = "field-bound-tightened" if new.integer else "field-bound-loosened"
        yield kind, f"type {type_name(old)} → {type_name(new)}"
    low_old = -math.inf if old.minimum is None else old.minimum
    low_new = -math.inf if new.minimum is None else new.minimum
    yield from _limit(low_old, low_new, "minimum", upper=False)
    high_old = math.inf if old.maximum is None else old.maximum
    high_new = math.inf if new.maximum is None else new.maximum
    yield from _limit(high_old, high_new, "maximum", upper=True)
    if old.unit != new.unit:
        yield "field-unit-changed", f"unit {old.unit or 'none'} → {new.unit or 'none'}"


def _limit(old: float, new: float, name: str, *, upper: bool) -> Iterator[tuple[str, str]]:
    """A lower or upper limit that moved; ±infinity stands for "none"."""
    if old == new:
        return
    tightened = new < old if upper else new > old
    yield ("field-bound-tightened" if tightened else "field-bound-loosened"), f"{name} {_bound(old)} → {_bound(new)}"


def _bound(value: float) -> str:
    return "none" if math.isinf(value) else str(value)


def compare(base: Catalog | None, new: Catalog) -> list[Change]:
    """Every change from `base` to `new`, sorted: breaking first, then by event, field and kind.

    Without a base (a first release) every event is added.
    """
    differ = _Differ()
    differ.events(base.events if base else (), new.events)
    if base is not None:  # a first release has no context to change
        differ.context(base.context, new.context)
    return sorted(differ.changes, key=Change.sort_key)
