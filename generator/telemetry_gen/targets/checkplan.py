"""The check plan: what the generated validators test, in which order, built once from the catalog
and rendered by each language (`pychecks.py` for Python, `tschecks.py` for TypeScript).

A validator accepts exactly the values the generated JSON Schema accepts (as judged by
jsonschema's Draft 2020-12 validator, on JSON values), and explains each rejection as a violation
(event, field path, the JSON Schema keyword that fails, message). Every test mirrors a keyword:
`type` with jsonschema's own type rules (bools are not numbers, 1.0 is an integer), `maxLength`
counting code points, `pattern` with ECMA-262's anchors, `enum`, `minimum`/`maximum`,
`maxItems`/`minItems`/`uniqueItems` and `additionalProperties: false`. One deliberate extra: NaN
and infinities, which JSON cannot carry, are not numbers here.

The tests of one value form one chain: the first that holds is the value's one violation, so a
huge string fails on its length before its pattern is searched, and a huge list before its items
are looked at. Constants (allowed keys, enum values, patterns) are named after the event and field
they serve, so a change to one field changes only that field's lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ..catalog.model import (
    APP_SOURCE,
    ArrayType,
    BooleanType,
    Catalog,
    Category,
    EnumType,
    Field,
    NumericType,
    ObjectType,
    StringType,
    ValueType,
    per_catalog,
    python_name,
)

# What makes a value fail, as each renderer writes it; `Test.bound` or `Test.constant` completes it.
Failure = Literal[
    "not-string",
    "shorter",  # than `bound` code points
    "longer",  # than `bound` code points
    "no-match",  # the pattern `constant`
    "not-in-enum",  # a string of `constant`
    "not-integer",
    "not-finite-number",
    "below",  # `bound`
    "above",  # `bound`
    "not-boolean",
    "not-array",
    "fewer-items",  # than `bound`
    "more-items",  # than `bound`
    "duplicates",
    "not-object",
]


@dataclass(frozen=True)
class Test:
    """One failing condition of a value and the violation it reports."""

    failure: Failure
    keyword: str  # the JSON Schema keyword that fails
    message: str  # follows the value, as the renderer shows it
    bound: int | float | None = None
    constant: str | None = None  # the name of a module constant


@dataclass(frozen=True)
class ValuePlan:
    """The tests of one value, in order; then, when all pass, its items or its object's checker."""

    tests: tuple[Test, ...]
    items: ValuePlan | None = None
    checker: str | None = None  # the owner of the nested object's checker


@dataclass(frozen=True)
class MemberPlan:
    """One key of a checked object. `path` is the field's path as a template: `{path}` stands for
    the object's own path, `{index}` for an item's index."""

    name: str
    path: str
    required: bool
    value: ValuePlan


@dataclass(frozen=True)
class Constant:
    kind: Literal["FIELDS", "VALUES", "PATTERN"]
    values: tuple[str, ...]  # allowed keys and enum values, sorted; the pattern alone, as written


@dataclass(frozen=True)
class ObjectPlan:
    """A checker of a dict with exactly `members`, named after its owner: an event's identifier,
    `context`, or `<event>__<field>` for a nested object (no catalog name holds a double
    underscore, so names cannot collide)."""

    owner: str
    event: str
    description: str
    allowed: str  # the constant of its keys
    members: tuple[MemberPlan, ...]


@dataclass
class CheckPlan:
    """Constants and object checkers of one catalog, in creation order (a nested object's checker
    comes before its parent's)."""

    constants: dict[str, Constant] = field(default_factory=dict)
    objects: list[ObjectPlan] = field(default_factory=list)
    context: str = ""  # the owner of the context's checker
    app_context: str = ""  # the owner of the checker of what the app gives to `configure(context=...)`
    # The owner of the checker of a report's context (a feedback event's); None without feedback events.
    report_context: str | None = None
    events: dict[str, str] = field(default_factory=dict)  # the owner of each event's checker, by event name

    def constant(self, owner: str, constant: Constant) -> str:
        """Name the constant of `owner` (`app_started__mode` → `APP_STARTED__MODE_VALUES`)."""
        name = f"{owner.upper()}_{constant.kind}"
        known = self.constants.setdefault(name, constant)
        assert known == constant, f"{name} stands for {known} and {constant}"
        return name

    def failures(self) -> set[Failure]:
        """Every kind of failure some test looks for (renderers import only the helpers they need)."""
        found: set[Failure] = set()

        def visit(value: ValuePlan) -> None:
            found.update(test.failure for test in value.tests)
            if value.items is not None:
                visit(value.items)

        for plan in self.objects:
            for member in plan.members:
                visit(member.value)
        return found

    def add_object(
        self,
        owner: str,
        event: str,
        members: Iterable[tuple[str, ValueType, bool]],
        description: str,
        members_of: str | None = None,
    ) -> str:
        """Plan the checker of a dict whose keys are `members` (name, type, required); return its owner.

        The members' constants are named after `members_of` (default `owner`), so two checkers of the
        same fields share them."""
        members = tuple(members)
        allowed = self.constant(owner, Constant("FIELDS", tuple(sorted(name for name, _, _ in members))))
        planned = []
        for name, value_type, required in members:
            assert name.isidentifier(), name  # it stands inside the templates of paths
            path = "{path}" + name
            value = self._value(value_type, event, path, f"{members_of or owner}__{python_name(name)}")
            planned.append(MemberPlan(name, path, required, value))
        self.objects.append(ObjectPlan(owner, event, description, allowed, tuple(planned)))
        return owner

    def _value(self, value_type: ValueType, event: str, path: str, owner: str) -> ValuePlan:
        if isinstance(value_type, StringType):
            tests = [Test("not-string", "type", " is not a string")]
            if value_type.min_length:
                bound = value_type.min_length
                tests.append(Test("shorter", "minLength", f" is shorter than {bound} characters", bound))
            bound = value_type.max_length
            tests.append(Test("longer", "maxLength", f" is longer than {bound} characters", bound))
            if value_type.pattern is not None:
                regex = self.constant(owner, Constant("PATTERN", (value_type.pattern,)))
                message = f" does not match {value_type.pattern!r}"
                tests.append(Test("no-match", "pattern", message, constant=regex))
            return ValuePlan(tuple(tests))
        if isinstance(value_type, EnumType):
            values = list(dict.fromkeys(value_type.values))
            allowed = self.constant(owner, Constant("VALUES", tuple(sorted(values))))
            return ValuePlan((Test("not-in-enum", "enum", f" is not one of {values!r}", constant=allowed),))
        if isinstance(value_type, NumericType):
            if value_type.integer:
                tests = [Test("not-integer", "type", " is not an integer")]
            else:
                tests = [Test("not-finite-number", "type", " is not a finite number")]
            if value_type.minimum is not None:
                words = f" is less than the minimum of {value_type.minimum!r}"
                tests.append(Test("below", "minimum", words, value_type.minimum))
            if value_type.maximum is not None:
                words = f" is greater than the maximum of {value_type.maximum!r}"
                tests.append(Test("above", "maximum", words, value_type.maximum))
            return ValuePlan(tuple(tests))
        if isinstance(value_type, BooleanType):
            return ValuePlan((Test("not-boolean", "type", " is not a boolean"),))
        if isinstance(value_type, ArrayType):
            tests = [Test("not-array", "type", " is not a list")]
            if value_type.min_items:
                bound = value_type.min_items
                tests.append(Test("fewer-items", "minItems", f" has fewer than {bound} items", bound))
            bound = value_type.max_items
            tests.append(Test("more-items", "maxItems", f" has more than {bound} items", bound))
            if value_type.unique:
                tests.append(Test("duplicates", "uniqueItems", " has repeated items"))
            items = self._value(value_type.items, event, path + "[{index}]", owner)
            return ValuePlan(tuple(tests), items=items)
        assert isinstance(value_type, ObjectType)
        field_name = path.rpartition("}")[2]  # the wire name, after `{path}`
        checker = self.add_object(
            owner, event, field_members(value_type.fields), f"The {field_name} object of {event}."
        )
        return ValuePlan((Test("not-object", "type", " is not an object"),), checker=checker)


def check_function(owner: str) -> str:
    """The name of the generated function that checks the object of `owner`, in every language: a
    nested object's `<event>__<field>` cannot collide with another name."""
    return f"check_{owner}"


def field_members(fields: Iterable[Field]) -> Iterable[tuple[str, ValueType, bool]]:
    return ((f.name, f.type, f.required) for f in fields)


@per_catalog  # the python and typescript targets render the same plan
def check_plan(catalog: Catalog) -> CheckPlan:
    """The plan of every checker of the catalog: the contexts', then each event's."""
    plan = CheckPlan()
    context = ((c.name, c.type, c.required) for c in catalog.context)
    plan.context = plan.add_object("context", "context", context, "The context sent with every event.")
    app_context = ((c.name, c.type, c.required) for c in catalog.context if c.source == APP_SOURCE)
    description = "The context the app gives to configure(context=...)."
    plan.app_context = plan.add_object("context__app", "context", app_context, description, "context")
    if any(event.category is Category.FEEDBACK for event in catalog.events):
        report_context = ((c.name, c.type, c.required_in_reports) for c in catalog.context)
        description = "The context of a report the user sends."
        plan.report_context = plan.add_object("context__report", "context", report_context, description, "context")
    for event in catalog.events:
        description = f"The data of one {event.name} event."
        plan.events[event.name] = plan.add_object(
            event.identifier, event.name, field_members(event.fields), description
        )
    return plan
