"""Compile catalog value types into the generated Python checks: one function per event.

A check accepts exactly the values the generated JSON Schema accepts (as judged by jsonschema's
Draft 2020-12 validator, on JSON values), and explains each rejection as a `Violation` (event,
field path, the JSON Schema keyword that fails, message). Every test mirrors a keyword: `type`
with jsonschema's own type rules (bools are not numbers, 1.0 is an integer), `maxLength` counting
code points, `pattern` with ECMA-262's anchors, `enum`, `minimum`/`maximum`,
`maxItems`/`minItems`/`uniqueItems` and `additionalProperties: false`. One deliberate extra: NaN
and infinities, which JSON cannot carry, are not numbers here.

Every literal that comes from the catalog reaches the code through `repr()` of a Python value,
so no catalog text can break out of a string. Constants are named after the event and field
they serve, so a change to one field changes only that field's lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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
    python_name,
)
from ..catalog.patterns import python_pattern
from .common import render_template

INDENT = "    "


@dataclass(frozen=True)
class Member:
    """One key of a checked object: a field of an event, of a nested object, or of the context."""

    name: str
    type: ValueType
    required: bool


def members(fields: Iterable[Field]) -> tuple[Member, ...]:
    """The members of an object whose keys are these fields."""
    return tuple(Member(f.name, f.type, f.required) for f in fields)


@dataclass(frozen=True)
class CheckFunction:
    """A generated `def name(data, path="") -> list[Violation]`."""

    name: str
    docstring: str
    body: str  # its lines, indented and joined


@dataclass
class CheckModule:
    """Constants and functions of one generated module, in creation order."""

    constants: dict[str, str] = field(default_factory=dict)  # name -> Python expression
    functions: list[CheckFunction] = field(default_factory=list)

    def constant(self, owner: str, kind: str, expression: str) -> str:
        """Name the module-level constant of kind `kind` for the event, field or context `owner`
        (`app_started__mode` → `APP_STARTED__MODE_VALUES`)."""
        name = f"{owner.upper()}_{kind}"
        known = self.constants.setdefault(name, expression)
        assert known == expression, f"{name} stands for {known} and {expression}"
        return name

    def uses(self, text: str) -> bool:
        """Whether any generated line holds `text` (to import only what the module uses)."""
        return any(text in f.body for f in self.functions) or any(text in c for c in self.constants.values())

    def object_checker(
        self, owner: str, event: str, members: tuple[Member, ...], docstring: str, members_of: str | None = None
    ) -> str:
        """Add the function checking a dict with exactly `members`; return its name.

        `owner` names it (`check_<owner>`) and its constants; a nested object's owner is
        `<event>__<field>`: no catalog name holds a double underscore, so names cannot collide.
        The members' constants are named after `members_of` (default `owner`), so two checks of
        the same fields share them.
        """
        names = sorted(m.name for m in members)
        allowed = self.constant(owner, "FIELDS", f"frozenset({names!r})" if names else "frozenset[str]()")
        event_literal = repr(event)
        lines = [
            "found: list[Violation] = []",
            f"if not {allowed}.issuperset(data):",
            f"{INDENT}found += unexpected_fields({event_literal}, path, data, {allowed})",
        ]
        for member in members:
            assert member.name.isidentifier(), member.name  # it stands inside the f-strings of paths
            where = "{path}" + member.name
            lines.append(f"value = data.get({member.name!r}, MISSING)")
            checks = self._value_checks(
                member.type, "value", event, where, f"{members_of or owner}__{python_name(member.name)}"
            )
            if member.required:
                # Every block of checks is one if-chain, so it continues the test for absence.
                missing = f"Violation({event_literal}, f\"{where}\", 'required', 'required field is missing')"
                lines += [
                    "if value is MISSING:",
                    f"{INDENT}found.append({missing})",
                    "el" + checks[0],
                    *checks[1:],
                ]
            else:
                lines.append("if value is not MISSING:")
                lines += [INDENT + line for line in checks]
        lines.append("return found")
        name = f"check_{owner}"
        self.functions.append(CheckFunction(name, docstring, "\n".join(INDENT + line for line in lines)))
        return name

    def _value_checks(self, value_type: ValueType, var: str, event: str, where: str, owner: str) -> list[str]:
        """Lines checking the value in `var`: one if-chain. `where` is the field's path, as the text of an f-string."""

        def fail(keyword: str, message: str) -> str:
            return f'found.append(Violation({event!r}, f"{where}", {keyword!r}, repr({var}) + {message}))'

        if isinstance(value_type, StringType):
            # One failure per value: the length is tested before the pattern, so a huge string is never searched.
            lines = [f"if not isinstance({var}, str):", INDENT + fail("type", repr(" is not a string"))]
            if value_type.min_length:
                lines += [
                    f"elif len({var}) < {value_type.min_length}:",
                    INDENT + fail("minLength", repr(f" is shorter than {value_type.min_length} characters")),
                ]
            lines += [
                f"elif len({var}) > {value_type.max_length}:",
                INDENT + fail("maxLength", repr(f" is longer than {value_type.max_length} characters")),
            ]
            if value_type.pattern is not None:
                regex = self.constant(owner, "PATTERN", f"re.compile({python_pattern(value_type.pattern)!r})")
                lines += [
                    f"elif {regex}.search({var}) is None:",
                    INDENT + fail("pattern", repr(f" does not match {value_type.pattern!r}")),
                ]
            return lines
        if isinstance(value_type, EnumType):
            values = list(dict.fromkeys(value_type.values))
            allowed = self.constant(owner, "VALUES", f"frozenset({sorted(values)!r})")
            return [
                f"if not (isinstance({var}, str) and {var} in {allowed}):",
                INDENT + fail("enum", repr(f" is not one of {values!r}")),
            ]
        if isinstance(value_type, NumericType):
            # jsonschema's Draft 2020-12 rules: bools are not numbers, and 2.0 is an integer.
            whole = f"(isinstance({var}, int) and not isinstance({var}, bool))"
            if value_type.integer:
                test = f"{whole} or (isinstance({var}, float) and {var}.is_integer())"
                kind = " is not an integer"
            else:
                test = f"{whole} or (isinstance({var}, float) and isfinite({var}))"
                kind = " is not a finite number"
            lines = [f"if not ({test}):", INDENT + fail("type", repr(kind))]
            bounds = [
                (value_type.minimum, "<", "minimum", "less than the minimum"),
                (value_type.maximum, ">", "maximum", "greater than the maximum"),
            ]
            for bound, operator, keyword, words in bounds:
                if bound is not None:
                    message = repr(f" is {words} of {bound!r}")
                    lines += [f"elif {var} {operator} {bound!r}:", INDENT + fail(keyword, message)]
            return lines
        if isinstance(value_type, BooleanType):
            return [f"if not isinstance({var}, bool):", INDENT + fail("type", repr(" is not a boolean"))]
        if isinstance(value_type, ArrayType):
            lines = [f"if not isinstance({var}, list):", INDENT + fail("type", repr(" is not a list"))]
            if value_type.min_items:
                lines += [
                    f"elif len({var}) < {value_type.min_items}:",
                    INDENT + fail("minItems", repr(f" has fewer than {value_type.min_items} items")),
                ]
            # Items are looked at only within the bound, so a huge list costs no more than one at the limit.
            lines += [
                f"elif len({var}) > {value_type.max_items}:",
                INDENT + fail("maxItems", repr(f" has more than {value_type.max_items} items")),
            ]
            if value_type.unique:
                lines += [f"elif has_duplicates({var}):", INDENT + fail("uniqueItems", repr(" has repeated items"))]
            item_checks = self._value_checks(value_type.items, "item", event, where + "[{index}]", owner)
            lines += ["else:", f"{INDENT}for index, item in enumerate({var}):"]
            lines += [INDENT * 2 + line for line in item_checks]
            return lines
        assert isinstance(value_type, ObjectType)
        fields = members(value_type.fields)
        field_name = where.rpartition("}")[2]  # the wire name, after `{path}`
        checker = self.object_checker(owner, event, fields, f"The {field_name} object of {event}.")
        return [
            f"if not isinstance({var}, dict):",
            INDENT + fail("type", repr(" is not an object")),
            "else:",
            f'{INDENT}found += {checker}({var}, f"{where}.")',
        ]


@dataclass(frozen=True)
class CatalogChecks:
    """The checks of a whole catalog: the module, and which of its functions checks what."""

    module: CheckModule
    context: str  # the name of the context's check
    app_context: str  # the name of the check of what the app gives to `configure(context=...)`
    # The name of the context's check for a report the user sends; None without feedback events.
    report_context: str | None
    events: dict[str, str]  # the name of each event's check, by event name


def catalog_checks(catalog: Catalog) -> CatalogChecks:
    module = CheckModule()
    context = tuple(Member(c.name, c.type, c.required) for c in catalog.context)
    context_check = module.object_checker("context", "context", context, "The context sent with every event.")
    app_context = tuple(Member(c.name, c.type, c.required) for c in catalog.context if c.source == APP_SOURCE)
    app_context_check = module.object_checker(
        "context__app", "context", app_context, "The context the app gives to configure(context=...).", "context"
    )
    report_context_check = None
    if any(event.category is Category.FEEDBACK for event in catalog.events):
        report_context = tuple(Member(c.name, c.type, c.required_in_reports) for c in catalog.context)
        report_context_check = module.object_checker(
            "context__report", "context", report_context, "The context of a report the user sends.", "context"
        )
    events = {
        event.name: module.object_checker(
            event.identifier,
            event.name,
            members(event.fields),
            f"The data of one {event.name} event.",
        )
        for event in catalog.events
    }
    return CatalogChecks(module, context_check, app_context_check, report_context_check, events)


def module_source(module: CheckModule, header: str) -> str:
    """The text of `_checks.py`: the generated package's, and the collector's, which runs it in memory."""
    imports = ["import re"] if module.uses("re.compile(") else []
    imports += ["from math import isfinite"] if module.uses("isfinite(") else []
    imports.append("from typing import Any")
    support = ["Violation", "unexpected_fields"]
    support += [name for name in ("MISSING", "has_duplicates") if module.uses(name)]
    return render_template(
        "python/_checks.py.jinja",
        header=header,
        check_imports=imports,
        check_support=", ".join(sorted(support)),
        checks=module,
    )
