"""Consumer models: pydantic v2 models of every event, for code that reads collected events back.

They are imported from the generated file and used the way a consumer uses them: events emitted by
the generated package parse and round-trip, invalid ones are rejected. The file stays out of the
emitter package, is cached outside the output by the hash of its input (datamodel-code-generator
takes seconds) and is byte-identical across fresh builds.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pydantic
import pytest

from conftest import (
    FIXTURES,
    HARDWARE_WALLET,
    MINIMAL_CATALOG,
    REPO,
    app_context,
    arguments,
    catalog_from_text,
    file_tree,
    import_generated,
    run_cli,
)
from telemetry_gen.build import check_catalog, render_all
from telemetry_gen.cache import ModelsCache
from telemetry_gen.catalog import parse_catalog
from telemetry_gen.catalog.model import (
    Catalog,
    Category,
    EnumType,
    emitter_name,
)
from telemetry_gen.catalog.patterns import python_pattern
from telemetry_gen.targets import models as models_target
from telemetry_gen.targets.common import GeneratedFile
from telemetry_gen.targets.python import camel
from telemetry_gen.write import write_tree

EXAMPLE = REPO / "events.yaml"
PACKAGE = "vigilant_trader_telemetry"
MODELS = f"models/{PACKAGE}_models.py"


# ---------------------------------------------------------------------------------------- helpers


def load(path: Path) -> Catalog:
    catalog, diagnostics = check_catalog(path)
    assert catalog is not None, "\n".join(d.render() for d in diagnostics)
    return catalog


def import_models(path: Path, name: str) -> ModuleType:
    """Import a models file by path, as a consumer would vendor it."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves generic models through sys.modules
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def emit_all(catalog: Catalog, out: Path, data_dir: Path) -> list[dict[str, Any]]:
    """One envelope per event the app sends (the runtime sends the opt-out record), in catalog order,
    made by the generated package (a feedback event's is its report's), as JSON would carry it."""
    package = import_generated(out, catalog.app.package)
    sink = package.MemorySink()
    package.configure(
        app_version="3.2.0",
        commit="4f2a9c1",
        sinks=[sink],
        strict=True,
        data_dir=data_dir,
        consent="all",
        context=app_context(catalog),
    )
    envelopes = []
    for event in catalog.events:
        if event.category is Category.FEEDBACK:
            envelopes.append(getattr(package.feedback, event.identifier)(**arguments(event.fields)).envelope)
        elif event.category is not Category.OPT_OUT:
            getattr(package.events, event.identifier)(**arguments(event.fields))
            envelopes.append(sink.events[-1])
    assert [e["event"] for e in envelopes] == [e.name for e in catalog.events if e.category is not Category.OPT_OUT]
    return [json.loads(json.dumps(envelope)) for envelope in envelopes]


def dump(model: pydantic.BaseModel) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def build_models(catalog: Catalog, cache: ModelsCache | None) -> tuple[GeneratedFile, tuple[str, ...]]:
    """The models file built with `cache`, and the parts datamodel-code-generator wrote for it."""
    build = models_target.ModelsBuild(catalog, cache, None)
    (file,) = build.files()
    return file, build.generated


# ---------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def example() -> Catalog:
    return load(EXAMPLE)


@pytest.fixture(scope="module")
def fresh(example: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example built from scratch: no earlier output, so datamodel-code-generator runs."""
    out = tmp_path_factory.mktemp("fresh") / "generated"
    write_tree(render_all(example), out)
    return out


@pytest.fixture(scope="module")
def models(fresh: Path) -> Iterator[ModuleType]:
    name = f"{PACKAGE}_models"
    yield import_models(fresh / MODELS, name)
    sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def envelopes(example: Catalog, fresh: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return emit_all(example, fresh, tmp_path_factory.mktemp("data"))


@pytest.fixture
def app_exited(envelopes: list[dict[str, Any]]) -> dict[str, Any]:
    envelope = copy.deepcopy(next(e for e in envelopes if e["event"] == "app/exited"))
    envelope["data"] = {"exit_reason": "signal", "uptime_seconds": 12.5, "exit_code": 130, "events_dropped": 0}
    return envelope


def schema_of(out: Path, envelope: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a (still valid) envelope's event."""
    name = envelope["event"]
    version = envelope["schema"].rsplit("/v", 1)[1].split(".")[0]
    schema: dict[str, Any] = json.loads((out / "schemas" / f"{name}.v{version}.schema.json").read_text("utf-8"))
    return schema


def test_the_models_pass_mypy_strict(fresh: Path, tmp_path: Path) -> None:
    # The code that reads events back is type-checked, and mypy checks the models file with it.
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache")]
    result = subprocess.run([*mypy, str(fresh / MODELS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


# ----------------------------------------------------------------------------- parse and reject


def test_every_emitted_event_parses_and_round_trips(
    example: Catalog, models: ModuleType, envelopes: list[dict[str, Any]]
) -> None:
    union = getattr(models, f"{camel(example.app.package)}Event")
    for event, envelope in zip(example.events, envelopes, strict=True):
        model = getattr(models, camel(event.identifier))
        parsed = model.model_validate(envelope)
        assert dump(parsed) == envelope, event.name
        assert isinstance(parsed.data, getattr(models, f"{camel(event.identifier)}Data"))
        assert isinstance(union.model_validate(envelope).root, model), event.name
        assert dump(model.model_validate_json(json.dumps(envelope))) == envelope


def test_fields_are_typed_attributes(models: ModuleType, app_exited: dict[str, Any]) -> None:
    parsed = models.AppExited.model_validate(app_exited)
    assert parsed.event == "app/exited"
    assert parsed.data.exit_reason == "signal" and parsed.data.exit_code == 130
    assert parsed.data.uptime_seconds == 12.5
    assert parsed.context.instance_id == app_exited["context"]["instance_id"]
    assert parsed.schema_ == app_exited["schema"]
    assert models.AppExitedData.__doc__ is None or "exit" in models.AppExitedData.__doc__.lower()
    assert "Why the process ended." in (models.AppExitedData.model_fields["exit_reason"].description or "")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, key = path.split(".")

    def change(envelope: dict[str, Any]) -> None:
        target = envelope
        for parent in parents:
            target = target[parent]
        target[key] = value

    return change


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    *parents, key = path.split(".")

    def change(envelope: dict[str, Any]) -> None:
        target = envelope
        for parent in parents:
            target = target[parent]
        del target[key]

    return change


INVALID = {
    "enum value not declared": _set("data.exit_reason", "exploded"),
    "required field missing": _delete("data.uptime_seconds"),
    "undeclared data field": _set("data.hostname", "db-01"),
    "undeclared top-level key": _set("ip_address", "192.0.2.1"),
    "integer over maximum": _set("data.exit_code", 256),
    "number below minimum": _set("data.uptime_seconds", -1.0),
    "float for an integer": _set("data.exit_code", 1.5),
    "context key missing": _delete("context.session_id"),
    "context pattern broken": _set("context.instance_id", "not-a-hex-id-not-a-hex-id-12345"),
    "context enum broken": _set("context.os", "plan9"),
    "wrong event name": _set("event", "app/started"),
    "wrong schema id": _set(
        "schema", "https://telemetry.vigilant-trader.example/schemas/events/app/exited/v9.schema.json"
    ),
    "id too short": _set("id", "abc"),
    "timestamp not UTC": _set("timestamp", "2025-01-01T10:00:00+02:00"),
    "data not an object": _set("data", []),
}


@pytest.mark.parametrize("change", INVALID.values(), ids=INVALID.keys())
def test_invalid_event_is_rejected(
    models: ModuleType, fresh: Path, app_exited: dict[str, Any], change: Callable[[dict[str, Any]], None]
) -> None:
    models.AppExited.model_validate(app_exited)  # valid before the change
    schema = schema_of(fresh, app_exited)
    change(app_exited)
    with pytest.raises(jsonschema.ValidationError):  # the reference validator agrees it is invalid
        jsonschema.validate(app_exited, schema)
    with pytest.raises(pydantic.ValidationError):
        models.AppExited.model_validate(app_exited)
    with pytest.raises(pydantic.ValidationError):
        models.AppExited.model_validate_json(json.dumps(app_exited))


def test_nested_and_array_fields_are_checked(models: ModuleType, envelopes: list[dict[str, Any]]) -> None:
    exception = copy.deepcopy(next(e for e in envelopes if e["event"] == "error/unhandled-exception"))
    models.ErrorUnhandledException.model_validate(exception)
    nested = next(k for k, v in exception["data"].items() if isinstance(v, dict))
    bad = copy.deepcopy(exception)
    bad["data"][nested]["unexpected"] = 1
    with pytest.raises(pydantic.ValidationError):
        models.ErrorUnhandledException.model_validate(bad)

    latency = copy.deepcopy(next(e for e in envelopes if e["event"] == "perf/price-fetch-latency"))
    for samples in ([], [1.0] * 21, [-1.0], ["fast"]):
        latency["data"]["latency_samples_ms"] = samples
        with pytest.raises(pydantic.ValidationError):
            models.PerfPriceFetchLatency.model_validate(latency)


# Values JSON Schema rejects and pydantic's lax modes would take (or coerce).
STRICTNESS = {
    "string for an integer": ("app/exited", "data.exit_code", "3"),
    "boolean for an integer": ("app/exited", "data.exit_code", True),
    "fraction for an integer": ("app/exited", "data.exit_code", 2.5),
    "whole float above an integer's maximum": ("app/exited", "data.exit_code", 256.0),
    "null for an optional integer": ("app/exited", "data.exit_code", None),
    "string for a number": ("app/exited", "data.uptime_seconds", "3.5"),
    "boolean for a number": ("app/exited", "data.uptime_seconds", True),
    "string for a boolean": ("app/started", "data.interactive", "yes"),
    "integer for a boolean": ("app/started", "data.interactive", 1),
    "duplicate in a unique array": ("app/started", "data.enabled_features", ["tor", "tor"]),
}


@pytest.mark.parametrize(("event_name", "path", "value"), STRICTNESS.values(), ids=STRICTNESS.keys())
def test_models_reject_what_the_schema_rejects(
    models: ModuleType, fresh: Path, envelopes: list[dict[str, Any]], *, event_name: str, path: str, value: Any
) -> None:
    """Consumers must not accept (and silently coerce) events that the collector's schemas reject."""
    envelope = copy.deepcopy(next(e for e in envelopes if e["event"] == event_name))
    schema = schema_of(fresh, envelope)
    _set(path, value)(envelope)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(envelope, schema)
    model = getattr(models, camel(emitter_name(event_name)))
    with pytest.raises(pydantic.ValidationError):
        model.model_validate_json(json.dumps(envelope))
    with pytest.raises(pydantic.ValidationError):
        model.model_validate(envelope)


def test_an_integer_sent_as_a_whole_float_parses_as_that_integer(
    models: ModuleType, fresh: Path, tmp_path: Path
) -> None:
    """`transaction_created(output_count=2.0)` passes the runtime's check and the schema (JSON Schema
    counts 2.0 as an integer), so the stored event must parse: as the integer 2."""
    package = import_generated(fresh, PACKAGE)
    sink = package.MemorySink()
    package.configure(
        app_version="3.2.0", commit="4f2a9c1", sinks=[sink], strict=True, data_dir=tmp_path, consent="all"
    )
    package.events.transaction_created(asset="btc", network="mainnet", fee_level="normal", output_count=2.0)
    (envelope,) = [json.loads(json.dumps(e)) for e in sink.events]
    assert repr(envelope["data"]["output_count"]) == "2.0"
    jsonschema.validate(envelope, schema_of(fresh, envelope))
    for parsed in (
        models.TransactionCreated.model_validate(envelope),
        models.TransactionCreated.model_validate_json(json.dumps(envelope)),
    ):
        assert parsed.data.output_count == 2 and type(parsed.data.output_count) is int


def test_an_optional_field_left_out_is_missing_and_stays_out(models: ModuleType, app_exited: dict[str, Any]) -> None:
    del app_exited["data"]["exit_code"]
    parsed = models.AppExited.model_validate(app_exited)
    assert parsed.data.exit_code is pydantic.MISSING
    assert "exit_code" not in parsed.model_dump(mode="json")["data"]
    assert dump(parsed) == app_exited


# ------------------------------------------------------------------- the models against the schemas


def _ecma_pattern(
    validator: jsonschema.Draft202012Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """jsonschema's `pattern`, reading `$` as ECMA-262 does (the very end), as the generated checks do."""
    if validator.is_type(instance, "string") and re.search(python_pattern(pattern), instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# JSON Schema as the collector applies it.
Reference = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})  # type: ignore[no-untyped-call]

# Tried in place of every value: each JSON type, and numbers on the edges of JSON Schema's type rules.
ODD_VALUES: list[Any] = [None, True, False, 0, 1, -1, 2.0, -0.0, 0.5, 10**30, 1e300, "", "x", "1", "2.0", "\n"]
ODD_VALUES += [[], {}, [None], {"": None}]


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    assert ref.startswith("#/$defs/"), ref
    resolved: dict[str, Any] = root["$defs"][ref.removeprefix("#/$defs/")]
    return resolved


def _variants(schema: dict[str, Any], value: Any, root: dict[str, Any]) -> list[Any]:
    """Values for a place holding `value` (valid for `schema`): odd ones, and ones on the schema's edges."""
    schema = _resolve(schema, root)
    kind = schema.get("type")
    variants = list(ODD_VALUES)
    if "enum" in schema:
        variants += [v for option in schema["enum"] for v in (option, option.upper(), option + " ", option + "\n")]
    elif kind in ("integer", "number"):
        for bound in (schema.get("minimum"), schema.get("maximum")):
            if bound is not None:
                variants += [bound, float(bound), bound - 1, bound + 1, bound - 0.5, bound + 0.5, float(bound + 1)]
    elif kind == "string":
        high = schema["maxLength"]
        variants += [value, value + "\n", "\n" + value, value + " ", value.upper(), value[:-1], "é" + value[1:]]
        variants += [(value * high)[:high], (value * high)[: high + 1], "😀" * len(value)]
    elif kind == "array":
        high = schema["maxItems"]
        variants += [[], value[:1], value + value[:1], (value * (high + 1))[: high + 1], [*value[1:], *value[:1]]]
        if value:
            variants += [[item] for item in _variants(schema["items"], value[0], root)]
            variants += [[*value[:1], item] for item in _variants(schema["items"], value[0], root)[-6:]]
    return variants


Place = tuple[str, ...]


def _places(schema: dict[str, Any], value: dict[str, Any], root: dict[str, Any], path: Place) -> Iterator[Place]:
    """The path of every key of the object `value` (valid for `schema`), and of the keys of its objects."""
    for key, inner in schema["properties"].items():
        if key in value:
            yield (*path, key)
            resolved = _resolve(inner, root)
            if resolved.get("type") == "object" and "properties" in resolved:
                yield from _places(resolved, value[key], root, (*path, key))


def _at(envelope: Any, path: Place) -> Any:
    for key in path:
        envelope = envelope[key]
    return envelope


def _schema_at(schema: dict[str, Any], root: dict[str, Any], path: Place) -> dict[str, Any]:
    for key in path:
        schema = _resolve(schema, root)["properties"][key]
    return schema


def _corpus(envelope: dict[str, Any], schema: dict[str, Any], *, whole: bool) -> Iterator[dict[str, Any]]:
    """`envelope`, and copies changed at one place of its `data` (of the whole envelope if `whole`):
    a value replaced, a key removed, an unknown key added to an object."""
    yield envelope
    top: Place = () if whole else ("data",)
    places = list(_places(_resolve(_schema_at(schema, schema, top), schema), _at(envelope, top), schema, top))
    for path in places:
        *parents, key = path
        for value in _variants(_schema_at(schema, schema, path), _at(envelope, path), schema):
            changed = copy.deepcopy(envelope)
            _at(changed, tuple(parents))[key] = value
            yield changed
        removed = copy.deepcopy(envelope)
        del _at(removed, tuple(parents))[key]
        yield removed
    for path in [top, *places]:
        if isinstance(_at(envelope, path), dict):
            extended = copy.deepcopy(envelope)
            _at(extended, path)["unexpected"] = 1
            yield extended


def _accepts(validate: Callable[[Any], Any], value: Any) -> bool:
    try:
        validate(value)
    except pydantic.ValidationError:
        return False
    return True


def _verdicts(
    catalog: Catalog, models: ModuleType, out: Path, envelopes: list[dict[str, Any]]
) -> tuple[Counter[bool], list[str]]:
    """Every event, changed at one place of its data at a time (at one place of the whole envelope
    for the first event), judged by JSON Schema and by its model (from Python values and from JSON):
    how many cases were valid and invalid, and every case the two judged differently."""
    verdicts: Counter[bool] = Counter()
    differences = []
    events = {event.name: event for event in catalog.events}
    for index, envelope in enumerate(envelopes):
        event = events[envelope["event"]]
        schema = schema_of(out, envelope)
        reference = Reference(schema)
        model = getattr(models, camel(event.identifier))
        for case in _corpus(envelope, schema, whole=index == 0):
            valid = reference.is_valid(case)
            verdicts[valid] += 1
            python = _accepts(model.model_validate, case)
            from_json = _accepts(model.model_validate_json, json.dumps(case))
            if not valid == python == from_json:
                differences.append(f"{event.name}: schema {valid}, model {python}, from JSON {from_json}: {case}")
    return verdicts, differences


def test_models_accept_exactly_what_the_schemas_accept(
    example: Catalog, models: ModuleType, fresh: Path, envelopes: list[dict[str, Any]]
) -> None:
    verdicts, differences = _verdicts(example, models, fresh, envelopes)
    assert not differences, f"{len(differences)} differences, e.g.\n" + "\n".join(differences[:10])
    assert verdicts[True] >= 800 and verdicts[False] >= 4000, verdicts


def test_models_with_snake_case_attributes_accept_exactly_the_wire_json(tmp_path: Path) -> None:
    """The hardware-wallet catalog's fields are lowerCamelCase on the wire and snake_case model
    attributes: the models still accept exactly what the schemas accept, keyed as on the wire."""
    catalog = load(HARDWARE_WALLET)
    out = tmp_path / "generated"
    write_tree(render_all(catalog), out)
    name = f"{catalog.app.package}_models"
    models = import_models(out / f"models/{name}.py", name)
    try:
        verdicts, differences = _verdicts(catalog, models, out, emit_all(catalog, out, tmp_path / "data"))
    finally:
        sys.modules.pop(name, None)
    assert not differences, f"{len(differences)} differences, e.g.\n" + "\n".join(differences[:10])
    assert verdicts[True] >= 400 and verdicts[False] >= 2000, verdicts


def test_hostile_catalog_text_yields_importable_models(tmp_path: Path) -> None:
    """Quotes, backslashes and triple quotes in descriptions and enum values do not break the file."""
    catalog = load(FIXTURES / "docs" / "hostile.yaml")
    write_tree(render_all(catalog), tmp_path / "generated")
    module = import_models(tmp_path / "generated" / models_target.models_path(catalog), "hostile_app_telemetry_models")
    try:
        started = catalog.events[0]
        mode = next(f for f in started.fields if f.name == "mode")
        assert isinstance(mode.type, EnumType)
        annotation = module.AppStartedData.model_fields["mode"].annotation
        assert list(annotation.__args__) == list(mode.type.values)
        assert '"""' in (module.AppStarted.__doc__ or "")
        envelopes = emit_all(catalog, tmp_path / "generated", tmp_path / "data")
        for event, envelope in zip(catalog.events, envelopes, strict=True):
            model = getattr(module, camel(event.identifier))
            assert dump(model.model_validate(envelope)) == envelope
        empty = copy.deepcopy(envelopes[1])
        assert empty["event"] == "form/submitted" and empty["data"] == {}
        empty["data"] = {"anything": 1}
        with pytest.raises(pydantic.ValidationError):
            module.FormSubmitted.model_validate(empty)
    finally:
        sys.modules.pop("hostile_app_telemetry_models", None)


def test_a_field_named_format_is_modelled(tmp_path: Path) -> None:
    """`format` is a JSON Schema keyword the models leave out, but also a fine name for a field."""
    catalog = catalog_from_text(
        MINIMAL_CATALOG.replace(
            "      mode:\n",
            "      format:\n"
            "        type: enum\n"
            "        values: [csv, json]\n"
            "        description: The format the report was written in, as the user chose it.\n"
            "        privacy: interaction\n"
            "        required: true\n"
            "      mode:\n",
        )
    )
    out = tmp_path / "generated"
    write_tree(render_all(catalog), out)
    module = import_models(out / models_target.models_path(catalog), "format_models")
    try:
        (envelope,) = emit_all(catalog, out, tmp_path / "data")
        assert envelope["data"]["format"] == "csv"
        assert dump(module.AppStarted.model_validate(envelope)) == envelope
        envelope["data"]["format"] = "xml"
        with pytest.raises(pydantic.ValidationError):
            module.AppStarted.model_validate(envelope)
    finally:
        sys.modules.pop("format_models", None)


# --------------------------------------------------------------- kept out of the emitter package


def test_emitter_package_never_imports_pydantic(fresh: Path) -> None:
    assert MODELS.startswith("models/") and (fresh / MODELS).is_file()
    python = fresh / "python"
    for path in python.rglob("*"):
        if path.is_file():
            assert "pydantic" not in path.read_text("utf-8"), path
            assert not path.name.endswith("_models.py"), path
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(python)!r})\n"
        f"import {PACKAGE} as t\n"
        "sink = t.MemorySink()\n"
        f"t.configure(app_version='1', sinks=[sink], strict=True, data_dir={str(fresh / 'data')!r}, consent='all')\n"
        "t.events.app_exited(exit_reason='normal', uptime_seconds=1.0)\n"
        "assert sink.names() == ['app/exited']\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'pydantic_core', 'datamodel_code_generator', 'telemetry_gen', 'jsonschema', 'jinja2')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------------------ cache and --check


def test_unchanged_catalog_takes_the_models_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ModelsCache.beside(tmp_path / "events.yaml", tmp_path / "generated")
    example = load(EXAMPLE)
    first, _ = build_models(example, cache)
    again, generated = build_models(example, cache)
    assert again == first and generated == ()


def test_changes_outside_the_models_input_keep_the_cached_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new never_collected item changes the docs, not what the models are made from."""
    cache = ModelsCache.beside(tmp_path / "events.yaml", tmp_path / "generated")
    (before,) = models_target.render(load(EXAMPLE), cache)
    text = EXAMPLE.read_text("utf-8")
    anchor = "never_collected:\n"
    assert text.count(anchor) == 1
    changed = text.replace(anchor, anchor + "  - Screen contents and clipboard data.\n")
    catalog, diagnostics = parse_catalog(changed, "events.yaml")
    assert catalog is not None, diagnostics
    after, generated = build_models(catalog, cache)
    assert after == before and generated == ()


def test_an_edited_event_regenerates_only_its_own_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEMETRY_GEN_NO_CACHE")
    text = EXAMPLE.read_text("utf-8")
    anchor = "      exit_reason:\n"
    assert text.count(anchor) == 1
    added = (
        "      restart_count:\n"
        "        type: integer\n"
        "        minimum: 0\n"
        "        maximum: 100\n"
        "        description: How often the app restarted itself during this run.\n"
        "        privacy: technical\n"
    )
    catalog_path = tmp_path / "events.yaml"
    catalog_path.write_text(text, "utf-8")
    code, output = run_cli("build", str(catalog_path))
    assert code == 0, output
    catalog_path.write_text(text.replace(anchor, added + anchor), "utf-8")
    _, generated = build_models(load(catalog_path), ModelsCache.beside(catalog_path, tmp_path / "generated"))
    assert generated == ("AppExited",)
    code, output = run_cli("build", str(catalog_path))
    assert code == 0, output
    module = import_models(tmp_path / "generated" / MODELS, "changed_models")
    try:
        assert "restart_count" in module.AppExitedData.model_fields
        data = module.AppExitedData.model_validate({"exit_reason": "normal", "uptime_seconds": 1, "restart_count": 2})
        assert data.restart_count == 2
        with pytest.raises(pydantic.ValidationError):
            module.AppExitedData.model_validate({"exit_reason": "normal", "uptime_seconds": 1, "restart_count": 101})
    finally:
        sys.modules.pop("changed_models", None)


def test_a_warm_cache_builds_the_same_files_as_a_cold_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After edits (a field added, an event removed), a build taking most models from the cache
    writes the same bytes as one that generates them all."""
    monkeypatch.delenv("TELEMETRY_GEN_NO_CACHE")
    text = EXAMPLE.read_text("utf-8")
    catalog_path = tmp_path / "events.yaml"
    catalog_path.write_text(text, "utf-8")
    warm, cold = tmp_path / "warm", tmp_path / "cold"
    code, output = run_cli("build", str(catalog_path), "--out", str(warm))
    assert code == 0, output
    removed = text.index("  wallet/receive-shown:\n")
    edited = text[:removed].replace(
        "      exit_reason:\n",
        "      restart_count:\n"
        "        type: integer\n"
        "        maximum: 100\n"
        "        description: How often the app restarted itself during this run.\n"
        "        privacy: technical\n"
        "      exit_reason:\n",
    )
    catalog_path.write_text(edited, "utf-8")
    _, generated = build_models(load(catalog_path), ModelsCache.beside(catalog_path, warm))
    assert generated == ("AppExited",)
    code, output = run_cli("build", str(catalog_path), "--out", str(warm))
    assert code == 0, output
    code, output = run_cli("build", str(catalog_path), "--out", str(cold), "--no-cache")
    assert code == 0, output
    assert file_tree(warm) == file_tree(cold)
    (entry,) = (tmp_path / ".telemetry-gen-cache").glob("models-*.json")
    parts = 1 + len(load(catalog_path).events)  # the context's and each event's
    assert len(json.loads(entry.read_text("utf-8"))["parts"]) == parts, "only the last build's parts"
    assert "WalletReceiveShown" not in (warm / MODELS).read_text("utf-8")


def test_events_with_same_named_nested_objects_keep_their_own_shapes(tmp_path: Path) -> None:
    catalog = catalog_from_text(
        MINIMAL_CATALOG.replace("domains: [app]", "domains: [app, job]")
        + "".join(
            f"""\
  {name}:
    description: The {name} event; counts how often it happens.
    trigger: When it happens.
    category: usage
    owner: core-team
    since: "1.0"
    fields:
      limits:
        type: object
        description: The limits that applied.
        privacy: technical
        fields:
          {field}:
            type: integer
            description: A limit.
            privacy: technical
            minimum: 0
            maximum: 10
"""
            for name, field in (("app/limited", "retries"), ("job/limited", "workers"))
        )
    )
    write_tree(render_all(catalog), tmp_path / "generated")
    module = import_models(tmp_path / "generated" / models_target.models_path(catalog), "nested_models")
    try:
        assert module.AppLimitedData.model_validate({"limits": {"retries": 3}}).limits.retries == 3
        assert module.JobLimitedData.model_validate({"limits": {"workers": 3}}).limits.workers == 3
        with pytest.raises(pydantic.ValidationError):
            module.AppLimitedData.model_validate({"limits": {"workers": 3}})
        with pytest.raises(pydantic.ValidationError):
            module.JobLimitedData.model_validate({"limits": {"retries": 3}})
    finally:
        sys.modules.pop("nested_models", None)


def test_events_whose_classes_would_share_a_name_are_refused(tmp_path: Path) -> None:
    """`app/started` has the class AppStartedData for its data, which `app/started-data` would be."""
    text = MINIMAL_CATALOG + MINIMAL_CATALOG.split("events:\n", 1)[1].replace("app/started:", "app/started-data:")
    with pytest.raises(ValueError, match="event 'app/started' and event 'app/started-data' both need the model class"):
        render_all(catalog_from_text(text))


def test_new_toolkit_version_misses_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache key covers telemetry-gen's version (and datamodel-code-generator's)."""
    cache = ModelsCache.beside(tmp_path / "events.yaml", tmp_path / "generated")
    example = load(EXAMPLE)
    parts = 1 + len(example.events)  # the context's model and each event's
    first, generated = build_models(example, cache)
    assert len(generated) == parts
    assert build_models(example, cache)[1] == ()
    monkeypatch.setattr(models_target, "__version__", "99.0.0")
    again, generated = build_models(example, cache)
    assert len(generated) == parts and again == first


def test_damaged_cache_entry_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ModelsCache.beside(tmp_path / "events.yaml", tmp_path / "generated")
    example = load(EXAMPLE)
    (first,) = models_target.render(example, cache)
    record = json.loads(cache.entry.read_text("utf-8"))
    damaged = next(key for key, model in record["parts"].items() if "class AppExited(" in model["body"])
    record["parts"][damaged]["body"] = 3
    cache.entry.write_text(json.dumps(record), "utf-8")
    again, generated = build_models(example, cache)
    assert generated == ("AppExited",) and again == first
    cache.entry.write_text('{"models": {"', "utf-8")
    again, generated = build_models(example, cache)
    assert len(generated) == 1 + len(example.events) and again == first


def test_hand_edited_models_are_reported_by_check(fresh: Path, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    shutil.copytree(fresh, out)
    path = out / MODELS
    original = path.read_text("utf-8")
    assert original.count("le=255") == 1
    path.write_text(original.replace("le=255", "le=999"), "utf-8")
    code, output = run_cli("build", str(EXAMPLE), "--out", str(out), "--check")
    assert code == 1 and f"changed: {MODELS}" in output, output
    assert "changed: docs" not in output and "changed: python" not in output
    assert path.read_text("utf-8") != original  # --check writes nothing
    code, output = run_cli("build", str(EXAMPLE), "--out", str(out))
    assert code == 0, output
    assert path.read_text("utf-8") == original


def test_models_are_identical_across_fresh_builds(example: Catalog, fresh: Path, tmp_path: Path) -> None:
    (content,) = [f.content for f in models_target.render(example)]
    assert content == (fresh / MODELS).read_text("utf-8")
    assert str(tmp_path) not in content and str(fresh) not in content
    compile(content, MODELS, "exec")
