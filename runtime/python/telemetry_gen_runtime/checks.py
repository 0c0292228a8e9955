"""What the generated checks use besides the standard library."""

from __future__ import annotations

from typing import Any

from .errors import Violation

# The value `dict.get` gives for a field that is absent (None is a value a field may hold).
MISSING: Any = object()


def unexpected_fields(event: str, path: str, data: dict[str, Any], allowed: frozenset[str]) -> list[Violation]:
    """One violation per key of `data` that the schema does not declare."""
    return [
        Violation(event, path + key, "additionalProperties", "unexpected field")
        for key in sorted(map(str, data.keys() - allowed))
    ]


def has_duplicates(values: list[Any]) -> bool:
    """Whether a list of JSON scalars repeats an item (in linear time)."""
    try:
        return len(set(values)) != len(values)
    except TypeError:  # unhashable items are reported by the item checks
        return False


# The types of JSON's scalars: a list holding only these is copied whole, without a call per item.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def copied(value: Any) -> Any:
    """`value` with every list and dict in it copied, so what is checked is what is sent."""
    if isinstance(value, list):
        if _SCALARS.issuperset(map(type, value)):
            return value.copy()
        return [copied(item) for item in value]
    if isinstance(value, dict):
        return {key: copied(item) for key, item in value.items()}
    return value
