"""A quick yes/no answer to "does this data satisfy the JSON Schema?", for the catalog's meta-schema.

jsonschema collects every error with its path and context; on a catalog of a thousand events
that takes seconds, although nearly every catalog a build sees is valid. `compile_gate` turns the
schema into nested functions that only answer yes or no, and `check_structure` asks jsonschema
for the errors only when the answer is no. So jsonschema stays the judge of every reported
error; the gate must only never say yes where jsonschema finds an error.

The compiler knows exactly the Draft 2020-12 keywords the meta-schema uses, with jsonschema's
semantics (booleans are not numbers, 1.0 is an integer, `pattern` is `re.search`), and refuses
any other keyword, so a change of the meta-schema cannot silently loosen the gate.
tests/test_schema_gate.py checks the gate against jsonschema.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Sized
from typing import Any

Check = Callable[[Any], bool]

# Keywords that do not constrain the data.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description"})


def _is_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Number)


_IS_TYPE: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "integer": _is_integer,
    "number": _is_number,
}


def _equals(value: object, constant: object) -> bool:
    """jsonschema's equality of `value` and a scalar constant: True and 1 differ, 1 and 1.0 do not."""
    if value is constant:
        return True
    if isinstance(value, str) or isinstance(constant, str):
        return value == constant
    if isinstance(value, bool) or isinstance(constant, bool):
        return False  # a boolean equals only itself, handled above
    return bool(value == constant)


def _always(value: object) -> bool:
    return True


def _never(value: object) -> bool:
    return False


def _one_of(constants: list[Any]) -> Check:
    for constant in constants:
        if not (constant is None or isinstance(constant, (str, int, float))):
            raise NotImplementedError(f"const/enum value {constant!r}: only scalars are supported")
    strings = frozenset(constant for constant in constants if isinstance(constant, str))
    others = [constant for constant in constants if not isinstance(constant, str)]

    def one_of(value: object) -> bool:
        if isinstance(value, str):
            return value in strings  # a string equals only a string
        return any(_equals(value, constant) for constant in others)

    return one_of


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def all_of(value: object) -> bool:
        for check in checks:  # noqa: SIM110 - a loop: all() over a generator is much slower here
            if not check(value):
                return False
        return True

    return all_of


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        # Compiled `$ref` targets by (pointer, exact); None while one is being compiled.
        self.targets: dict[tuple[str, bool], Check | None] = {}

    def schema(self, schema: object, *, exact: bool) -> Check:
        """The check of `schema`. `exact`: it must also never say no where jsonschema says yes
        (needed under `not` and `if`, which turn a no into a yes)."""
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise NotImplementedError(f"schema {schema!r}")
        checks = []
        for keyword, argument in schema.items():
            if keyword not in _ANNOTATIONS:
                check = self.keyword(keyword, argument, schema, exact=exact)
                if check is not None:
                    checks.append(check)
        return _all_of(checks)

    def keyword(self, keyword: str, argument: Any, schema: dict[str, Any], *, exact: bool) -> Check | None:
        """The check of one keyword; None for one that another keyword's check covers."""
        if keyword == "type":
            if not isinstance(argument, str):
                raise NotImplementedError("`type` with a list of types")
            return _IS_TYPE[argument]
        if keyword == "const":
            return _one_of([argument])
        if keyword == "enum":
            return _one_of(list(argument))
        if keyword in ("properties", "additionalProperties"):
            if keyword == "additionalProperties" and "properties" in schema:
                return None
            if "patternProperties" in schema:
                raise NotImplementedError("patternProperties")
            return self.object_members(schema, exact=exact)
        if keyword == "required":
            return _required(frozenset(argument))
        if keyword == "propertyNames":
            return _property_names(self.schema(argument, exact=exact))
        if keyword == "items":
            if "prefixItems" in schema:
                raise NotImplementedError("prefixItems")
            return _items(self.schema(argument, exact=exact))
        if keyword == "uniqueItems":
            if not argument:
                return None
            if exact:
                raise NotImplementedError("uniqueItems under `not` or `if`: its check is only sufficient")
            return _unique_strings
        if keyword in _SIZE_LIMITS:
            return _SIZE_LIMITS[keyword](argument)
        if keyword == "pattern":
            return _pattern(re.compile(argument).search)
        if keyword == "allOf":
            cases = _cases_by_member(argument)
            if cases is not None:
                return self.cases_by_member(*cases, exact=exact)
            return _all_of([self.schema(subschema, exact=exact) for subschema in argument])
        if keyword == "not":
            return _negation(self.schema(argument, exact=True))
        if keyword == "if":
            return _conditional(
                self.schema(argument, exact=True),
                self.schema(schema.get("then", True), exact=exact),
                self.schema(schema.get("else", True), exact=exact),
            )
        if keyword in ("then", "else"):
            return None
        if keyword == "$ref":
            return self.reference(argument, exact=exact)
        raise NotImplementedError(f"keyword {keyword!r}")

    def object_members(self, schema: dict[str, Any], *, exact: bool) -> Check:
        """`properties` and `additionalProperties` together: one pass over the mapping's members."""
        members = {
            name: self.schema(subschema, exact=exact) for name, subschema in schema.get("properties", {}).items()
        }
        if "additionalProperties" not in schema:
            # Only the named members are checked: looking each up beats walking all of the value's.
            named = tuple(members.items())

            def named_members(value: object) -> bool:
                if isinstance(value, dict):
                    for name, member in named:
                        if name in value and not member(value[name]):
                            return False
                return True

            return named_members
        other = self.schema(schema["additionalProperties"], exact=exact)

        def object_members(value: object) -> bool:
            if isinstance(value, dict):
                for name, member in value.items():
                    if not members.get(name, other)(member):
                        return False
            return True

        return object_members

    def cases_by_member(self, name: str, cases: list[tuple[frozenset[str], object]], *, exact: bool) -> Check:
        """An allOf of `if` (the member `name` is one of some strings) `then` (a schema): one lookup
        of the member finds the schemas that apply, instead of testing every `if` in turn."""
        compiled = [(values, self.schema(then, exact=exact)) for values, then in cases]
        every_case = _all_of([check for _, check in compiled])
        by_value = {
            value: _all_of([check for values, check in compiled if value in values])
            for value in frozenset().union(*(values for values, _ in compiled))
        }

        def case_of_member(value: object) -> bool:
            if not isinstance(value, dict):
                return every_case(value)  # `properties` and `required` hold for other values: every `if` does
            member = value.get(name)
            # A missing member fails `required`, and a value that is not a string equals no constant.
            check = by_value.get(member) if isinstance(member, str) else None
            return check is None or check(value)

        return case_of_member

    def reference(self, pointer: str, *, exact: bool) -> Check:
        if not pointer.startswith("#/") or "~" in pointer:
            raise NotImplementedError(f"$ref {pointer!r}: only plain pointers into this schema are supported")
        key = (pointer, exact)
        if key not in self.targets:
            target: Any = self.root
            for part in pointer[2:].split("/"):
                target = target[part]
            self.targets[key] = None
            self.targets[key] = self.schema(target, exact=exact)
        compiled = self.targets[key]
        if compiled is not None:
            return compiled
        targets = self.targets  # a recursive reference: found once compiling is done

        def recursive(value: object) -> bool:
            check = targets[key]
            assert check is not None
            return check(value)

        return recursive


def _cases_by_member(subschemas: list[Any]) -> tuple[str, list[tuple[frozenset[str], object]]] | None:
    """The member name and the cases when `subschemas` (of an allOf) are all of the form
    {"if": {"properties": {name: {"const" or "enum": strings}}, "required": [name]}, "then": schema}
    with the same name; None otherwise."""
    names = set()
    cases = []
    for subschema in subschemas:
        if not isinstance(subschema, dict) or subschema.keys() != {"if", "then"}:
            return None
        condition = subschema["if"]
        if not isinstance(condition, dict) or condition.keys() != {"properties", "required"}:
            return None
        members, required = condition["properties"], condition["required"]
        if not isinstance(members, dict) or len(members) != 1 or list(members) != required:
            return None
        name, member = next(iter(members.items()))
        if not isinstance(member, dict):
            return None
        if member.keys() == {"const"}:
            constants = [member["const"]]
        elif member.keys() == {"enum"}:
            constants = list(member["enum"])
        else:
            return None
        if not all(isinstance(constant, str) for constant in constants):
            return None
        names.add(name)
        cases.append((frozenset(constants), subschema["then"]))
    if len(names) != 1:
        return None
    return names.pop(), cases


def _required(names: frozenset[str]) -> Check:
    def required(value: object) -> bool:
        return not isinstance(value, dict) or value.keys() >= names

    return required


def _property_names(check: Check) -> Check:
    def property_names(value: object) -> bool:
        if isinstance(value, dict):
            for name in value:
                if not check(name):
                    return False
        return True

    return property_names


def _items(check: Check) -> Check:
    def items(value: object) -> bool:
        if isinstance(value, list):
            for item in value:
                if not check(item):
                    return False
        return True

    return items


def _unique_strings(value: object) -> bool:
    """Unique items, answered for lists of strings only (a no for others lets jsonschema judge)."""
    if not isinstance(value, list):
        return True
    return all(isinstance(item, str) for item in value) and len(set(value)) == len(value)


def _pattern(search: Callable[[str], object]) -> Check:
    def pattern(value: object) -> bool:
        return not isinstance(value, str) or search(value) is not None

    return pattern


def _negation(check: Check) -> Check:
    def negation(value: object) -> bool:
        return not check(value)

    return negation


def _conditional(condition: Check, then: Check, otherwise: Check) -> Check:
    def conditional(value: object) -> bool:
        return then(value) if condition(value) else otherwise(value)

    return conditional


def _length_limit(kind: type[Sized], low: float = 0, high: float = math.inf) -> Check:
    def length_limit(value: object) -> bool:
        return not isinstance(value, kind) or low <= len(value) <= high

    return length_limit


def _number_limit(low: float = -math.inf, high: float = math.inf) -> Check:
    def number_limit(value: Any) -> bool:
        return not _is_number(value) or not (value < low or value > high)  # as jsonschema words it: NaN is within

    return number_limit


# The size and range keywords: the values they apply to and their bounds.
_SIZE_LIMITS: dict[str, Callable[[Any], Check]] = {
    "minLength": lambda n: _length_limit(str, low=n),
    "maxLength": lambda n: _length_limit(str, high=n),
    "minItems": lambda n: _length_limit(list, low=n),
    "minProperties": lambda n: _length_limit(dict, low=n),
    "minimum": lambda n: _number_limit(low=n),
    "maximum": lambda n: _number_limit(high=n),
}


def compile_gate(schema: dict[str, Any]) -> Check:
    """A function saying whether data satisfies `schema` (True only when jsonschema finds no error)."""
    return _Compiler(schema).schema(schema, exact=False)
