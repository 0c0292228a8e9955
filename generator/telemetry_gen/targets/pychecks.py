"""Compile catalog value types into straight-line Python checks.

The generated checks must accept exactly the values the generated JSON Schemas accept (as
judged by jsonschema's Draft 2020-12 validator, on JSON values), so every test here mirrors a
keyword: `type` with jsonschema's own type rules (bools are not numbers, 1.0 is an integer),
`maxLength` counting code points, `pattern` with `re.search`, `enum`, `minimum`/`maximum`,
`maxItems`/`minItems`/`uniqueItems` and `additionalProperties: false`. One deliberate extra: NaN
and infinities, which JSON cannot carry, are not numbers here.

Every literal that comes from the catalog reaches the code through `repr()` of a Python value,
so no catalog text can break out of a string.

Beside the full checks, `quick_test` writes the emitters' fast path: one boolean expression over
the emitter's arguments that is True only for values the full check accepts. It tests exact types
(`type(v) is str`), so it never raises and cannot be fooled by a subclass or a proxy; whatever it
cannot vouch for (a subclass, 2.0 for an integer, a nested object) goes through the full check,
which decides and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog.model import (
    ArrayType,
    BooleanType,
    EnumType,
    NumericType,
    ObjectType,
    StringType,
    ValueType,
)

INDENT = "    "


@dataclass(frozen=True)
class Member:
    """One key of a checked object: a field of an event, of a nested object, or of the context."""

    name: str
    type: ValueType
    required: bool


@dataclass(frozen=True)
class CheckFunction:
    """A generated `def name(d: dict[str, Any], e: list[str]) -> None` appending violations to `e`."""

    name: str
    body: str  # its lines, indented and joined: laid out one by one, thousands of them were slow in Jinja


@dataclass
class CheckModule:
    """Constants and functions shared by all checks of one generated module, in creation order."""

    constants: dict[str, str] = field(default_factory=dict)  # name -> Python expression
    functions: list[CheckFunction] = field(default_factory=list)
    quick_constants: set[str] = field(default_factory=set)  # the ones emitters' quick tests use
    quick_builtins: set[str] = field(default_factory=set)  # and the builtins they use

    def constant(self, scope: str, kind: str, expression: str) -> str:
        """Name the module-level constant of kind `kind` for the event, field or context `scope`.

        Names come from the catalog (`check_app_started__mode` → `_APP_STARTED__MODE_VALUES`), so a
        change to one field renames nothing else. An empty `scope` names a constant all checks share.
        """
        owner = scope.removeprefix("check_").upper()
        name = f"_{owner}_{kind}" if owner else f"_{kind}"
        known = self.constants.setdefault(name, expression)
        assert known == expression, f"{name} stands for {known} and {expression}"
        return name

    def object_checker(self, name: str, label: str, members: tuple[Member, ...]) -> str:
        """Add a function checking a dict with exactly `members`; return its name.

        A nested object's checker is named `<parent>__<field>`: no catalog name holds a double
        underscore, so it cannot collide with an event's `check_<event>`.
        """
        names = sorted(m.name for m in members)
        keys = self.constant(name, "KEYS", f"frozenset({names!r})" if names else "frozenset[str]()")
        lines = [
            f"if not d.keys() <= {keys}:",
            f"{INDENT}e.extend({label + '.'!r} + str(k) + ': unexpected field'"
            f" for k in sorted(map(str, d.keys() - {keys})))",
        ]
        for member in members:
            path = f"{label}.{member.name}"
            lines.append(f"v = d.get({member.name!r}, _MISSING)")
            checks = self._value_checks(member.type, "v", path, f"{name}__{member.name}")
            if member.required:
                lines += ["if v is _MISSING:", f"{INDENT}e.append({path + ': required field is missing'!r})", "else:"]
            else:
                lines.append("if v is not _MISSING:")
            lines += [INDENT + line for line in checks]
        self.functions.append(CheckFunction(name, "\n".join(INDENT + line for line in lines)))
        return name

    def _value_checks(
        self, value_type: ValueType, var: str, label: str, scope: str, index_var: str | None = None
    ) -> list[str]:
        """Lines checking the value in `var`, named `label` (plus `[index]` inside arrays) in messages."""
        prefix = repr(f"{label}: ") if index_var is None else f"{label!r} + '[' + str({index_var}) + ']: '"

        def fail(message: str) -> str:
            return f"e.append({prefix} + repr({var}) + {message})"

        if isinstance(value_type, StringType):
            lines = [f"if not isinstance({var}, str):", INDENT + fail(repr(" is not a string")), "else:"]
            if value_type.min_length:
                lines += [
                    f"{INDENT}if len({var}) < {value_type.min_length}:",
                    INDENT * 2 + fail(repr(f" is shorter than {value_type.min_length} characters")),
                ]
            lines += [
                f"{INDENT}if len({var}) > {value_type.max_length}:",
                INDENT * 2 + fail(repr(f" is longer than {value_type.max_length} characters")),
            ]
            if value_type.pattern is not None:
                regex = self.constant(scope, "PATTERN", f"re.compile({value_type.pattern!r})")
                lines += [
                    f"{INDENT}if {regex}.search({var}) is None:",
                    INDENT * 2 + fail(f"' does not match ' + repr({regex}.pattern)"),
                ]
            return lines
        if isinstance(value_type, EnumType):
            values = list(dict.fromkeys(value_type.values))
            allowed = self.constant(scope, "VALUES", f"frozenset({sorted(values)!r})")
            listing = self.constant(scope, "LISTING", repr(f" is not one of {values!r}"))
            return [f"if not (isinstance({var}, str) and {var} in {allowed}):", INDENT + fail(listing)]
        if isinstance(value_type, NumericType):
            # jsonschema's Draft 2020-12 rules: bools are not numbers, and 2.0 is an integer.
            whole = f"(isinstance({var}, int) and not isinstance({var}, bool))"
            if value_type.integer:
                test = f"{whole} or (isinstance({var}, float) and {var}.is_integer())"
                kind = " is not an integer"
            else:
                test = f"{whole} or (isinstance({var}, float) and _isfinite({var}))"
                kind = " is not a finite number"
            lines = [f"if not ({test}):", INDENT + fail(repr(kind))]
            bounds = [
                (value_type.minimum, "<", "less than the minimum"),
                (value_type.maximum, ">", "greater than the maximum"),
            ]
            for bound, operator, words in bounds:
                if bound is not None:
                    lines += [f"elif {var} {operator} {bound!r}:", INDENT + fail(repr(f" is {words} of {bound!r}"))]
            return lines
        if isinstance(value_type, BooleanType):
            return [f"if not isinstance({var}, bool):", INDENT + fail(repr(" is not a boolean"))]
        if isinstance(value_type, ArrayType):
            item = f"{var}_item"
            lines = [f"if not isinstance({var}, list):", INDENT + fail(repr(" is not a list")), "else:"]
            if value_type.min_items:
                lines += [
                    f"{INDENT}if len({var}) < {value_type.min_items}:",
                    INDENT * 2 + fail(repr(f" has fewer than {value_type.min_items} items")),
                ]
            lines += [
                f"{INDENT}if len({var}) > {value_type.max_items}:",
                INDENT * 2 + fail(repr(f" has more than {value_type.max_items} items")),
                f"{INDENT}for {var}_index, {item} in enumerate({var}):",
            ]
            lines += [
                INDENT * 2 + line for line in self._value_checks(value_type.items, item, label, scope, f"{var}_index")
            ]
            if value_type.unique:
                lines += [f"{INDENT}if _has_duplicates({var}):", INDENT * 2 + fail(repr(" has repeated items"))]
            return lines
        assert isinstance(value_type, ObjectType)
        members = tuple(Member(f.name, f.type, f.required) for f in value_type.fields)
        checker = self.object_checker(scope, label, members)
        return [
            f"if not isinstance({var}, dict):",
            INDENT + fail(repr(" is not an object")),
            "else:",
            f"{INDENT}{checker}({var}, e)",
        ]

    def quick_constant(self, scope: str, kind: str, expression: str) -> str:
        name = self.constant(scope, kind, expression)
        self.quick_constants.add(name)
        return name

    def _builtin(self, name: str) -> str:
        """A builtin as quick tests name it: `_type`, not `type`, which a field may shadow as an argument."""
        self.quick_builtins.add(name)
        return f"_{name}"

    def quick_test(self, value_type: ValueType, var: str, scope: str) -> str | None:
        """An expression true only for values in `var` the full check accepts; None if no cheap one exists.

        `scope` names the field as the full check does, so both share its constants.
        """
        if isinstance(value_type, ArrayType):
            return self._quick_array_test(value_type, var, scope)
        if isinstance(value_type, ObjectType):
            return None  # nested objects: the full check walks them
        type_of = f"{self._builtin('type')}({var})"
        if isinstance(value_type, StringType):
            parts = [f"{type_of} is {self._builtin('str')}"]
            length = f"{self._builtin('len')}({var})"
            parts.append(_length_range(length, value_type.min_length, value_type.max_length))
            if value_type.pattern is not None:
                regex = self.constant(scope, "PATTERN", f"re.compile({value_type.pattern!r})")
                seen = self.quick_constant(scope, "MATCHES", f"_KnownMatches({regex})")
                parts.append(f"({var} in {seen}.known or {seen}.matches({var}))")
            return " and ".join(parts)
        if isinstance(value_type, EnumType):
            allowed = self.quick_constant(scope, "VALUES", f"frozenset({sorted(set(value_type.values))!r})")
            return f"{type_of} is {self._builtin('str')} and {var} in {allowed}"
        if isinstance(value_type, NumericType):
            low, high = value_type.minimum, value_type.maximum
            lower = "" if low is None else f"{low!r} <= "
            upper = "" if high is None else f" <= {high!r}"
            whole = f"{type_of} is {self._builtin('int')}"
            if value_type.integer:
                kind = whole
            else:
                kind = f"({type_of} is {self._builtin('float')} or {whole})"
                # NaN fails every comparison and the infinities fail a finite bound, so a
                # number is always tested against two bounds.
                if not (lower and upper):
                    infinity = self.quick_constant("", "INFINITY", "float('inf')")
                    lower, upper = lower or f"-{infinity} < ", upper or f" < {infinity}"
            return f"{kind} and {lower}{var}{upper}" if lower or upper else kind
        assert isinstance(value_type, BooleanType)
        return f"{type_of} is {self._builtin('bool')}"

    def _quick_array_test(self, value_type: ArrayType, var: str, scope: str) -> str | None:
        length = f"{self._builtin('len')}({var})"
        parts = [f"{self._builtin('type')}({var}) is {self._builtin('list')}"]
        parts.append(_length_range(length, value_type.min_items, value_type.max_items))
        items = value_type.items
        if isinstance(items, EnumType):
            # Set operations in C: every item an exact str (so hashing cannot fail), every one allowed.
            only_strings = self.quick_constant("", "ONLY_STR", "frozenset([str])")
            allowed = self.quick_constant(scope, "VALUES", f"frozenset({sorted(set(items.values))!r})")
            every_type = f"{self._builtin('map')}({self._builtin('type')}, {var})"
            parts.append(f"{only_strings}.issuperset({every_type})")
            if value_type.unique:  # as many allowed values in common as items: all allowed, none repeated
                parts.append(f"{self._builtin('len')}({allowed}.intersection({var})) == {length}")
            else:
                parts.append(f"{allowed}.issuperset({var})")
        else:
            item_test = self.quick_test(items, "_item", scope)
            if item_test is None:
                return None
            parts.append(f"{self._builtin('all')}({item_test} for _item in {var})")
            if value_type.unique:  # the items are exact strs, ints, floats or bools here: all hashable
                parts.append(f"{self._builtin('len')}({self._builtin('set')}({var})) == {length}")
        return " and ".join(parts)


def _length_range(length: str, minimum: int | None, maximum: int) -> str:
    return f"{minimum} <= {length} <= {maximum}" if minimum else f"{length} <= {maximum}"
