"""The generated validators against jsonschema, on thousands of generated envelopes.

`checkplan` promises that the generated checks accept exactly what jsonschema's
Draft202012Validator accepts on the generated event schemas, for every JSON value. This file
builds `tests/fixtures/alltypes/events.yaml` (every type and constraint the catalog offers),
then compares `check_envelope(envelope, spec, APP.check_context)` (valid iff no message) with
`Draft202012Validator(schema).is_valid(envelope)` on envelopes of three kinds:

- valid by construction, drawn from the event's own JSON Schema;
- valid ones with one to three mutations (missing and unknown keys, values of the wrong JSON type,
  bounds and lengths off by one, trailing newlines against `$`, repeated items ...);
- arbitrary JSON in place of a field, `data`, `context` or the whole envelope.

NaN and the infinities, which JSON cannot carry, are left out of the comparison: the generated
checks reject them on purpose (tested separately below). JSON Schema patterns are ECMA-262
regular expressions, whose `$` matches only at the very end (Python's also before a final
newline), so the reference reads `$` that way.

Every data object that fits an event's emitter also goes through the emitter, which must hand the
runtime exactly that data; Python values JSON does not have (subclasses, tuples, unhashable
items, look-alikes) are tried on it below: the emitter never raises, and the check decides.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, build_text, import_generated
from telemetry_gen.targets.python import parameter_name

CATALOG = FIXTURES / "alltypes" / "events.yaml"
PACKAGE = "all_types_telemetry"

Json = Any
JsonPath = tuple[str | int, ...]
T = TypeVar("T")


class Draw(Protocol):
    """A composite strategy's `draw` or `st.DataObject.draw`; `st.DrawFn` refuses the latter (it asks
    for a `__signature__`)."""

    def __call__(self, strategy: st.SearchStrategy[T], /) -> T: ...


# Hypothesis examples per event and kind. A mutated example is compared after each of its 1-3
# mutations, an arbitrary one in 6 variants: about 6 * (60 + 170 * 2 + 70 * 6) = 4900 cases.
EXAMPLES = {"valid": 60, "mutated": 170, "arbitrary": 70}
SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
TOTALS: Counter[str] = Counter()  # "valid" / "invalid" over the whole module, for the summary


def _ecma_pattern(
    validator: jsonschema.Draft202012Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """jsonschema's `pattern`, with ECMA-262's `$`: the end of the text, never before a final newline.

    The fixture's patterns hold `$` only as an anchor (asserted in `subjects`)."""
    if validator.is_type(instance, "string") and not re.search(pattern.replace("$", r"\Z"), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _patterns(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            yield schema["pattern"]
        for value in schema.values():
            yield from _patterns(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _patterns(item)


Reference = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Subject:
    """One event of the built catalog: its JSON Schema, the reference validator, the generated check."""

    name: str
    schema: dict[str, Any]
    reference: jsonschema.Draft202012Validator
    generated: Callable[[object], list[str]]
    emitter: Callable[..., None]  # the event's generated emitter, its gate open and its payload recorded


class Outlets:
    """Stands in for the client behind the emitters: keeps the payload an emitter hands over."""

    usage = errors = True  # the consent gate, open

    def __init__(self) -> None:
        self.last: dict[str, Any] | None = None

    def emit(self, spec: object, data: dict[str, Any]) -> None:
        self.last = data

    def clear(self) -> None:
        # A method, so mypy does not take `last` for None after the emitter ran.
        self.last = None


OUTLETS = Outlets()


@pytest.fixture(scope="module")
def subjects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Subject]:
    out = tmp_path_factory.mktemp("alltypes") / "generated"
    catalog = build_text(CATALOG.read_text("utf-8"), out)
    package = import_generated(out, PACKAGE)
    envelope_module = importlib.import_module("telemetry_gen_runtime.envelope")
    app = package._catalog.APP
    events = package.events
    events._gate, events._emit = OUTLETS, OUTLETS.emit
    result = {}
    for event in catalog.events:
        schema = json.loads((out / "schemas" / f"{event.name}.v{event.version}.schema.json").read_text("utf-8"))
        spec = package.EVENTS[event.name]

        def generated(envelope: object, spec: Any = spec) -> list[str]:
            return [str(v) for v in envelope_module.check_envelope(envelope, spec, app.check_context)]

        emitter = getattr(events, event.identifier)
        for pattern in _patterns(schema):
            assert re.fullmatch(r"([^$]|\$(?=$|[|)]))*", pattern), f"{pattern!r}: `$` not as an anchor"
        validator = Reference(schema)
        result[event.name] = Subject(event.name, schema, validator, generated, emitter)
    return result


EVENT_NAMES = [
    "kinds/choices",
    "kinds/numbers",
    "kinds/strings",
    "shapes/empty",
    "shapes/lists",
    "shapes/nested",
]


def test_the_fixture_has_the_events_this_file_expects(subjects: dict[str, Subject]) -> None:
    assert sorted(subjects) == EVENT_NAMES


# -- strategies ----------------------------------------------------------------------------


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    assert ref.startswith("#/$defs/"), ref
    resolved: dict[str, Any] = root["$defs"][ref[len("#/$defs/") :]]
    return resolved


def _length_ok(schema: dict[str, Any]) -> Callable[[str], bool]:
    low, high = schema.get("minLength", 0), schema["maxLength"]
    return lambda text: low <= len(text) <= high


_STRATEGIES: dict[str, st.SearchStrategy[Json]] = {}


def _cached(kind: str, schema: dict[str, Any], make: Callable[[], st.SearchStrategy[Json]]) -> st.SearchStrategy[Json]:
    """One strategy object per schema: building (and validating) strategies anew each draw is slow."""
    key = kind + json.dumps(schema, sort_keys=True)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = make()
    return _STRATEGIES[key]


def valid_value(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Json]:
    """Values `schema` accepts, built from its keywords (patterned strings are filtered by length only)."""
    schema = resolve(schema, root)
    return _cached("valid", schema, lambda: _valid_value(schema, root))


def _valid_value(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Json]:
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema["type"]
    if kind == "string":
        pattern = schema.get("pattern")
        if pattern is None:
            return st.text(min_size=schema.get("minLength", 0), max_size=schema["maxLength"])
        # Whole matches, and matches with text around them; hypothesis reads `$` as Python does.
        ecma = re.compile(pattern.replace("$", r"\Z"))
        text = st.from_regex(pattern, fullmatch=True) | st.from_regex(pattern)
        return text.filter(_length_ok(schema)).filter(lambda t: ecma.search(t) is not None)
    if kind == "integer":
        low = math.ceil(schema["minimum"]) if "minimum" in schema else None
        high = math.floor(schema["maximum"]) if "maximum" in schema else None
        whole = st.integers(low, high)
        # jsonschema: 3.0 is an integer. Only floats that represent the integer exactly.
        as_float = st.integers(
            max(low, -(2**53)) if low is not None else -(2**53), min(high, 2**53) if high is not None else 2**53
        )
        return whole | as_float.map(float)
    if kind == "number":
        low, high = schema.get("minimum"), schema.get("maximum")
        floats = st.floats(low, high, allow_nan=False, allow_infinity=False)
        ints = st.integers(math.ceil(low) if low is not None else None, math.floor(high) if high is not None else None)
        return floats | ints
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(
            valid_value(schema["items"], root),
            min_size=schema.get("minItems", 0),
            max_size=schema["maxItems"],
            unique=schema.get("uniqueItems", False),  # Python equality: 1 == 1.0, as in JSON Schema
        )
    assert kind == "object", schema
    properties = schema["properties"]
    required = set(schema["required"])
    return st.fixed_dictionaries(
        {k: valid_value(s, root) for k, s in properties.items() if k in required},
        optional={k: valid_value(s, root) for k, s in properties.items() if k not in required},
    )


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values: st.SearchStrategy[Json] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)

UNKNOWN_KEYS = st.sampled_from(["extra", "", "Data", "event ", "id\n", "class_"]) | st.text(max_size=6)
ANY_NUMBER = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
ODD_VALUES: list[Json] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    0.5,
    -0.0,
    2**63,
    -(2**63),
    10**30,
    1e300,
    -1e300,
    "",
    "x",
    "1",
    "true",
    "\n",
    [],
    {},
    [None],
    {"": None},
]


def _near_numbers(schema: dict[str, Any]) -> list[Json]:
    values: list[Json] = []
    for bound in (schema.get("minimum"), schema.get("maximum")):
        if bound is None:
            continue
        values += [bound, bound - 1, bound + 1, bound - 0.5, bound + 0.5, float(bound), int(bound)]
        values += [math.nextafter(bound, -math.inf), math.nextafter(bound, math.inf)]
        values += [math.floor(bound), math.ceil(bound), float(math.floor(bound)), float(math.ceil(bound))]
    return values


def _near_strings(schema: dict[str, Any], value: Json) -> list[Json]:
    text = value if isinstance(value, str) and value else "a"
    low, high = schema.get("minLength", 0), schema["maxLength"]
    fill = text[-1]
    return [
        text + "\n",
        "\n" + text,
        text + "\r",
        text + " ",
        text + "\n\n",
        text[:-1],
        text[1:],
        text.upper(),
        text.lower(),
        text * 2,
        (text + fill * high)[:high],
        (text + fill * high)[: high + 1],
        text[: max(low - 1, 0)],
        text[:low],
    ]


def _other_strings(schema: dict[str, Any]) -> st.SearchStrategy[Json]:
    high = schema["maxLength"]
    other = st.text(max_size=high + 2)
    if "pattern" in schema:
        other |= st.from_regex(schema["pattern"]).filter(lambda s: len(s) <= high + 3)
    return other


Source = list[Json] | st.SearchStrategy[Json]


def wrong_sources(schema: dict[str, Any] | None, value: Json, root: dict[str, Any]) -> list[Source]:
    """Where replacements for `value` come from: mostly invalid values, often only just so.

    Lists of candidates where they depend on `value`; strategies made once per schema otherwise
    (making strategies anew for every draw is slow).
    """
    sources: list[Source] = [ODD_VALUES, [[value], {"k": value}]]
    if schema is None:
        return [*sources, json_values]
    schema = resolve(schema, root)
    if "const" in schema:
        const = schema["const"]
        return [*sources, [const + "\n", const.upper(), " " + const, const[:-1], "shapes/empty", const]]
    if "enum" in schema:
        values = schema["enum"]
        near = [v + "\n" for v in values] + [v.upper() for v in values] + [v.strip() + " " for v in values]
        return [*sources, near, values]
    kind = schema.get("type")
    if kind == "string":
        return [*sources, _near_strings(schema, value), _cached("other", schema, lambda: _other_strings(schema))]
    if kind in ("integer", "number"):
        sources += [_near_numbers(schema) or [0], ANY_NUMBER]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            sources.append([value + 0.5, value - 0.5, float(value), -value, value * 10**20])
        return sources
    if kind == "boolean":
        return [*sources, [0, 1, 0.0, 1.0, "true", "false", "True", None]]
    if kind == "array":
        items = valid_value(schema["items"], root)
        high = schema["maxItems"]
        longer = _cached("longer", schema, lambda: st.lists(items, min_size=high + 1, max_size=high + 2))
        if not isinstance(value, list):  # an earlier mutation put something else here
            return [*sources, longer, [[]]]
        return [*sources, longer, [value + value[:1], value[:-1], value[::-1] * 2, []]]
    if kind == "object":
        return [*sources, [{}], json_values]
    return sources


def draw_from(draw: Draw, sources: list[Source]) -> Json:
    source = sources[draw(st.integers(0, len(sources) - 1))]
    return copy.deepcopy(draw(st.sampled_from(source) if isinstance(source, list) else source))


def _at(document: Json, path: JsonPath) -> Json:
    for step in path:
        document = document[step]
    return document


def locations(
    value: Json, schema: dict[str, Any] | None, root: dict[str, Any], path: JsonPath = ()
) -> Iterator[tuple[JsonPath, dict[str, Any] | None]]:
    """Every place in a document, with the schema that applies there (None where nothing does)."""
    yield path, schema
    if schema is None:
        return
    schema = resolve(schema, root)
    if isinstance(value, dict) and schema.get("type") == "object":
        properties = schema.get("properties", {})
        for key, item in value.items():
            yield from locations(item, properties.get(key), root, (*path, key))
    elif isinstance(value, list) and schema.get("type") == "array":
        for index, item in enumerate(value):
            yield from locations(item, schema["items"], root, (*path, index))


def mutate(draw: Draw, envelope: dict[str, Any], root: dict[str, Any]) -> str:
    """Change `envelope` in place at one drawn place; return what was done."""
    places = list(locations(envelope, root, root))
    path, schema = draw(st.sampled_from(places))
    target = _at(envelope, path)
    operations = ["replace", "replace", "delete"] if path else []
    if path and schema is not None:
        operations.append("replace-valid")
    if isinstance(target, dict):
        operations += ["add-key", "add-known-key"]
    if isinstance(target, list):
        operations += ["append", "duplicate"]
    operation = draw(st.sampled_from(operations or ["add-key"]))

    def fresh(strategy: st.SearchStrategy[Json]) -> Json:
        return copy.deepcopy(draw(strategy))  # never alias another part of the envelope

    parent = _at(envelope, path[:-1]) if path else None
    if operation == "replace":
        assert parent is not None
        parent[path[-1]] = draw_from(draw, wrong_sources(schema, target, root))
    elif operation == "replace-valid":
        assert parent is not None and schema is not None
        parent[path[-1]] = fresh(valid_value(schema, root))
    elif operation == "delete":
        assert parent is not None
        del parent[path[-1]]
    elif operation == "add-key":
        target[draw(UNKNOWN_KEYS)] = draw_from(draw, [ODD_VALUES, json_values])
    elif operation == "add-known-key":
        resolved = resolve(schema, root) if schema is not None else {}
        known = sorted(resolved.get("properties", {}))
        if known:
            key = draw(st.sampled_from(known))
            target[key] = draw_from(
                draw, [valid_value(resolved["properties"][key], root), *wrong_sources(None, 0, root)]
            )
    elif operation == "append":
        items = resolve(schema, root).get("items") if schema is not None else None
        target.append(fresh(valid_value(items, root)) if items is not None else None)
    elif operation == "duplicate" and target:
        target.insert(draw(st.integers(0, len(target))), fresh(st.sampled_from(target)))
    return f"{operation} at {list(path)}"


# The envelope's own parts, drawn faster than `st.from_regex` would (it makes one draw per
# character, and these are the same for every event): the strings the patterns describe.
HEX32 = st.integers(0, 2**128 - 1).map(lambda i: f"{i:032x}")


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """Strings of TIMESTAMP's pattern (the calendar is not checked)."""
    digits = [f"{draw(st.integers(0, 10**n - 1)):0{n}d}" for n in (4, 2, 2, 2, 2, 2)]
    stamp = "{}-{}-{}T{}:{}:{}".format(*digits)
    places = draw(st.integers(0, 9))
    if places:
        stamp += "." + f"{draw(st.integers(0, 10**places - 1)):0{places}d}"
    return stamp + "Z"


def _context(**changes: str) -> dict[str, str]:
    context = {
        "app_version": "1.2.3",
        "arch": "x86_64",
        "commit": "unknown",
        "implementation": "CPython",
        "instance_id": HEX,
        "os": "linux",
        "os_release": "6.1.0-13-amd64",
        "python": "3.11.7",
        "session_id": HEX,
        "yaml_version": "6.0.1",
    }
    return {**context, **changes}


HEX = "0123456789abcdef" * 2
CONTEXTS = [
    _context(),
    _context(app_version="2024.1+local_b-3", commit="4f2a9c1", implementation="PyPy", os="windows"),
    _context(arch="aarch64", os="macos", os_release="23.4.0", python="3.13.0rc1", yaml_version="not-installed"),
]


@st.composite
def valid_envelopes(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    properties = schema["properties"]
    context_schema = resolve(properties["context"], schema)
    # The context is the same for every event: most draws take a known-good one.
    use_schema = draw(st.integers(0, 7)) == 0
    envelope = {
        "event": properties["event"]["const"],
        "schema": properties["schema"]["const"],
        "id": draw(HEX32),
        "timestamp": draw(timestamps()),
        "context": draw(valid_value(context_schema, schema) if use_schema else st.sampled_from(CONTEXTS)),
        "data": draw(valid_value(properties["data"], schema)),
    }
    return copy.deepcopy(envelope)  # mutations must not reach shared values such as CONTEXTS


ARBITRARY_PLACES = ["data", "context", "field", "data-keys", "context-keys"]


def arbitrary_variant(draw: Draw, envelope: dict[str, Any], schema: dict[str, Any], where: str) -> Json:
    """A copy of `envelope` with arbitrary JSON at `where`."""
    envelope = copy.deepcopy(envelope)
    if where in ("data", "context"):
        envelope[where] = draw(json_values)
    elif where.endswith("-keys"):  # the right names, with arbitrary values
        part = where.removesuffix("-keys")
        names = sorted(resolve(schema["properties"][part], schema)["properties"]) or ["none"]
        envelope[part] = draw(st.dictionaries(st.sampled_from(names), json_values, max_size=len(names)))
    else:
        part = draw(st.sampled_from(["data", "context"]))
        if envelope[part]:
            envelope[part][draw(st.sampled_from(sorted(envelope[part])))] = draw(json_values)
    return envelope


# -- the comparison ---------------------------------------------------------------------------


def _dump(value: Json) -> str:
    return json.dumps(value, ensure_ascii=True, sort_keys=True)


def compare(subject: Subject, envelope: Json, counts: Counter[str], how: object = "") -> bool:
    """Assert both validators agree on `envelope`; count and return the verdict."""
    # The comparison is on JSON values: a JSON round trip must not change the envelope.
    assert json.loads(json.dumps(envelope)) == envelope
    messages = subject.generated(envelope)
    reference = subject.reference.is_valid(envelope)
    if (not messages) != reference:
        reasons = [f"{list(e.absolute_path)}: {e.message}" for e in subject.reference.iter_errors(envelope)]
        pytest.fail(
            f"generated validator and jsonschema disagree on an envelope of {subject.name!r}\n"
            f"  built by: {how}\n"
            f"  envelope: {_dump(envelope)}\n"
            f"  generated: {'valid' if not messages else 'invalid'}; messages: {messages}\n"
            f"  jsonschema: {'valid' if reference else 'invalid'}; errors: {reasons}"
        )
    verdict = "valid" if reference else "invalid"
    counts[verdict] += 1
    TOTALS[verdict] += 1
    if isinstance(envelope, dict) and isinstance(envelope.get("data"), dict):
        through_emitter(subject, envelope["data"])
    return reference


def through_emitter(subject: Subject, data: dict[str, Any]) -> bool:
    """Call the event's emitter with `data` as its arguments, if they fit it, and assert it hands the
    runtime exactly that data, copied; whether they fit."""
    arguments = {parameter_name(key): value for key, value in data.items()}
    try:
        inspect.signature(subject.emitter).bind(**arguments)
    except TypeError:  # an unknown or missing key: the data cannot come from this emitter
        return False
    OUTLETS.clear()
    subject.emitter(**arguments)
    handed = OUTLETS.last
    assert handed is not None, "the emitter handed nothing over"
    fields = resolve(subject.schema["properties"]["data"], subject.schema)
    # None stands for "not given" for an optional field.
    assert handed == {k: v for k, v in data.items() if v is not None or k in fields.get("required", [])}
    for key, value in handed.items():
        if fields["properties"][key].get("type") in ("array", "object") and isinstance(value, (list, dict)):
            assert value is not data[key], f"{key} was not copied"
    return True


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_valid_envelopes_are_accepted_by_both(subjects: dict[str, Subject], name: str) -> None:
    subject = subjects[name]
    counts: Counter[str] = Counter()

    @settings(SETTINGS, max_examples=EXAMPLES["valid"])
    @given(st.data())
    def check(data: st.DataObject) -> None:
        envelope = data.draw(valid_envelopes(subject.schema))
        assert compare(subject, envelope, counts, "valid by construction"), _dump(envelope)

    check()
    assert counts["valid"] >= EXAMPLES["valid"] // 3, counts


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_mutated_envelopes(subjects: dict[str, Subject], name: str) -> None:
    """One to three mutations of a valid envelope, compared after each."""
    subject = subjects[name]
    counts: Counter[str] = Counter()

    @settings(SETTINGS, max_examples=EXAMPLES["mutated"])
    @given(st.data())
    def check(data: st.DataObject) -> None:
        envelope = data.draw(valid_envelopes(subject.schema))
        done: list[str] = []
        for _ in range(data.draw(st.integers(1, 3))):
            done.append(mutate(data.draw, envelope, subject.schema))
            compare(subject, envelope, counts, done)

    check()
    total = counts["valid"] + counts["invalid"]
    # Not vacuous: a mutation leaves the envelope valid often enough (an optional key dropped, a
    # value replaced by a valid one), and makes it invalid more often.
    assert counts["invalid"] >= total * 0.5, counts
    assert counts["valid"] >= total * 0.02, counts


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_arbitrary_json_in_place_of_parts(subjects: dict[str, Subject], name: str) -> None:
    """Arbitrary JSON as the envelope, and in place of `data`, `context`, their values, one field."""
    subject = subjects[name]
    counts: Counter[str] = Counter()
    keys = st.sampled_from(sorted(subject.schema["properties"])) | st.text(max_size=5)
    whole = json_values | st.dictionaries(keys, json_values)

    @settings(SETTINGS, max_examples=EXAMPLES["arbitrary"])
    @given(st.data())
    def check(data: st.DataObject) -> None:
        compare(subject, data.draw(whole), counts, "arbitrary JSON as the envelope")
        envelope = data.draw(valid_envelopes(subject.schema))
        for where in ARBITRARY_PLACES:
            compare(subject, arbitrary_variant(data.draw, envelope, subject.schema, where), counts, where)

    check()
    assert counts["invalid"] >= (counts["valid"] + counts["invalid"]) * 0.5, counts


# -- hand-picked cases -----------------------------------------------------------------------


def _envelope(subject: Subject, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": subject.name,
        "schema": subject.schema["$id"],
        "id": HEX,
        "timestamp": "2024-05-01T12:00:00.123456Z",
        "context": _context(),
        "data": data,
    }


CHOICES = {"mode": "cli", "flag": True}
NUMBERS = {"count": 1, "ratio": 0.5}
STRINGS = {"code": "AB-123", "channel": "stable"}
LISTS = {"tags": ["a"]}
NESTED = {"details": {"kind": "a", "ok": True, "names": ["x"]}}

# (event, data) pairs chosen to sit on the edges jsonschema's rules draw.
EDGES: list[tuple[str, dict[str, Any]]] = [
    ("kinds/numbers", {**NUMBERS, "count": True}),
    ("kinds/numbers", {**NUMBERS, "count": 100.0}),
    ("kinds/numbers", {**NUMBERS, "count": 100.5}),
    ("kinds/numbers", {**NUMBERS, "count": 101}),
    ("kinds/numbers", {**NUMBERS, "count": -0.0}),
    ("kinds/numbers", {**NUMBERS, "count": 1e300}),
    ("kinds/numbers", {**NUMBERS, "ratio": False}),
    ("kinds/numbers", {**NUMBERS, "ratio": 1}),
    ("kinds/numbers", {**NUMBERS, "ratio": math.nextafter(1.0, 2.0)}),
    ("kinds/numbers", {**NUMBERS, "percent": 0}),
    ("kinds/numbers", {**NUMBERS, "percent": 1}),
    ("kinds/numbers", {**NUMBERS, "percent": 99}),
    ("kinds/numbers", {**NUMBERS, "percent": 100}),
    ("kinds/numbers", {**NUMBERS, "delta": 10**400}),
    ("kinds/numbers", {**NUMBERS, "delta": -(10**400)}),
    ("kinds/numbers", {**NUMBERS, "score": 10**400}),
    ("kinds/numbers", {**NUMBERS, "score": 1500000.0}),
    ("kinds/numbers", {**NUMBERS, "temperature": -273.15}),
    ("kinds/numbers", {**NUMBERS, "temperature": -273.16}),
    ("kinds/numbers", {**NUMBERS, "temperature": -1}),
    ("kinds/numbers", {**NUMBERS, "temperature": -0.0}),
    ("kinds/numbers", {**NUMBERS, "offset": 0}),
    ("kinds/numbers", {**NUMBERS, "offset": -1.0}),
    ("kinds/numbers", {**NUMBERS, "retries": -6}),
    ("kinds/choices", {**CHOICES, "flag": 1}),
    ("kinds/choices", {**CHOICES, "flag": None}),
    ("kinds/choices", {**CHOICES, "mode": "trailing"}),
    ("kinds/choices", {**CHOICES, "mode": "trailing "}),
    ("kinds/choices", {**CHOICES, "mode": "cli\n"}),
    ("kinds/choices", {**CHOICES, "mode": "naïve"}),
    ("kinds/choices", {**CHOICES, "mode": "nai\u0308ve"}),  # the same text, decomposed: not equal
    ("kinds/choices", {"flag": True}),
    ("kinds/choices", {**CHOICES, "level": None}),
    ("kinds/strings", {**STRINGS, "code": "AB-123\n"}),
    ("kinds/strings", {**STRINGS, "code": "AB-12\n"}),
    ("kinds/strings", {**STRINGS, "channel": "nightly-1\n"}),
    ("kinds/strings", {**STRINGS, "channel": "stable\n\n"}),
    ("kinds/strings", {**STRINGS, "bare_alternation": "alpha and more"}),
    ("kinds/strings", {**STRINGS, "bare_alternation": "the omega\n"}),
    ("kinds/strings", {**STRINGS, "bare_alternation": "beta"}),
    ("kinds/strings", {**STRINGS, "word": "é_1"}),
    ("kinds/strings", {**STRINGS, "word": "a-b"}),
    ("kinds/strings", {**STRINGS, "word": "a"}),
    ("kinds/strings", {**STRINGS, "greek": "αβγ"}),
    ("kinds/strings", {**STRINGS, "greek": "αβγδεζ"}),
    ("kinds/strings", {**STRINGS, "digits": "١٢٣"}),
    ("kinds/strings", {**STRINGS, "digits": "12345"}),
    ("kinds/strings", {**STRINGS, "prefixed": "v1 and anything\n"}),
    ("kinds/strings", {**STRINGS, "contains": "abc"}),
    ("kinds/strings", {**STRINGS, "emoji_text": "😀😀😀"}),
    ("kinds/strings", {**STRINGS, "emoji_text": "😀😀😀😀"}),
    ("kinds/strings", {**STRINGS, "emoji_text": ""}),
    ("kinds/strings", {**STRINGS, "note": ""}),
    ("shapes/lists", {"tags": []}),
    ("shapes/lists", {"tags": ["a", "a"]}),
    ("shapes/lists", {"tags": ["a", "b", "c", "d"]}),
    ("shapes/lists", {**LISTS, "codes": ["12\n"]}),
    ("shapes/lists", {**LISTS, "codes": ["x\n"]}),
    ("shapes/lists", {**LISTS, "codes": ["1", "1"]}),
    ("shapes/lists", {**LISTS, "distinct_sizes": [1, 1.0]}),
    ("shapes/lists", {**LISTS, "distinct_sizes": [0, -0.0]}),
    ("shapes/lists", {**LISTS, "distinct_sizes": [1, True]}),
    ("shapes/lists", {**LISTS, "weights": [0.5, 0.5]}),
    ("shapes/lists", {**LISTS, "weights": [1, 1.0]}),
    ("shapes/lists", {**LISTS, "switches": [True, False]}),
    ("shapes/lists", {**LISTS, "switches": [True, True]}),
    ("shapes/lists", {**LISTS, "switches": [True, 1]}),
    ("shapes/lists", {**LISTS, "switches": [False, 0]}),
    ("shapes/lists", {**LISTS, "bits": [True, True]}),
    ("shapes/lists", {**LISTS, "sizes": [1]}),
    ("shapes/lists", {**LISTS, "sizes": [1, 1.0, True]}),
    ("shapes/lists", {**LISTS, "choices": ["red", "red"]}),
    ("shapes/lists", {**LISTS, "choices": [["red"], ["red"]]}),
    ("shapes/lists", {**LISTS, "weights": [[1], [1]]}),
    ("shapes/nested", {"details": {"kind": "a", "ok": True}}),
    ("shapes/nested", {**NESTED, "extra": {"class": 1, "from": "net"}}),
    ("shapes/nested", {**NESTED, "extra": {"class_": 1}}),
    ("shapes/nested", {**NESTED, "extra": {"class": 0}}),
    ("shapes/nested", {**NESTED, "extra": {}}),
    ("shapes/nested", {**NESTED, "extra": []}),
    ("shapes/nested", {"details": {**NESTED["details"], "items": [1, 1.0]}}),
    ("shapes/nested", {"details": {**NESTED["details"], "ratio": 2.5}}),
    ("shapes/nested", {"details": {**NESTED["details"], "label": "abc\n"}}),
    ("shapes/empty", {}),
    ("shapes/empty", {"x": 1}),
]


@pytest.mark.parametrize(("name", "data"), EDGES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(EDGES)])
def test_hand_picked_edges(subjects: dict[str, Subject], name: str, data: dict[str, Any]) -> None:
    compare(subjects[name], _envelope(subjects[name], data), Counter(), "hand-picked")


def test_hand_picked_envelope_edges(subjects: dict[str, Subject]) -> None:
    subject = subjects["shapes/empty"]
    good = _envelope(subject, {})
    variants: list[Json] = [
        good,
        {**good, "id": HEX + "\n"},
        {**good, "id": HEX.upper()},
        {**good, "id": HEX[:-1]},
        {**good, "timestamp": "2024-05-01T12:00:00Z\n"},
        {**good, "timestamp": "2024-05-01T12:00:00.1234567890Z"},
        {**good, "timestamp": "2024-05-01 12:00:00Z"},
        {**good, "timestamp": "9999-99-99T99:99:99Z"},  # `format` only annotates: valid for both
        {**good, "event": "shapes/empty\n"},
        {**good, "event": ["shapes/empty"]},
        {**good, "schema": subject.schema["$id"] + "#"},
        {**good, "context": {**good["context"], "os": "beos"}},
        {**good, "context": {**good["context"], "commit": "abcdef0"}},
        {**good, "context": {**good["context"], "commit": "abcdef"}},
        {**good, "context": {**good["context"], "python": "3.11.7\n"}},
        {**good, "context": {**good["context"], "app_version": "v" * 65}},
        {**good, "context": {**good["context"], "instance_id": HEX + "0"}},
        {**good, "context": {**good["context"], "yaml_version": "not-installed"}},
        {**good, "extra": 1},
        {k: v for k, v in good.items() if k != "context"},
        [good],
        None,
        "shapes/empty",
    ]
    verdicts = [compare(subject, envelope, Counter(), "hand-picked envelope") for envelope in variants]
    assert verdicts[0] and not all(verdicts)


# -- the emitters on Python values JSON does not have -----------------------------------------


class Text(str):
    """A str subclass: a string to both validators."""


class LooksLikeEverything:
    """Equal to anything, and hashing like the text it pretends to be: not a string to anyone."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return hash(self.text)


NOT_JSON: list[object] = [
    Text("cli"),
    Text("a"),
    True,
    3.0,
    -0.0,
    math.nan,
    math.inf,
    10**400,
    b"a",
    ("a",),
    {"a"},
    [["a"]],
    [{"a": 1}],
    [[1]],
    [1, 1.0],
    object(),
    LooksLikeEverything("cli"),
    [LooksLikeEverything("a")],
    {"kind": LooksLikeEverything("a"), "ok": True},
]
# Plain JSON values that are wrong somewhere: out of an enum, out of bounds, too long, empty.
WRONG_JSON: list[Json] = ["zzz", ["zzz"], ["a", "zzz"], -(10**6), 10**6, 0.5, "", "x" * 300, [], [0.5], [True], {}]
CANONICAL: dict[str, dict[str, Any]] = {
    "kinds/choices": CHOICES,
    "kinds/numbers": NUMBERS,
    "kinds/strings": STRINGS,
    "shapes/empty": {},
    "shapes/lists": LISTS,
    "shapes/nested": NESTED,
}


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_emitters_hand_over_odd_values_and_the_check_decides(subjects: dict[str, Subject], name: str) -> None:
    """Each odd value in each field: the emitter never raises and hands it over as given, and the
    generated check never raises on it; look-alikes of valid values are rejected."""
    subject = subjects[name]
    assert through_emitter(subject, CANONICAL[name])
    fields = resolve(subject.schema["properties"]["data"], subject.schema)["properties"]
    for field in fields:
        for odd in NOT_JSON + WRONG_JSON:
            data = {**CANONICAL[name], field: odd}
            assert through_emitter(subject, data)
            verdict = subject.generated(_envelope(subject, data))
            if isinstance(odd, LooksLikeEverything) or (
                isinstance(odd, list) and odd and isinstance(odd[0], LooksLikeEverything)
            ):
                assert verdict, (field, odd)


# -- the documented deviation, and the messages ----------------------------------------------


def _put(value: Json, replacement: Json) -> Json:
    """`value` with every "X" replaced."""
    if value == "X":
        return replacement
    if isinstance(value, dict):
        return {k: _put(v, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_put(v, replacement) for v in value]
    return value


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("kinds/numbers", {**NUMBERS, "anything": "X"}),
        ("kinds/numbers", {**NUMBERS, "elapsed": "X"}),
        ("kinds/numbers", {**NUMBERS, "score": "X"}),
        ("kinds/numbers", {**NUMBERS, "delta": "X"}),
        ("kinds/numbers", {**NUMBERS, "ratio": "X"}),
        ("shapes/lists", {**LISTS, "weights": ["X"]}),
        ("shapes/nested", {"details": {**NESTED["details"], "ratio": "X"}}),
    ],
)
def test_nan_and_infinities_are_rejected(
    subjects: dict[str, Subject], name: str, data: dict[str, Any], bad: float
) -> None:
    """JSON cannot carry them; the generated checks reject them even where jsonschema would not."""
    subject = subjects[name]
    assert subject.generated(_envelope(subject, _put(data, 0))) == []
    messages = subject.generated(_envelope(subject, _put(data, bad)))
    assert len(messages) == 1, messages
    assert messages[0].startswith(name + "."), messages
    assert re.search(r": (nan|inf|-inf) is not (a finite number|an integer)$", messages[0]), messages


MODE_LISTING = "['cli', 'gui', 'two words', 'naïve', '日本語', \"it's\", 'Ελληνικά', 'trailing ']"

MESSAGES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("kinds/choices", {**CHOICES, "mode": "bad"}, [f"kinds/choices.mode: 'bad' is not one of {MODE_LISTING}"]),
    ("kinds/choices", {**CHOICES, "flag": 1}, ["kinds/choices.flag: 1 is not a boolean"]),
    ("kinds/choices", {"mode": "cli"}, ["kinds/choices.flag: required field is missing"]),
    (
        "kinds/choices",
        {**CHOICES, "zeta": 1, "alpha": 2},
        ["kinds/choices.alpha: unexpected field", "kinds/choices.zeta: unexpected field"],
    ),
    ("kinds/numbers", {**NUMBERS, "count": True}, ["kinds/numbers.count: True is not an integer"]),
    ("kinds/numbers", {**NUMBERS, "count": 101}, ["kinds/numbers.count: 101 is greater than the maximum of 100"]),
    ("kinds/numbers", {**NUMBERS, "percent": 0}, ["kinds/numbers.percent: 0 is less than the minimum of 0.5"]),
    ("kinds/numbers", {**NUMBERS, "ratio": "0.5"}, ["kinds/numbers.ratio: '0.5' is not a finite number"]),
    (
        "kinds/strings",
        {**STRINGS, "code": "AB-12"},
        # One violation per value: the first of its tests that fails (lengths before the pattern).
        ["kinds/strings.code: 'AB-12' is shorter than 6 characters"],
    ),
    (
        "kinds/strings",
        {**STRINGS, "emoji_text": "😀" * 4},
        ["kinds/strings.emoji_text: '😀😀😀😀' is longer than 3 characters"],
    ),
    ("shapes/lists", {"tags": []}, ["shapes/lists.tags: [] has fewer than 1 items"]),
    ("shapes/lists", {"tags": ["a", "a"]}, ["shapes/lists.tags: ['a', 'a'] has repeated items"]),
    (
        "shapes/lists",
        {**LISTS, "sizes": [1, 0, 10]},
        [
            "shapes/lists.sizes[1]: 0 is less than the minimum of 1",
            "shapes/lists.sizes[2]: 10 is greater than the maximum of 9",
        ],
    ),
    (
        "shapes/lists",
        {**LISTS, "choices": ["red", "pink"]},
        ["shapes/lists.choices[1]: 'pink' is not one of ['red', 'green', 'blue sky']"],
    ),
    (
        "shapes/nested",
        {"details": {"kind": "c", "ok": True, "names": ["x"]}},
        ["shapes/nested.details.kind: 'c' is not one of ['a', 'b']"],
    ),
    (
        "shapes/nested",
        {"details": {"kind": "a", "ok": True}},
        ["shapes/nested.details.names: required field is missing"],
    ),
    (
        "shapes/nested",
        {**NESTED, "extra": {"class": 0, "to": 1}},
        [
            "shapes/nested.extra.to: unexpected field",
            "shapes/nested.extra.class: 0 is less than the minimum of 1",
        ],
    ),
    ("shapes/nested", {**NESTED, "extra": []}, ["shapes/nested.extra: [] is not an object"]),
    ("shapes/empty", {"x": 1}, ["shapes/empty.x: unexpected field"]),
]


@pytest.mark.parametrize(
    ("name", "data", "expected"), MESSAGES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(MESSAGES)]
)
def test_violation_messages_name_the_event_and_the_field(
    subjects: dict[str, Subject], name: str, data: dict[str, Any], expected: list[str]
) -> None:
    assert subjects[name].generated(_envelope(subjects[name], data)) == expected


def test_violations_are_data(subjects: dict[str, Subject]) -> None:
    """Each violation names the event, the field's path and the JSON Schema keyword that fails."""
    check = importlib.import_module(PACKAGE).EVENTS["shapes/nested"].check_data
    violations = check({"details": {"kind": "a", "ok": "yes", "names": ["x", 7]}, "extra": {"class": 0}})
    found = {(v.event, v.field, v.code) for v in violations}
    assert ("shapes/nested", "details.ok", "type") in found, violations
    assert ("shapes/nested", "details.names[1]", "enum") in found, violations
    assert ("shapes/nested", "extra.class", "minimum") in found, violations
    assert all(type(v).__name__ == "Violation" and v.message for v in violations)


def test_envelope_messages(subjects: dict[str, Subject]) -> None:
    subject = subjects["shapes/empty"]
    good = _envelope(subject, {})
    context = {**good["context"], "os": "beos"}
    del context["arch"]
    envelope = {**good, "id": "nope", "context": context, "data": [], "extra": 1}
    del envelope["timestamp"]
    assert subject.generated(envelope) == [
        "shapes/empty.extra: unexpected key",
        "shapes/empty.timestamp: required key is missing",
        "shapes/empty.id: 'nope' does not match '^[0-9a-f]{32}$'",
        "context.arch: required field is missing",
        "context.os: 'beos' is not one of ['linux', 'macos', 'windows', 'freebsd', 'other']",
        "shapes/empty.data: [] is not an object",
    ]
    assert subject.generated(None) == ["shapes/empty: the event is not an object"]


def test_summary() -> None:
    """Prints the module's totals (run with -s); the per-test shares are asserted above."""
    print(f"\ndifferential cases: {sum(TOTALS.values())} ({dict(TOTALS)})")
