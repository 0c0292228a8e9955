"""Validate step: the loaded data against the catalog's own JSON Schema.

jsonschema-rs finds the problems; this module turns each into a message that names the place in
the catalog's own terms and says what to do.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from jsonschema_rs import Draft202012Validator, ValidationError
from jsonschema_rs import ValidationErrorKind as Kind

from ..diagnostics import Diagnostic, Location, Severity
from .source import Flaws, Path, SourceMap

UNKNOWN_KEY = "CF010"
MISSING_KEY = "CF011"
WRONG_TYPE = "CF012"
BAD_VALUE = "CF013"
EMPTY_VALUE = "CF014"

# Human explanations of the meta-schema's patterns, keyed by the pattern itself.
_PATTERN_HINTS = {
    "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$": 'write a version as "<breaking>.<additive>" in quotes, e.g. "3.1"',
    "^[a-z][a-z0-9]*(_[a-z0-9]+)*$": "use snake_case: lower-case letters, digits and single underscores, "
    "starting with a letter",
    "^[a-z][a-z0-9]*(_[a-z0-9]+)*(\\.[a-z][a-z0-9]*(_[a-z0-9]+)*)*$": "give a Python import name: snake_case parts "
    "(lower-case letters, digits and single underscores, each starting with a letter), joined by dots for a "
    "subpackage of your app, e.g. ledgerline_telemetry or ledgerline.telemetry",
    "^[a-z][a-z0-9]*(-[a-z0-9]+)*$": "use kebab-case: lower-case letters, digits and single hyphens, "
    "starting with a letter",
    "^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$": "use UPPER_SNAKE_CASE, e.g. MY_APP",
    "^[A-Z]{2}[0-9]{3}$": "lint codes look like LN007; `telemetry-gen lint --list` shows them",
    "^(never|[0-9]{4}-[0-9]{2}-[0-9]{2}|app:[0-9]+(\\.[0-9]+)*)$": "write `never`, a date like 2027-06-30, "
    "or `app:<version>` like app:5.0",
    "^[a-z][a-z0-9]*(-[a-z0-9]+)*(/[a-z][a-z0-9]*(-[a-z0-9]+)*){1,3}$": "write an event name as 2 to 4 kebab-case "
    "segments joined with `/`, the domain first, e.g. app/started or settings/general/change-language",
    "^[a-z][a-z0-9]*((_[a-z0-9]+)*|([A-Z][a-z0-9]*)*)$": "name a field in snake_case (`outputs_count`) or "
    "lowerCamelCase (`outputsCount`): letters and digits, starting with a lower-case letter",
    "^[a-z][a-z0-9]*((_[a-z0-9]+)*|([A-Z][a-z0-9]*)*)(\\.[a-z][a-z0-9]*((_[a-z0-9]+)*|([A-Z][a-z0-9]*)*))?$": "name "
    "the field as the catalog does, dotted for a nested one, e.g. outputsCount or fee.rate_level",
    "^https?://[^\\s?#]+/$": "give an http(s) URL ending in a slash, e.g. https://telemetry.example.com/schemas/",
    "^[A-Za-z0-9][A-Za-z0-9._:-]*( [A-Za-z0-9][A-Za-z0-9._:-]*)*$": "write the command as users type it: words of "
    "letters, digits, `.`, `_`, `:` and `-` with single spaces between them, e.g. `ledgerline telemetry`",
    "^[^{}`\\s]([^{}`\\u0000-\\u001f\\u007f]*[^{}`\\s])?$": "write the path on one line, without braces, "
    "backticks or spaces around it, e.g. ~/.config/ledgerline/config.toml",
}

_JSON_TYPES = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping (key: value lines)",
    "array": "a list",
    "null": "nothing",
}


@functools.cache
def catalog_meta_schema() -> dict[str, Any]:
    """The JSON Schema of the catalog format, as shipped in the package."""
    text = resources.files("telemetry_gen.catalog").joinpath("catalog.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache  # built once, for every catalog a process checks
def _validator() -> Draft202012Validator:
    return Draft202012Validator(catalog_meta_schema())


def describe(path: Path) -> str:
    """Name a place in the catalog the way its author thinks of it."""
    if not path:
        return "the catalog"
    if path[0] == "events" and len(path) >= 2:
        where = f"event {path[1]!r}"
        rest = path[2:]
        while len(rest) >= 2 and rest[0] == "fields":
            where = f"field {rest[1]!r} of {where}"
            rest = rest[2:]
        if rest:
            where = f"{'.'.join(str(p) for p in rest)} of {where}"
        return where
    if path[0] == "history" and len(path) >= 3 and isinstance(path[2], int):
        rest = path[3:]
        suffix = f"{'.'.join(str(p) for p in rest)} of " if rest else ""
        return f"{suffix}history entry {path[2] + 1} of version {path[1]}"
    if path[0] == "context" and len(path) >= 2:
        rest = path[2:]
        suffix = f"{'.'.join(str(p) for p in rest)} of " if rest else ""
        return f"{suffix}context field {path[1]!r}"
    return "`" + ".".join(str(p) for p in path) + "`"


def _type_name(value: object) -> str:
    return {
        bool: "true/false",
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
        type(None): "nothing",
    }.get(type(value), type(value).__name__)


def _type_hint(expected: object, value: object) -> str:
    if expected == "string" and isinstance(value, int) and not isinstance(value, bool):
        return f'quote it: YAML reads {value} as a number; a version is written "{value}.0"'
    if expected == "string" and isinstance(value, float):
        return f'quote it: YAML reads {value!r} as a number (and "3.10" as 3.1)'
    if expected == "string" and isinstance(value, bool):
        return "quote it: YAML reads yes/no/on/off/true/false as booleans"
    if expected == "string" and value is None:
        return "give a value, or remove the key"
    if expected == "object" and value is None:
        return "add the entries below this key, indented, or remove the key"
    return f"write {_JSON_TYPES.get(str(expected), str(expected))} here"


def _diagnostic(code: str, location: Location, message: str, hint: str) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, location, message, hint)


def _subschema(schema_path: list[str | int]) -> Any:
    """The part of the meta-schema at `schema_path`, a location inside it (references already followed)."""
    schema: Any = catalog_meta_schema()
    for part in schema_path:
        schema = schema[part]
    return schema


def _value_at(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def _translate(error: ValidationError, data: object, source_map: SourceMap) -> Iterator[tuple[Path, Diagnostic]]:
    """Each problem of `error` in `data`, with its place: the value that is wrong, the key that is
    missing or unknown, or the name that is malformed."""
    path: Path = tuple(error.instance_path)
    where = describe(path)
    # The value as loaded: jsonschema-rs's copy of it reads NaN and infinity as null.
    instance = _value_at(data, path)
    match error.kind:
        case Kind.Type(["number"]) if isinstance(instance, float):
            return  # NaN or infinity, not a type error: the model reports it as not finite
        case Kind.AdditionalProperties(unexpected):
            allowed = sorted(_subschema(error.schema_path[:-1]).get("properties", {}))
            for key in sorted(unexpected):
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                yield (
                    (*path, key),
                    _diagnostic(
                        UNKNOWN_KEY,
                        source_map.key((*path, key)),
                        f"unknown key {key!r} in {where}",
                        f"{hint}allowed keys: {', '.join(allowed)}",
                    ),
                )
        case Kind.Required(key):
            yield (
                (*path, key),
                _diagnostic(
                    MISSING_KEY,
                    source_map.value(path),
                    f"{where} is missing the required key {key!r}",
                    f"add `{key}:` to {where}",
                ),
            )
        case Kind.Not() if path and path[-1] == "source":  # `source` outside `context`
            yield (
                path,
                _diagnostic(
                    UNKNOWN_KEY,
                    source_map.key(path),
                    f"unknown key {path[-1]!r} in {describe(path[:-1])}",
                    "`source: app` declares a context field the app gives; event fields have no source",
                ),
            )
        case Kind.Not():
            yield (
                path,
                _diagnostic(
                    BAD_VALUE,
                    source_map.value(path),
                    f"{where}: an object field cannot contain another object",
                    "flatten the inner object's fields into this one (one level of nesting is allowed)",
                ),
            )
        case Kind.Type(types):
            expected = types[0]  # the catalog format gives every value a single type
            yield (
                path,
                _diagnostic(
                    WRONG_TYPE,
                    source_map.value(path),
                    f"{where} must be {_JSON_TYPES.get(expected, expected)}, not {_type_name(instance)}",
                    _type_hint(expected, instance),
                ),
            )
        case Kind.Enum() | Kind.Constant():
            kind = error.kind
            options = kind.options if isinstance(kind, Kind.Enum) else [kind.expected_value]
            choices = [str(o) for o in options]
            if isinstance(instance, str) and any(str(o) == instance and not isinstance(o, str) for o in options):
                hint = f"write {instance} without quotes"
            else:
                close = difflib.get_close_matches(str(instance), choices, n=1)
                hint = (f"did you mean {close[0]!r}? " if close else "") + f"choose one of: {', '.join(choices)}"
            yield path, _diagnostic(BAD_VALUE, source_map.value(path), f"{instance!r} is not allowed as {where}", hint)
        case Kind.PropertyNames(name_error):
            # A key of the mapping at `path` is badly named; the error about the name itself is inside.
            name_path = (*path, str(name_error.instance))
            match name_error.kind:
                case Kind.Pattern(pattern):
                    hint = _PATTERN_HINTS.get(pattern, f"it must match {pattern}")
                case Kind.MaxLength(limit):
                    hint = f"shorten it to at most {limit} characters"
                case _:
                    hint = name_error.message
            yield (
                name_path,
                _diagnostic(
                    BAD_VALUE,
                    source_map.key(name_path),
                    f"{name_error.instance!r} is not a valid name in {where}",
                    hint,
                ),
            )
        case Kind.Pattern(pattern):
            hint = _PATTERN_HINTS.get(pattern, f"it must match {pattern}")
            yield path, _diagnostic(BAD_VALUE, source_map.value(path), f"{instance!r} is not valid as {where}", hint)
        case Kind.MaxLength(limit):
            yield (
                path,
                _diagnostic(
                    BAD_VALUE,
                    source_map.value(path),
                    f"{where} is longer than {limit} characters",
                    f"shorten it to at most {limit} characters",
                ),
            )
        case Kind.MinLength():
            yield (
                path,
                _diagnostic(EMPTY_VALUE, source_map.value(path), f"{where} must not be empty", "write some text here"),
            )
        case Kind.MinItems() | Kind.MinProperties():
            yield (
                path,
                _diagnostic(
                    EMPTY_VALUE, source_map.value(path), f"{where} must not be empty", "add at least one entry"
                ),
            )
        case Kind.Minimum(limit):
            yield (
                path,
                _diagnostic(
                    BAD_VALUE,
                    source_map.value(path),
                    f"{where} must be at least {limit}, not {instance}",
                    f"write a number of {limit} or more",
                ),
            )
        case Kind.UniqueItems():
            yield (
                path,
                _diagnostic(
                    BAD_VALUE, source_map.value(path), f"{where} lists a value twice", "remove the repeated value"
                ),
            )
        case _:
            yield (
                path,
                _diagnostic(
                    BAD_VALUE, source_map.value(path), f"{where}: {error.message}", "see docs/catalog-format.md"
                ),
            )


def check_structure(data: object, source_map: SourceMap, flaws: Flaws) -> list[Diagnostic]:
    """Every way `data` departs from the catalog format, as located diagnostics.

    A value the loader could not read (a flaw) is not reported again. Each problem's place is
    added to `flaws`, except unknown keys, which the model does not read.
    """
    diagnostics: list[Diagnostic] = []
    places: list[Path] = []
    seen: set[tuple[str, int, int, str]] = set()
    for error in _validator().iter_errors(data):
        for place, diagnostic in _translate(error, data, source_map):
            if flaws.at(place):
                continue
            if diagnostic.code != UNKNOWN_KEY:
                places.append(place)
            key = (diagnostic.code, diagnostic.location.line, diagnostic.location.column, diagnostic.message)
            if key not in seen:
                seen.add(key)
                diagnostics.append(diagnostic)
    for place in places:
        flaws.add(place)
    return diagnostics
