"""Output target: pydantic v2 models of every event, for code that reads collected events back.

All event schemas go to datamodel-code-generator in one call, as one document with local
references only (so it never looks anything up on the network). The result lands in
`models/<package>_models.py`, outside the emitter package, so apps never import pydantic by
accident. datamodel-code-generator writes this file's body, so the body depends on its version:
telemetry-gen requires the one version its golden tests cover, and formats with the generator's
built-in formatter rather than black or isort, whose versions would change the output too. A run
costs seconds, so its result is kept in the build's cache (see `cache.py`), outside the output.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__
from ..cache import ModelsCache
from ..catalog.model import Catalog
from .common import GeneratedFile, banner
from .jsonschema import context_schema, event_schema
from .python import camel

TOOL = "datamodel-code-generator"
# The formatter's settings, shipped with telemetry-gen; see the pyproject.toml there.
FORMAT_SETTINGS = Path(__file__).parent / "models_format"


def models_path(catalog: Catalog) -> str:
    return f"models/{catalog.app.package}_models.py"


def _without_formats(schema: Any) -> Any:
    """Drop `format`: pydantic would turn timestamps into datetimes and lose their pattern."""
    if isinstance(schema, dict):
        return {key: _without_formats(value) for key, value in schema.items() if key != "format"}
    if isinstance(schema, list):
        return [_without_formats(item) for item in schema]
    return schema


def models_input(catalog: Catalog) -> dict[str, Any]:
    """One JSON Schema document holding every event, named for readable class names."""
    definitions: dict[str, Any] = {"Context": {**context_schema(catalog), "title": "Context"}}
    for event in catalog.events:
        name = camel(event.identifier)
        schema = event_schema(catalog, event)  # a fresh dict on every call, safe to change
        for key in ("$schema", "$id", "$comment", "$defs"):
            schema.pop(key, None)
        schema["title"] = name
        schema["properties"]["context"] = {"$ref": "#/$defs/Context"}
        schema["properties"]["data"]["title"] = f"{name}Data"
        definitions[name] = schema
    document: dict[str, Any] = _without_formats(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"{camel(catalog.app.package)}Event",
            "oneOf": [{"$ref": f"#/$defs/{name}"} for name in definitions if name != "Context"],
            "$defs": definitions,
        }
    )
    return document


def _generate(document: dict[str, Any]) -> str:
    # Imported here: loading the generator takes a while, and a cached build never needs it.
    from datamodel_code_generator import generate
    from datamodel_code_generator.enums import DataModelType, InputFileType
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
            enum_field_as_literal=LiteralType.All,
            use_title_as_name=True,
            use_schema_description=True,
            field_constraints=True,
            # JSON Schema never coerces: "3" is not an integer and 1 is not a boolean. Floats stay
            # lax because a JSON integer is a valid number.
            strict_types=[StrictTypes.int, StrictTypes.bool, StrictTypes.str],
            formatters=[Formatter.BUILTIN],
            settings_path=FORMAT_SETTINGS,
            disable_timestamp=True,
            custom_file_header="",
        )
    assert isinstance(code, str)
    return code


def cache_key(document: dict[str, Any]) -> str:
    """Everything the models' text depends on: its input, how it is generated and by which versions."""
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
