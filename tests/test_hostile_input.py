"""Catalog text is data, never code: hostile catalogs build into files that say exactly that text.

The catalogs in `tests/fixtures/hostile/` put quotes of every kind, backslashes, template
syntax, markup, control and line-separator characters and injection attempts such as
`\"\"\"; import os; os._exit(3); \"\"\"` into every place a catalog holds text, and use field names
that Python reserves. For each we check that the build succeeds, that every generated module
compiles and imports without side effects and calls nothing the generator did not write, that
docstrings, `Literal`s, JSON Schemas and sent events carry the exact catalog strings, and that the
generated package passes `mypy --strict` and ruff. `events.yaml` holds most of it; each of the
smaller catalogs isolates one problem this file found (each since fixed in the toolkit).
"""

from __future__ import annotations

import ast
import copy
import datetime
import inspect
import json
import keyword
import re
import shutil
import subprocess
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from conftest import FIXTURES, build_text, import_generated
from telemetry_gen.catalog.lint import run_lints
from telemetry_gen.catalog.model import (
    ArrayType,
    BooleanType,
    Catalog,
    EnumType,
    Event,
    Field,
    NumericType,
    ObjectType,
    StringType,
    ValueType,
)
from telemetry_gen.targets.python import parameter_name

HOSTILE = FIXTURES / "hostile"
MAIN = "events"
CATALOGS = ["events", "emoji-title", "line-separators", "no-fields", "policy-url", "shadowed-builtins"]
GENERATED_RUFF = ["--isolated", "--select", "E,F,W,I,B,UP,RUF", "--ignore", "E501,UP013", "--target-version", "py310"]


@dataclass(frozen=True)
class Built:
    catalog: Catalog
    out: Path

    @property
    def package_name(self) -> str:
        return self.catalog.app.package

    @property
    def python_dir(self) -> Path:
        return self.out / "python"

    def schema(self, event: Event) -> dict[str, Any]:
        path = self.out / "schemas" / f"{event.name}.v{event.version}.schema.json"
        schema: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return schema


# -- values for calling emitters -----------------------------------------------------------------


def sample(value_type: ValueType, examples: tuple[Any, ...]) -> Any:
    """A valid value: the catalog's first example, else one built from the constraints."""
    if examples:
        return examples[0]
    if isinstance(value_type, EnumType):
        return value_type.values[0]
    if isinstance(value_type, NumericType):
        return 1 if value_type.integer else 1.5
    if isinstance(value_type, BooleanType):
        return True
    if isinstance(value_type, StringType):
        assert value_type.pattern is None, "give patterned fields an example in the catalog"
        return "x"
    if isinstance(value_type, ArrayType):
        return [sample(value_type.items, ())]
    assert isinstance(value_type, ObjectType)
    return {f.name: sample(f.type, f.examples) for f in value_type.fields}


def required_arguments(event: Event) -> dict[str, Any]:
    return {parameter_name(f.name): sample(f.type, f.examples) for f in event.fields if f.required}


def all_arguments(event: Event) -> dict[str, Any]:
    return {parameter_name(f.name): sample(f.type, f.examples) for f in event.fields}


# -- building, once per module ----------------------------------------------------------------------


def _import_in_subprocess(built: Built) -> subprocess.CompletedProcess[str]:
    """Import everything generated, and call every emitter (telemetry off), in a separate interpreter.

    Separate, so that text that did break out of a string (`os._exit(3)`, `print(...)`) shows as an
    exit code or output here instead of ending the test run.
    """
    calls = "".join(
        f"getattr(events, {event.identifier!r})(**{all_arguments(event)!r})\n" for event in built.catalog.events
    )
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(built.python_dir)!r}, {str(built.out / 'models')!r}]\n"
        f"import {built.package_name}\n"
        f"from {built.package_name} import events, _checks, _catalog\n"
        f"import {built.package_name}_models\n"
        f"{calls}"
        "print('imported')\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    result = {}
    for name in CATALOGS:
        out = tmp_path_factory.mktemp(name) / "generated"
        catalog = build_text((HOSTILE / f"{name}.yaml").read_text("utf-8"), out)
        result[name] = Built(catalog, out)
    return result


@pytest.fixture(scope="module")
def packages(built: dict[str, Built]) -> dict[str, ModuleType]:
    """The generated packages, imported in-process only once a subprocess proved that harmless."""
    for name, b in built.items():
        result = _import_in_subprocess(b)
        if result.returncode != 0 or result.stdout != "imported\n" or result.stderr:
            pytest.fail(f"{name}: importing the generated code misbehaved: {result}")
    return {name: import_generated(b.out, b.package_name) for name, b in built.items()}


def test_fixture_catalogs_are_all_here() -> None:
    assert sorted(p.stem for p in HOSTILE.glob("*.yaml")) == sorted(CATALOGS)


@pytest.mark.parametrize("name", CATALOGS)
def test_every_generated_python_file_compiles(built: dict[str, Built], name: str) -> None:
    files = sorted(built[name].out.rglob("*.py"))
    assert any(f.parent.name == "models" for f in files) and any(f.name == "events.py" for f in files)
    for path in files:
        compile(path.read_text("utf-8"), str(path), "exec")


@pytest.mark.parametrize("name", CATALOGS)
def test_import_and_calls_have_no_side_effects(built: dict[str, Built], name: str) -> None:
    result = _import_in_subprocess(built[name])
    assert (result.returncode, result.stdout, result.stderr) == (0, "imported\n", "")


@pytest.mark.parametrize("name", CATALOGS)
def test_lints_run_on_hostile_text(built: dict[str, Built], name: str) -> None:
    diagnostics = run_lints(built[name].catalog, datetime.date(2026, 1, 1))
    assert all(d.render() for d in diagnostics)


# -- nothing in executable position -------------------------------------------------------------------

CHECK_CALLS = {"frozenset", "isinstance", "len", "repr", "enumerate", "float"}
CHECK_CALLS |= {"isfinite", "has_duplicates", "unexpected_fields", "Violation"}
CHECK_METHODS = {"compile", "search", "append", "get", "issuperset", "is_integer"}
# The builtins the emitters' quick tests use, under names no argument can shadow.
EMITTER_CALLS = {"TypedDict", "_emit", "copied"}


def _calls(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Subscript):  # a parametrized builtin such as frozenset[str]()
                func = func.value
            names.append(
                func.id if isinstance(func, ast.Name) else f".{func.attr}" if isinstance(func, ast.Attribute) else "?"
            )
    return names


def _module_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {a.asname or a.name for a in node.names}
        else:
            assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant), ast.dump(node)[:200]
            assert node is tree.body[0], "only the module docstring may stand alone"
    return names


@pytest.mark.parametrize("name", CATALOGS)
def test_generated_modules_define_and_call_only_what_the_generator_writes(
    built: dict[str, Built], packages: dict[str, ModuleType], name: str
) -> None:
    b = built[name]
    root = b.python_dir / b.package_name
    events_tree = ast.parse((root / "events.py").read_text("utf-8"))
    assert set(_calls(events_tree)) <= EMITTER_CALLS
    functions = {e.identifier for e in b.catalog.events}
    names = _module_names(events_tree) - functions - {"annotations", "Any", "Literal", "TypedDict", "_catalog"}
    names -= {"_gate", "_emit", "copied"}
    assert all(re.fullmatch(r"_?[A-Z][A-Za-z0-9]*", n) for n in names), names  # TypedDict classes
    for node in events_tree.body:
        if isinstance(node, ast.FunctionDef):
            assert node.name in functions
            assert isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    module = packages[name].events
    public = {n for n in vars(module) if not n.startswith("__")}
    assert public == _module_names(events_tree)

    checks_tree = ast.parse((root / "_checks.py").read_text("utf-8"))
    for call in _calls(checks_tree):
        assert call in CHECK_CALLS or call.startswith("check_") or call.lstrip(".") in CHECK_METHODS, call
    catalog_tree = ast.parse((root / "_catalog.py").read_text("utf-8"))
    assert set(_calls(catalog_tree)) <= {"AppInfo", "ContextSpec", "EventSpec", "Telemetry"}
    init_tree = ast.parse((root / "__init__.py").read_text("utf-8"))
    # Bound to the client; and the check of the runtime's version.
    assert set(_calls(init_tree)) <= {"_add_argparse_command", "_typer_app", "ImportError", ".split"}


# -- the exact text, everywhere ------------------------------------------------------------------------

_KEPT_AT_LINE_END = "\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029"  # written as escapes: not stripped


def doc_text(text: str) -> str:
    """`text` as generated docstrings keep it: stripped, and each line without trailing whitespace."""
    lines = []
    for line in text.strip().split("\n"):
        end = len(line)
        while end and line[end - 1].isspace() and line[end - 1] not in _KEPT_AT_LINE_END:
            end -= 1
        lines.append(line[:end])
    return "\n".join(lines)


def docstring(obj: object, indent: str = "    ") -> str:
    """The docstring as written in the catalog's terms: continuation lines without their indent."""
    lines = (obj.__doc__ or "").split("\n")
    return "\n".join([lines[0], *(line.removeprefix(indent) for line in lines[1:])])


@pytest.mark.parametrize("name", CATALOGS)
def test_docstrings_hold_the_catalog_text_verbatim(
    built: dict[str, Built], packages: dict[str, ModuleType], name: str
) -> None:
    catalog = built[name].catalog
    package = packages[name]
    assert doc_text(catalog.app.title) in (package.__doc__ or "")
    assert doc_text(catalog.app.title) in (package.events.__doc__ or "")
    for event in catalog.events:
        function = getattr(package.events, event.identifier)
        doc = docstring(function)
        expected = [doc_text(event.description), "Sent: " + doc_text(event.trigger), f"owner: {doc_text(event.owner)}"]
        if event.deprecated:
            expected.append("Deprecated: " + doc_text(event.deprecated))
        for field in event.fields:
            expected.append(f"{parameter_name(field.name)}: {doc_text(field.description)} (")
            unit = field.type.unit if isinstance(field.type, NumericType) else None
            if unit:
                expected.append(f"unit: {unit})")
        for text in expected:
            assert text in doc, f"{event.name}: {text!r} not in {doc!r}"
        assert doc.startswith(doc_text(event.description))
        assert (inspect.getdoc(function) or "").startswith(doc_text(event.description).split("\n")[0].expandtabs())


def _literal_args(annotation: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)
    for arg in typing.get_args(annotation):
        found = _literal_args(arg)
        if found is not None:
            return found
    return None


def _enum_values(value_type: ValueType) -> tuple[str, ...] | None:
    if isinstance(value_type, ArrayType):
        return _enum_values(value_type.items)
    return value_type.values if isinstance(value_type, EnumType) else None


@pytest.mark.parametrize("name", CATALOGS)
def test_enum_literals_are_the_catalog_values(
    built: dict[str, Built], packages: dict[str, ModuleType], name: str
) -> None:
    seen = 0
    for event in built[name].catalog.events:
        hints = typing.get_type_hints(getattr(packages[name].events, event.identifier), include_extras=True)
        assert set(hints) - {"return"} == {parameter_name(f.name) for f in event.fields}
        for field in event.fields:
            hint = hints[parameter_name(field.name)]
            assert _literal_args(hint) == _enum_values(field.type), field.name
            seen += _enum_values(field.type) is not None
            if isinstance(field.type, ObjectType):
                keys = typing.get_type_hints(hint if isinstance(hint, type) else typing.get_args(hint)[0])
                assert set(keys) == {f.name for f in field.type.fields}
                for inner in field.type.fields:
                    assert _literal_args(keys[inner.name]) == _enum_values(inner.type)
    assert seen or name in ("no-fields", "shadowed-builtins")


def test_hostile_enum_values_are_exactly_the_yaml_ones(built: dict[str, Built]) -> None:
    """Guard the fixture itself: the YAML escapes produced the characters this file is about."""
    event = next(e for e in built[MAIN].catalog.events if e.name == "app/quoted")
    mode = next(f for f in event.fields if f.name == "mode")
    assert isinstance(mode.type, EnumType)
    values = mode.type.values
    for value in ['"""', "'''", "\\", "ends\\", "\\N{BULLET}", "\\x00", "line\nbreak", "cr\rhere", "nul\0char"]:
        assert value in values
    assert "ls\u2028sep" in values and "rtl\u200fmark" in values and "ansi\x1b[31mred" in values


@pytest.mark.parametrize("name", CATALOGS)
def test_emitting_hostile_values_sends_them_unchanged(
    built: dict[str, Built], packages: dict[str, ModuleType], name: str, tmp_path: Path
) -> None:
    b, package = built[name], packages[name]
    sink = package.MemorySink()
    package.configure(app_version="1.0.0", sinks=[sink], strict=True, data_dir=tmp_path)
    package.enable()
    expected: list[tuple[Event, dict[str, Any]]] = []
    for event in b.catalog.events:
        function = getattr(package.events, event.identifier)
        base = required_arguments(event)
        calls = [base, all_arguments(event)]
        for field in event.fields:
            options = list(field.examples) + list(_enum_values(field.type) or ())
            if isinstance(field.type, ArrayType) and _enum_values(field.type):
                options = [[value] for value in _enum_values(field.type) or ()]
            calls += [{**base, parameter_name(field.name): option} for option in options]
        for arguments in calls:
            function(**arguments)
            names = {parameter_name(f.name): f.name for f in event.fields}
            expected.append((event, {names[k]: v for k, v in arguments.items()}))
    assert len(sink.events) == len(expected)
    for envelope, (event, data) in zip(sink.events, expected, strict=True):
        assert envelope["event"] == event.name
        assert envelope["data"] == data
        assert json.loads(json.dumps(envelope)) == envelope
        jsonschema.validate(envelope, b.schema(event), cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("name", CATALOGS)
def test_the_collector_checks_hostile_catalogs_as_the_runtime_does(
    built: dict[str, Built], packages: dict[str, ModuleType], name: str, tmp_path: Path
) -> None:
    """The collector runs checks rendered from the catalog in its own process, and from an earlier
    build's schemas: hostile text stays data there too, and what the runtime sends is accepted by both."""
    from telemetry_gen.collector.schemas import load_earlier, registry

    b, package = built[name], packages[name]
    current, diagnostics = registry(b.catalog)
    earlier, more = load_earlier(b.out)
    assert diagnostics == more == [] and len(earlier) == len(b.catalog.events)
    read_back = {schema.schema_id: schema for schema in earlier}
    sink = package.MemorySink()
    package.configure(app_version="1.0.0", sinks=[sink], strict=True, data_dir=tmp_path)
    package.enable()
    for event in b.catalog.events:
        getattr(package.events, event.identifier)(**all_arguments(event))
    assert sink.events
    for envelope in map(copy.deepcopy, sink.events):
        assert current.check(envelope) == (current.by_id[envelope["schema"]], [])
        assert read_back[envelope["schema"]].check(envelope) == []
        envelope["data"]["undeclared"] = '"""; import os; os._exit(3)'
        (problem,) = current.check(envelope)[1]
        assert (problem.code, problem.location.pointer) == ("unknown-field", "/data/undeclared")


def test_keyword_fields_are_passed_with_an_underscore_and_sent_under_their_name(
    packages: dict[str, ModuleType], tmp_path: Path
) -> None:
    package = packages[MAIN]
    sink = package.MemorySink()
    package.configure(app_version="1.0.0", sinks=[sink], strict=True, data_dir=tmp_path, consent="all")
    parameters = inspect.signature(package.events.class_import).parameters
    assert {"class_", "from_", "import_", "lambda_", "return_", "annotations_"} <= set(parameters)
    # Builtins and soft keywords are valid parameter names, so they are not renamed.
    assert {"id", "list", "print", "none", "yes", "object", "match", "case"} <= set(parameters)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    nested = {"from": "net", "class": 2, "def": True, "type": 3, "id": ["p", "q"]}
    package.events.class_import(
        class_=1,
        from_=False,
        import_="b",
        match=2,
        case=3,
        lambda_=True,
        return_=0.5,
        annotations_=4,
        id=5,
        list=[1, 2],
        print=False,
        none=0,
        yes=1,
        object=nested,
    )
    data = sink.events[-1]["data"]
    assert data == {
        "class": 1,
        "from": False,
        "import": "b",
        "match": 2,
        "case": 3,
        "lambda": True,
        "return": 0.5,
        "annotations": 4,
        "id": 5,
        "list": [1, 2],
        "print": False,
        "none": 0,
        "yes": 1,
        "object": nested,
    }
    with pytest.raises(TypeError):
        package.events.class_import(**{"class": 1, "from": True})
    with pytest.raises(package.EventValidationError) as raised:
        package.events.app_quoted(mode="nope")
    values = list(typing.get_args(typing.get_type_hints(package.events.app_quoted)["mode"]))
    assert f"app/quoted.mode: 'nope' is not one of {values!r}" in str(raised.value)


@pytest.mark.parametrize("name", CATALOGS)
def test_schemas_carry_the_exact_strings(built: dict[str, Built], name: str) -> None:
    b = built[name]
    catalog = b.catalog
    bundle = json.loads((b.out / "schemas" / "bundle.schema.json").read_text("utf-8"))
    assert catalog.app.title in bundle["title"]
    for event in catalog.events:
        schema = b.schema(event)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["description"] == event.description
        assert schema["x-trigger"] == event.trigger
        assert schema["x-owner"] == event.owner
        assert schema.get("x-deprecated") == event.deprecated
        assert bundle["$defs"][event.name] == schema
        context = schema["$defs"]["context"]["properties"]
        for field in catalog.context:
            assert context[field.name]["description"] == field.description
        properties = schema["properties"]["data"]["properties"]
        assert set(properties) == {f.name for f in event.fields}
        _check_fields(event.fields, properties)


def _check_fields(fields: tuple[Field, ...], properties: dict[str, Any]) -> None:
    for field in fields:
        prop = properties[field.name]
        assert prop["description"] == field.description
        assert prop.get("examples", []) == list(field.examples)
        value_type = field.type
        inner = prop["items"] if isinstance(value_type, ArrayType) else prop
        scalar = value_type.items if isinstance(value_type, ArrayType) else value_type
        if isinstance(scalar, EnumType):
            assert inner["enum"] == list(scalar.values)
        if isinstance(scalar, StringType):
            assert inner.get("pattern") == scalar.pattern
        if isinstance(scalar, NumericType):
            assert prop.get("x-unit") == scalar.unit
        if isinstance(value_type, ObjectType):
            _check_fields(value_type.fields, prop["properties"])


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_pyproject_is_valid_toml_with_the_exact_title(built: dict[str, Built], name: str) -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    b = built[name]
    project = tomllib.loads((b.python_dir / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["description"] == f"Telemetry emitters for {b.catalog.app.title}, generated by telemetry-gen."
    assert project["name"] == b.package_name.replace("_", "-")


@pytest.mark.parametrize("name", CATALOGS)
def test_docs_contain_no_live_markup_from_the_catalog(built: dict[str, Built], name: str) -> None:
    for path in sorted((built[name].out / "docs").rglob("*")):
        if path.is_file():
            text = path.read_text("utf-8")
            for live in ("<script>alert", "<img", 'href="javascript:', "onerror=alert(1)>"):
                assert live not in text, f"{path.name} contains {live!r}"
            if path.suffix == ".md":  # in Markdown, an unescaped `](javascript:` would be a live link
                assert not re.search(r"(?<!\\)\]\(javascript:", text), path.name


def test_typed_dict_docstring_names_the_keys(packages: dict[str, ModuleType]) -> None:
    """Keys of a nested object are its field names, so its docstring must not rename them."""
    doc = packages[MAIN].events.ClassImportObject.__doc__ or ""
    assert "class: A keyword." in doc and "from: A keyword." in doc, doc


def test_parameter_names_do_not_depend_on_the_generators_python(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["type", "match", "case", "class", "id", "list"]
    on_this_python = [parameter_name(n) for n in names]
    python_312_soft_keywords = frozenset(["_", "case", "match", "type"])  # keyword.softkwlist on 3.12+
    python_310_soft_keywords = frozenset(["_", "case", "match"])  # on 3.10 and 3.11
    results = []
    for soft in (python_310_soft_keywords, python_312_soft_keywords):
        monkeypatch.setattr(keyword, "issoftkeyword", soft.__contains__)
        results.append([parameter_name(n) for n in names])
    assert results[0] == results[1] == on_this_python, results


# -- the generated package under mypy --strict and ruff ------------------------------------------------


@pytest.fixture(scope="module")
def mypy_errors(built: dict[str, Built], tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """One mypy --strict run over every hostile package; its error lines per catalog."""
    root = tmp_path_factory.mktemp("mypy")
    python_dir = root / "python"
    for b in built.values():
        shutil.copytree(b.python_dir / b.package_name, python_dir / b.package_name)
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(root / "cache")]
    result = subprocess.run(
        [*command, *(b.package_name for b in built.values())],
        cwd=python_dir,
        capture_output=True,
        text=True,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "Success" in result.stdout or "Found" in result.stdout, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    return {
        name: [line for line in lines if line.startswith(b.package_name + "/") and ": error:" in line]
        for name, b in built.items()
    }


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_generated_package_passes_mypy_strict(mypy_errors: dict[str, list[str]], name: str) -> None:
    assert mypy_errors[name] == []


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_generated_package_passes_ruff(built: dict[str, Built], name: str) -> None:
    b = built[name]
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *GENERATED_RUFF, b.package_name],
        cwd=b.python_dir,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
