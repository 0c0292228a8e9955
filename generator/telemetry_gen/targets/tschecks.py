"""Render the check plan (`checkplan.py`) as TypeScript: `src/checks.ts`, one function per object checker.

Every literal that comes from the catalog reaches the code through `json.dumps()`, whose output
is a valid JavaScript literal, so no catalog text can break out of a string. Values follow
jsonschema's type rules in JavaScript terms: numbers are finite (`Number.isFinite`), integers
are `Number.isInteger` (so 1.0, which JSON.parse reads as 1, is one), lengths count code points
(`longerThan`, `shorterThan` from the runtime), and patterns run with the `u` flag, as JSON Schema
reads them; the catalog accepts only patterns that mean the same there and in Python.
"""

from __future__ import annotations

import json

from .checkplan import CheckPlan, Constant, ObjectPlan, Test, ValuePlan, check_function
from .common import render_template

INDENT = "  "
# Keys every JavaScript object inherits: reading one that is absent must not find the inherited value.
_INHERITED = frozenset(
    {"constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "toString", "valueOf"}
)


def _literal(value: object) -> str:
    return json.dumps(value)


def _template(path: str) -> str:
    """A plan's path template as a JavaScript template literal."""
    return "`" + path.replace("{", "${") + "`"


def _constant(constant: Constant) -> str:
    if constant.kind == "PATTERN":
        return f"new RegExp({_literal(constant.values[0])}, {_literal('u')})"
    return f"new Set<string>({_literal(list(constant.values))})"


def _condition(test: Test, var: str) -> str:
    """The TypeScript expression that holds when `var` fails `test`."""
    match test.failure:
        case "not-string":
            return f'typeof {var} !== "string"'
        case "shorter":
            return f"shorterThan({var}, {test.bound!r})"
        case "longer":
            return f"longerThan({var}, {test.bound!r})"
        case "no-match":
            return f"!{test.constant}.test({var})"
        case "not-in-enum":
            return f'!(typeof {var} === "string" && {test.constant}.has({var}))'
        case "not-integer":
            return f"!Number.isInteger({var})"
        case "not-finite-number":
            return f"!Number.isFinite({var})"
        case "below":
            return f"({var} as number) < {test.bound!r}"
        case "above":
            return f"({var} as number) > {test.bound!r}"
        case "not-boolean":
            return f'typeof {var} !== "boolean"'
        case "not-array":
            return f"!Array.isArray({var})"
        case "fewer-items":
            return f"{var}.length < {test.bound!r}"
        case "more-items":
            return f"{var}.length > {test.bound!r}"
        case "duplicates":
            return f"hasDuplicates({var})"
        case "not-object":
            return f"!isObject({var})"
    raise ValueError(f"no condition for the failure {test.failure!r}")


def _violation(event: str, path: str, keyword: str, message: str) -> str:
    fields = f"event: {_literal(event)}, field: {_template(path)}, code: {_literal(keyword)}, message: {message}"
    return f"found.push({{ {fields} }});"


def _value_lines(value: ValuePlan, var: str, event: str, path: str, first: bool) -> list[str]:
    """Lines checking the value in `var`: one if-chain (continuing an earlier `if` unless `first`).
    A nested object's checker replaces `var` with its copy."""
    lines = []
    for position, test in enumerate(value.tests):
        opening = "if" if first and position == 0 else "} else if"
        message = f"shown({var}) + {_literal(test.message)}"
        lines += [f"{opening} ({_condition(test, var)}) {{", INDENT + _violation(event, path, test.keyword, message)]
    if value.items is not None:
        lines += ["} else {", f"{INDENT}for (let index = 0; index < {var}.length; index++) {{"]
        lines.append(f"{INDENT * 2}const item: unknown = {var}[index];")
        item_lines = _value_lines(value.items, "item", event, path + "[{index}]", first=True)
        lines += [INDENT * 2 + line for line in item_lines]
        lines.append(INDENT + "}")
    if value.checker is not None:
        copy = f"{check_function(value.checker)}({var}, found, {_template(path + '.')})"
        lines += ["} else {", f"{INDENT}{var} = {copy};"]
    lines.append("}")
    return lines


def _body(plan: ObjectPlan) -> str:
    """Check `data` and copy what the checks read: the copy holds each declared value as it was
    read (a list sliced, a nested object copied by its checker), so what is checked is what is
    sent, and the app's later changes to its object do not reach the event."""
    event = _literal(plan.event)
    undeclared = "if (data[key] !== undefined) (unexpected ??= []).push(key);"
    if plan.members:
        cases = [INDENT * 2 + f"case {_literal(member.name)}:" for member in plan.members]
        switch = [f"{INDENT}switch (key) {{", *cases, INDENT * 3 + "break;", f"{INDENT * 2}default:"]
        loop = [*switch, INDENT * 3 + undeclared, f"{INDENT}}}"]
    else:
        loop = [INDENT + undeclared]
    lines = [
        "let unexpected: string[] | undefined;",
        "for (const key in data) {",
        *loop,
        "}",
        "if (unexpected !== undefined) {",
        f"{INDENT}unexpectedFields(found, {event}, path, unexpected);",
        "}",
    ]
    for member in plan.members:
        key = _literal(member.name)
        var = _variable(member.name)
        read = f"Object.hasOwn(data, {key}) ? data[{key}] : undefined" if member.name in _INHERITED else f"data[{key}]"
        reassigned = member.value.items is not None or member.value.checker is not None  # by a copy
        lines.append(f"{'let' if reassigned else 'const'} {var}: unknown = {read};")
        if member.value.items is not None:
            lines.append(f"if (Array.isArray({var})) {var} = {var}.slice();")
        if member.required:
            missing = _violation(plan.event, member.path, "required", _literal("required field is missing"))
            lines += [f"if ({var} === undefined) {{", INDENT + missing]
            lines += _value_lines(member.value, var, plan.event, member.path, first=False)
        else:
            lines.append(f"if ({var} !== undefined) {{")
            lines += [INDENT + line for line in _value_lines(member.value, var, plan.event, member.path, first=True)]
            lines.append("}")
    # The copy is one object literal: one allocation, which V8 places straight in the old
    # generation once the objects of that literal are seen to live on, as queued events do.
    required = ", ".join(f"{_literal(m.name)}: {_variable(m.name)}" for m in plan.members if m.required)
    lines.append(f"const copy: Data = {{ {required} }};" if required else "const copy: Data = {};")
    for member in plan.members:
        if not member.required:
            var = _variable(member.name)
            lines.append(f"if ({var} !== undefined) copy[{_literal(member.name)}] = {var};")
    lines.append("return copy;")
    return "\n".join(INDENT + line for line in lines)


def _variable(name: str) -> str:
    """The local holding a field's value: prefixed, so no wire name collides with a keyword or a local."""
    return f"value_{name}"


def module_source(plan: CheckPlan, header: str) -> str:
    """The text of the generated package's `src/checks.ts`."""
    failures = plan.failures()
    helpers = {"unexpectedFields"}
    if plan.objects and any(o.members for o in plan.objects):
        helpers.add("shown")
    for failure, helper in (
        ("shorter", "shorterThan"),
        ("longer", "longerThan"),
        ("duplicates", "hasDuplicates"),
        ("not-object", "isObject"),
    ):
        if failure in failures:
            helpers.add(helper)
    functions = [(check_function(o.owner), o.description, _body(o)) for o in plan.objects]
    return render_template(
        "typescript/checks.ts.jinja",
        header=header,
        helpers=", ".join(sorted(helpers)),
        # The allowed keys are the cases of each checker's `switch`, which tests a key without hashing it.
        constants={name: _constant(c) for name, c in plan.constants.items() if c.kind != "FIELDS"},
        functions=functions,
    )
