"""Output target: pydantic v2 models of every event, for code that reads collected events back.

datamodel-code-generator writes the model of the context, then of each event on its own, from a
JSON Schema document with local references only (so it never looks anything up on the network);
in an event's document the context stands as an empty object named Context, so the context is
made once. telemetry-gen assembles the parts into `models/<package>_models.py`: the imports of all
of them, the generator's helper base class once, the context's and every event's classes in
catalog order, and a union of the events. A class an event's model defines besides `<Event>` and
`<Event>Data` (a nested object's, say) is named `<Event>_<Class>`, so two events' classes never
clash and no event's names depend on another event. The file lands outside the emitter package,
so apps never import pydantic by accident.

datamodel-code-generator writes the bodies, so they depend on its version: telemetry-gen requires
the one version its golden tests cover, and lays them out with the generator's built-in formatter
(called with fixed settings, never a project's) rather than black or isort, whose versions would
change the output too. Generating is the slow step of a build, so each part is kept in the build's
cache (see `cache.py`), outside the output: an edit of one event generates that event's model only.
The parts to generate are made in other processes while the build renders its other outputs.

The models accept exactly the events the schemas accept: strict types (no coercion of "3" or
true), an optional field absent or valid but never null (pydantic's MISSING), `uniqueItems`
checked by the generator's runtime validators, and integers typed `JsonInteger`, which also takes
2.0 as JSON Schema does. They need pydantic 2.14 or later.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import io
import json
import multiprocessing
import os
import tokenize
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..cache import ModelsCache
from ..catalog.model import Catalog, Category, python_name
from .common import GeneratedFile, banner
from .jsonschema import context_schema, event_schema
from .python import camel

TOOL = "datamodel-code-generator"
LINE_LENGTH = 100
CONTEXT = "Context"
REPORT_CONTEXT = "ReportContext"  # the context of a report the user sends: no instance or session id
# The base class the generator writes alike into every part that checks `uniqueItems`.
HELPER_CLASS = "_JsonSchemaRuntimeValidationBase"
# Told how many parts of the models are ready, of how many.
Progress = Callable[[int, int], None]
# At most this many processes generate parts at once: each holds datamodel-code-generator and
# pydantic in memory.
MAX_GENERATORS = 4


def models_path(catalog: Catalog) -> str:
    return f"models/{_module_name(catalog)}_models.py"


def _module_name(catalog: Catalog) -> str:
    """The package's import name as one identifier: `ledgerline.telemetry` → `ledgerline_telemetry`."""
    return catalog.app.package.replace(".", "_")


# Keywords whose values are data, not schemas: a "format" key in them is not the keyword.
VALUE_KEYWORDS = frozenset({"examples", "enum", "const", "default"})
# Keywords whose values map names (a field's, a definition's) to schemas.
SCHEMA_MAPS = frozenset({"properties", "$defs"})


def _without_formats(schema: Any) -> Any:
    """Drop the keyword `format`: pydantic would turn timestamps into datetimes and lose their
    pattern. A field named `format` stays."""
    if isinstance(schema, list):
        return [_without_formats(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: (
            value
            if key in VALUE_KEYWORDS
            else {name: _without_formats(inner) for name, inner in value.items()}
            if key in SCHEMA_MAPS and isinstance(value, dict)
            else _without_formats(value)
        )
        for key, value in schema.items()
        if key != "format"
    }


def part_documents(catalog: Catalog) -> list[tuple[str, dict[str, Any]]]:
    """The name of each part of the models (the contexts, then each event's class name) and the
    JSON Schema document it is made from."""
    draft = "https://json-schema.org/draft/2020-12/schema"
    documents = [(CONTEXT, {"$schema": draft, **context_schema(catalog), "title": CONTEXT})]
    if any(event.category is Category.FEEDBACK for event in catalog.events):
        report = {"$schema": draft, **context_schema(catalog, report=True), "title": REPORT_CONTEXT}
        documents.append((REPORT_CONTEXT, report))
    for event in catalog.events:
        name = camel(event.identifier)
        schema = event_schema(catalog, event)  # a fresh dict on every call, safe to change
        for key in ("$schema", "$id", "$comment", "$defs"):
            schema.pop(key, None)
        schema["title"] = name
        context = REPORT_CONTEXT if event.category is Category.FEEDBACK else CONTEXT
        schema["properties"]["context"] = {"$ref": f"#/$defs/{context}"}
        schema["properties"]["data"]["title"] = f"{name}Data"
        stand_in = {context: {"type": "object", "title": context}}  # left out of the part
        documents.append((name, {"$schema": draft, **schema, "$defs": stand_in}))
    return [(name, _without_formats(document)) for name, document in documents]


# JSON Schema counts 2.0 as an integer; pydantic's StrictInt does not. The models type integers
# with JsonInteger, defined in the file itself so that it needs nothing but pydantic.
JSON_INTEGER = '''

def _whole_float_as_int(value: Any) -> Any:
    """A float without a fractional part, such as 2.0, is the integer 2 in JSON Schema."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer as JSON Schema counts them: 2 and 2.0, never 2.5, true or "2".
JsonInteger = Annotated[StrictInt, BeforeValidator(_whole_float_as_int)]
'''
JSON_INTEGERS = {"StrictInt": "JsonInteger"}
# What JSON_INTEGER and the union of the events use.
ASSEMBLY_IMPORTS = (
    "from typing import Annotated, Any",
    "from pydantic import BeforeValidator, Field, RootModel, StrictInt",
)


def _renamed(code: str, names: Mapping[str, str]) -> str:
    """`code` with each name in `names` replaced, in code only, never in strings or comments (a
    description may well say "StrictInt")."""
    places = [
        (token.start, token.end[1], names[token.string])
        for token in tokenize.generate_tokens(io.StringIO(code).readline)
        if token.type == tokenize.NAME and token.string in names
    ]
    lines = code.splitlines(keepends=True)
    for (row, start), end, new in reversed(places):  # from the last: a replacement moves what follows it
        lines[row - 1] = lines[row - 1][:start] + new + lines[row - 1][end:]
    return "".join(lines)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Part:
    """One part of the models (the context's or an event's) as datamodel-code-generator wrote it,
    taken apart for the assembly."""

    imports: tuple[str, ...]  # each import statement
    helpers: dict[str, str]  # the code of HELPER_CLASS, if the part uses it
    body: str  # the part's own classes, in the generator's order, laid out

    @classmethod
    def from_code(cls, name: str, code: str) -> Part:
        """Split the generated module `code` of the part `name`."""
        lines = code.splitlines()
        imports: list[str] = []
        helpers: dict[str, str] = {}
        body: list[str] = []
        renames = dict(JSON_INTEGERS)
        for node in ast.parse(code).body:
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
            text = "\n".join(lines[first - 1 : node.end_lineno])
            if isinstance(node, ast.Import | ast.ImportFrom):
                imports.append(text)
            elif isinstance(node, ast.ClassDef) and node.name == HELPER_CLASS:
                helpers[node.name] = text
            elif not (isinstance(node, ast.ClassDef) and node.name in (CONTEXT, REPORT_CONTEXT) and name != node.name):
                body.append(text)
                if isinstance(node, ast.ClassDef) and node.name not in (name, f"{name}Data"):
                    renames[node.name] = f"{name}_{node.name}"
        return cls(tuple(imports), helpers, _format(_renamed("\n\n\n".join(body), renames)))

    def record(self, texts: dict[str, str]) -> dict[str, Any]:
        """The part as the cache keeps it; its helper goes to `texts`, by digest, once for all parts."""
        helpers = {}
        for class_name, text in self.helpers.items():
            helpers[class_name] = _digest(text)
            texts[helpers[class_name]] = text
        return {"imports": list(self.imports), "helpers": helpers, "body": self.body}

    @classmethod
    def from_record(cls, record: Any, texts: Mapping[str, Any]) -> Part | None:
        """The part a cache record holds, or None if it is not one."""
        try:
            imports, digests, body = record["imports"], record["helpers"], record["body"]
            helpers = {class_name: texts[digest] for class_name, digest in digests.items()}
        except (TypeError, KeyError, AttributeError):
            return None
        typed = (
            isinstance(imports, list)
            and all(isinstance(line, str) for line in imports)
            and all(isinstance(text, str) and _digest(text) == digests[name] for name, text in helpers.items())
            and isinstance(body, str)
        )
        return cls(tuple(imports), helpers, body) if typed else None


def _attribute_names(schema: Any) -> dict[str, str]:
    """Every property name of `schema` that is not its own Python name, mapped to that name: the
    model attribute is the field's Python name, the wire name its alias."""
    names: dict[str, str] = {}
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                names.update({name: python_name(name) for name in value if python_name(name) != name})
            names.update(_attribute_names(value))
    elif isinstance(schema, list):
        for item in schema:
            names.update(_attribute_names(item))
    return names


def _generate(document: dict[str, Any]) -> str:
    # Imported here: loading the generator takes a while, and a cached build never needs it.
    from datamodel_code_generator import generate
    from datamodel_code_generator.enums import (
        DataModelType,
        InputFileType,
        SchemaValidatorType,
        TargetPydanticVersion,
    )
    from datamodel_code_generator.format import PythonVersion
    from datamodel_code_generator.parser import LiteralType
    from datamodel_code_generator.types import StrictTypes  # type: ignore[attr-defined]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # notes about constraints pydantic cannot express
        code = generate(
            json.dumps(document, sort_keys=True),
            input_file_type=InputFileType.JsonSchema,
            output_model_type=DataModelType.PydanticV2BaseModel,
            target_python_version=PythonVersion.PY_310,
            target_pydantic_version=TargetPydanticVersion.V2_14,
            enum_field_as_literal=LiteralType.All,
            use_title_as_name=True,
            use_schema_description=True,
            field_constraints=True,
            # JSON Schema never coerces: "3" is not an integer, true is not a number, 1 is not a
            # boolean. StrictFloat takes JSON integers, which are numbers too.
            strict_types=[StrictTypes.int, StrictTypes.float, StrictTypes.bool, StrictTypes.str],
            # An optional field is absent or valid, never null: absent is pydantic's MISSING.
            use_missing_sentinel=True,
            aliases=_attribute_names(document),
            # uniqueItems, which pydantic has no constraint for, checked by a generated base class.
            schema_validator_type=SchemaValidatorType.PydanticV2,
            additional_imports=["typing.Annotated", "typing.Any", "pydantic.BeforeValidator", "pydantic.StrictInt"],
            # Laid out by `_format`, only what the models file keeps of it.
            formatters=[],
            disable_timestamp=True,
            custom_file_header="",
        )
    assert isinstance(code, str)
    return code


def _format(code: str) -> str:
    """`code` laid out as the generator lays out its own."""
    from datamodel_code_generator.format import PythonVersion, apply_builtin_formatter

    return apply_builtin_formatter(code, line_length=LINE_LENGTH, python_version=PythonVersion.PY_310)


def recipe_key() -> str:
    """Everything a part depends on besides its input: how it is generated, by which versions."""
    from importlib import metadata  # slow to import: only a build that keeps the cache needs it

    recipe = {
        "telemetry-gen": __version__,
        TOOL: metadata.version(TOOL),
        # How `_generate` calls the generator and `Part` takes its output apart.
        "recipe": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
    }
    return json.dumps(recipe, sort_keys=True)


def cache_key(recipe: str, name: str, document: dict[str, Any]) -> str:
    """The key of a part: its name, its input and the recipe."""
    text = json.dumps({"recipe": recipe, "name": name, "document": document}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _assemble(catalog: Catalog, parts: list[tuple[str, Part]]) -> str:
    """The models file's body: imports, the helper, each part's classes, the union of the events."""
    imports = sorted({line for _, part in parts for line in part.imports} | set(ASSEMBLY_IMPORTS))
    helpers: dict[str, str] = {}
    for _, part in parts:
        for class_name, text in part.helpers.items():
            if helpers.setdefault(class_name, text) != text:
                raise ValueError(f"the parts of the models define {class_name} differently")
    union = f"{camel(_module_name(catalog))}Event"
    members = " | ".join(name for name, _ in parts if name not in (CONTEXT, REPORT_CONTEXT))
    union_class = f"class {union}(RootModel[{members}]):\n    root: {members} = Field(..., title={union!r})\n"
    sections = [
        _format("\n".join(imports)).rstrip("\n") + "\n" + JSON_INTEGER,
        *(_typed_helper(_format(_renamed(text, JSON_INTEGERS))) for text in helpers.values()),
        *(part.body for _, part in parts),
        _format(union_class),
    ]
    return "\n\n\n".join(section.strip("\n") for section in sections) + "\n"


def _typed_helper(code: str) -> str:
    """The generator's helper class as `mypy --strict` accepts it. It looks up a fingerprint typed
    `int | None` in a dict of ints; the items it does so for (None, booleans, numbers, strings)
    always have one, which mypy cannot see, so that one argument is marked as checked by hand."""
    lines = code.splitlines(keepends=True)
    for node in ast.walk(ast.parse(code)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "structural_items"
            and node.args
            and isinstance(node.args[0], ast.Call)
        ):
            row = node.args[0].lineno - 1
            lines[row] = lines[row].rstrip("\n") + "  # type: ignore[arg-type]\n"
    return "".join(lines)


def _check_class_names(catalog: Catalog) -> None:
    """Two events whose classes would share a name (`x/y`'s data and `x/y-data`) cannot both be modelled."""
    owners = {
        f"{camel(_module_name(catalog))}Event": "the union of the events",
        CONTEXT: "the context",
        REPORT_CONTEXT: "the context of reports",
    }
    for event in catalog.events:
        for name in (camel(event.identifier), f"{camel(event.identifier)}Data"):
            other = owners.setdefault(name, f"event {event.name!r}")
            if other != f"event {event.name!r}":
                raise ValueError(f"{other} and event {event.name!r} both need the model class {name}: rename one")


@functools.cache
def _generators() -> ProcessPoolExecutor:
    """The processes that generate parts, made at the first part to generate and kept for the later
    builds of this process. They start from a fork server where the platform has one: forking a
    process that runs threads (an app, a test runner) is unsafe."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(
        max_workers=min(os.cpu_count() or 1, MAX_GENERATORS), mp_context=multiprocessing.get_context(method)
    )


def _generate_part(name: str, document: dict[str, Any]) -> Part:
    return Part.from_code(name, _generate(document))


class ModelsBuild:
    """The models file of a catalog, started: each part comes from `cache` or is being generated in
    another process (`generated` names those) until `files` collects them."""

    def __init__(self, catalog: Catalog, cache: ModelsCache | None, progress: Progress | None) -> None:
        _check_class_names(catalog)
        self._catalog = catalog
        self._cache = cache
        self._progress = progress
        documents = part_documents(catalog)
        recipe = recipe_key() if cache is not None else ""
        cached = cache.load() if cache is not None else {}
        cached_parts, cached_texts = cached.get("parts", {}), cached.get("texts", {})
        self._cached_keys = cached_parts.keys()
        self._keys = [cache_key(recipe, name, document) if cache is not None else "" for name, document in documents]
        self._names = [name for name, _ in documents]
        self._parts: list[Part | Future[Part]] = []
        for key, (name, document) in zip(self._keys, documents, strict=True):
            part = Part.from_record(cached_parts.get(key), cached_texts)
            self._parts.append(part if part is not None else _generators().submit(_generate_part, name, document))
        self.generated = tuple(
            name for name, part in zip(self._names, self._parts, strict=True) if isinstance(part, Future)
        )

    def files(self) -> list[GeneratedFile]:
        """The models file, once every part is ready; the cache then keeps exactly this build's parts."""
        pending = [part for part in self._parts if isinstance(part, Future)]
        ready = len(self._parts) - len(pending)
        for done, _ in enumerate(as_completed(pending), ready + 1):
            if self._progress is not None:
                self._progress(done, len(self._parts))
        parts = [part.result() if isinstance(part, Future) else part for part in self._parts]
        if self._cache is not None:
            texts: dict[str, str] = {}
            kept = {key: part.record(texts) for key, part in zip(self._keys, parts, strict=True)}
            if kept.keys() != self._cached_keys:
                self._cache.store({"parts": kept, "texts": texts})
        body = _assemble(self._catalog, list(zip(self._names, parts, strict=True)))
        return [GeneratedFile(models_path(self._catalog), f"# {banner(self._catalog)}\n{body}", written_by=TOOL)]


def render(catalog: Catalog, cache: ModelsCache | None = None, progress: Progress | None = None) -> list[GeneratedFile]:
    """The models file, each part generated or taken from `cache`; `progress` hears of each part."""
    return ModelsBuild(catalog, cache, progress).files()
