"""Render the check plan (`checkplan.py`) as Python: `_checks.py`, one function per object checker.

Every literal that comes from the catalog reaches the code through `repr()` of a Python value,
so no catalog text can break out of a string. Values follow jsonschema's type rules in Python
terms: bools are not numbers, a float with no fraction is an integer, `len()` counts code points,
and each pattern's `$` is read as ECMA-262 reads it (`python_pattern`).
"""

from __future__ import annotations

from ..catalog.patterns import python_pattern
from .checkplan import CheckPlan, Constant, ObjectPlan, Test, ValuePlan, check_function
from .common import render_template

INDENT = "    "


def _constant(constant: Constant) -> str:
    if constant.kind == "PATTERN":
        return f"re.compile({python_pattern(constant.values[0])!r})"
    if not constant.values:
        return "frozenset[str]()"
    return f"frozenset({list(constant.values)!r})"


def _condition(test: Test, var: str) -> str:
    """The Python expression that holds when `var` fails `test`."""
    whole = f"(isinstance({var}, int) and not isinstance({var}, bool))"
    match test.failure:
        case "not-string":
            return f"not isinstance({var}, str)"
        case "shorter":
            return f"len({var}) < {test.bound!r}"
        case "longer":
            return f"len({var}) > {test.bound!r}"
        case "no-match":
            return f"{test.constant}.search({var}) is None"
        case "not-in-enum":
            return f"not (isinstance({var}, str) and {var} in {test.constant})"
        case "not-integer":
            return f"not ({whole} or (isinstance({var}, float) and {var}.is_integer()))"
        # A number is most often a float: its test comes first.
        case "not-finite-number":
            return f"not ((isinstance({var}, float) and isfinite({var})) or {whole})"
        case "below":
            return f"{var} < {test.bound!r}"
        case "above":
            return f"{var} > {test.bound!r}"
        case "not-boolean":
            return f"not isinstance({var}, bool)"
        case "not-array":
            return f"not isinstance({var}, list)"
        case "fewer-items":
            return f"len({var}) < {test.bound!r}"
        case "more-items":
            return f"len({var}) > {test.bound!r}"
        case "duplicates":
            return f"has_duplicates({var})"
        case "not-object":
            return f"not isinstance({var}, dict)"
    raise ValueError(f"no condition for the failure {test.failure!r}")


def _value_lines(value: ValuePlan, var: str, event: str, path: str) -> list[str]:
    """Lines checking the value in `var`: one if-chain."""
    lines = []
    for position, test in enumerate(value.tests):
        found = f'found.append(Violation({event!r}, f"{path}", {test.keyword!r}, repr({var}) + {test.message!r}))'
        lines += [f"{'el' if position else ''}if {_condition(test, var)}:", INDENT + found]
    if value.items is not None:
        lines += ["else:", f"{INDENT}for index, item in enumerate({var}):"]
        lines += [INDENT * 2 + line for line in _value_lines(value.items, "item", event, path + "[{index}]")]
    if value.checker is not None:
        lines += ["else:", f'{INDENT}found += {check_function(value.checker)}({var}, f"{path}.")']
    return lines


def _body(plan: ObjectPlan) -> str:
    event = repr(plan.event)
    lines = [
        "found: list[Violation] = []",
        f"if not {plan.allowed}.issuperset(data):",
        f"{INDENT}found += unexpected_fields({event}, path, data, {plan.allowed})",
    ]
    for member in plan.members:
        lines.append(f"value = data.get({member.name!r}, MISSING)")
        checks = _value_lines(member.value, "value", plan.event, member.path)
        if member.required:
            # Every block of checks is one if-chain, so it continues the test for absence.
            missing = f"Violation({event}, f\"{member.path}\", 'required', 'required field is missing')"
            lines += ["if value is MISSING:", f"{INDENT}found.append({missing})", "el" + checks[0], *checks[1:]]
        else:
            lines.append("if value is not MISSING:")
            lines += [INDENT + line for line in checks]
    lines.append("return found")
    return "\n".join(INDENT + line for line in lines)


def module_source(plan: CheckPlan, header: str) -> str:
    """The text of `_checks.py`: the generated package's, and the collector's, which runs it in memory."""
    failures = plan.failures()
    kinds = {constant.kind for constant in plan.constants.values()}
    imports = ["import re"] if "PATTERN" in kinds else []
    imports += ["from math import isfinite"] if "not-finite-number" in failures else []
    imports.append("from typing import Any")
    support = ["Violation", "unexpected_fields"]
    support += ["MISSING"] if plan.objects and any(o.members for o in plan.objects) else []
    support += ["has_duplicates"] if "duplicates" in failures else []
    functions = [(check_function(o.owner), o.description, _body(o)) for o in plan.objects]
    return render_template(
        "python/_checks.py.jinja",
        header=header,
        check_imports=imports,
        check_support=", ".join(sorted(support)),
        constants={name: _constant(constant) for name, constant in plan.constants.items()},
        functions=functions,
    )
