"""Output target: pydantic v2 models of every event, for code that reads collected events back.

All event schemas go to datamodel-code-generator in one call, as one document with local
references only (so it never looks anything up on the network). The result lands in
`models/<package>_models.py`, outside the emitter package, so apps never import pydantic by
accident. datamodel-code-generator writes this file's body, so the body depends on its version:
telemetry-gen requires the one version its golden tests cover, and formats with the generator's
built-in formatter rather than black or isort, whose versions would change the output too. A run
costs seconds, so its result is kept in the build's cache (see `cache.py`), outside the output.

The models accept exactly the events the schemas accept: strict types (no coercion of "3" or
true), an optional field absent or valid but never null (pydantic's MISSING), `uniqueItems`
checked by the generator's runtime validators, and integers typed `JsonInteger`, which also takes
2.0 as JSON Schema does. They need pydantic 2.14 or later.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import tokenize
import warnings
from pathlib import Path
from typing import Any

from .. import __version__
from ..cache import ModelsCache
from ..catalog.model import Catalog, Category, python_name
from .common import GeneratedFile, banner
from .jsonschema import context_schema, event_schema
from .python import camel

TOOL = "datamodel-code-generator"
# The formatter's settings, shipped with telemetry-gen; see the pyproject.toml there.
FORMAT_SETTINGS = Path(__file__).parent / "models_format"


def models_path(catalog: Catalog) -> str:
    return f"models/{_module_name(catalog)}_models.py"


def _module_name(catalog: Catalog) -> str:
    """The package's import name as one identifier: `ledgerline.telemetry` → `ledgerline_telemetry`."""
    return catalog.app.package.replace(".", "_")


def _without_formats(schema: Any, *, properties: bool = False) -> Any:
    """Drop the keyword `format`: pydantic would turn timestamps into datetimes and lose their
    pattern. `properties`: `schema` maps field names to schemas, and a field may be called `format`."""
    if isinstance(schema, dict):
        return {
            key: _without_formats(value, properties=key == "properties" and not properties)
            for key, value in schema.items()
            if properties or key != "format"
        }
    if isinstance(schema, list):
        return [_without_formats(item) for item in schema]
    return schema


def models_input(catalog: Catalog) -> dict[str, Any]:
    """One JSON Schema document holding every event, named for readable class names."""
    definitions: dict[str, Any] = {"Context": {**context_schema(catalog), "title": "Context"}}
    if any(event.category is Category.FEEDBACK for event in catalog.events):
        definitions["ReportContext"] = {**context_schema(catalog, report=True), "title": "ReportContext"}
    contexts = set(definitions)
    for event in catalog.events:
        name = camel(event.identifier)
        schema = event_schema(catalog, event)  # a fresh dict on every call, safe to change
        for key in ("$schema", "$id", "$comment", "$defs"):
            schema.pop(key, None)
        schema["title"] = name
        context = "ReportContext" if event.category is Category.FEEDBACK else "Context"
        schema["properties"]["context"] = {"$ref": f"#/$defs/{context}"}
        schema["properties"]["data"]["title"] = f"{name}Data"
        definitions[name] = schema
    document: dict[str, Any] = _without_formats(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"{camel(_module_name(catalog))}Event",
            "oneOf": [{"$ref": f"#/$defs/{name}"} for name in definitions if name not in contexts],
            "$defs": definitions,
        }
    )
    return document


# JSON Schema counts 2.0 as an integer; pydantic's StrictInt does not. The models type integers
# with JsonInteger, defined in the file itself so that it needs nothing but pydantic.
JSON_INTEGER = '''

def _whole_float_as_int(value: Any) -> Any:
    """A float without a fractional part, such as 2.0, is the integer 2 in JSON Schema."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer as JSON Schema counts them: 2 and 2.0, never 2.5, true or "2".
JsonInteger = Annotated[StrictInt, BeforeValidator(_whole_float_as_int)]
'''


def _with_json_integers(code: str) -> str:
    """`code` with JsonInteger defined after its imports and standing for StrictInt everywhere else."""
    module = ast.parse(code)
    imports_end = max(node.end_lineno or 0 for node in module.body if isinstance(node, ast.Import | ast.ImportFrom))
    # Names only, never strings or comments: a description may well say "StrictInt".
    names = [
        token.start
        for token in tokenize.generate_tokens(io.StringIO(code).readline)
        if token.type == tokenize.NAME and token.string == "StrictInt" and token.start[0] > imports_end
    ]
    lines = code.splitlines(keepends=True)
    for row, column in reversed(names):  # from the last: a replacement moves what follows it on its line
        line = lines[row - 1]
        lines[row - 1] = line[:column] + "JsonInteger" + line[column + len("StrictInt") :]
    return "".join(lines[:imports_end]) + JSON_INTEGER + "".join(lines[imports_end:])


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
    from datamodel_code_generator.format import Formatter, PythonVersion
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
            formatters=[Formatter.BUILTIN],
            settings_path=FORMAT_SETTINGS,
            disable_timestamp=True,
            custom_file_header="",
        )
    assert isinstance(code, str)
    return _with_json_integers(code)


def cache_key(document: dict[str, Any]) -> str:
    """Everything the models' text depends on: its input, how it is generated and by which versions."""
    from importlib import metadata  # slow to import: only a build that keeps the cache needs it

    recipe = {
        "document": document,
        "telemetry-gen": __version__,
        TOOL: metadata.version(TOOL),
        # How `_generate` calls the generator and formats its output.
        "recipe": [
            hashlib.sha256(path.read_bytes()).hexdigest()
            for path in (Path(__file__), FORMAT_SETTINGS / "pyproject.toml")
        ],
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode("utf-8")).hexdigest()


def render(catalog: Catalog, cache: ModelsCache | None = None) -> list[GeneratedFile]:
    """The models file, generated or taken from `cache`."""
    document = models_input(catalog)
    key = cache_key(document) if cache is not None else ""
    body = cache.load(key) if cache is not None else None
    if body is None:
        body = _generate(document).lstrip("\n")
        if cache is not None:
            cache.store(key, body)
    return [GeneratedFile(models_path(catalog), f"# {banner(catalog)}\n{body}", written_by=TOOL)]
