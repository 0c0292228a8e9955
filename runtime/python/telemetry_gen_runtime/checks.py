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


def copied(value: Any) -> Any:
    """A copy of a list or object argument, so what is checked is what is sent.

    A valid value nests no deeper than an object of lists of scalars, so that is as deep as it is
    copied: a deeper list or object is shared, but the check rejects the event it is in.
    """
    if isinstance(value, list):
        return value.copy()
    if isinstance(value, dict):
        return {key: item.copy() if isinstance(item, list) else item for key, item in value.items()}
    return value
