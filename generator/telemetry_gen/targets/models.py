"""Output target: pydantic v2 models of every event, for code that reads collected events back.

All event schemas go to datamodel-code-generator in one call, as one document with local
references only (so it never looks anything up on the network). The result lands in
`models/<package>_models.py`, outside the emitter package, so apps never import pydantic by
accident. A run costs seconds, so the file's header records the hash of its input and a build
whose input is unchanged reuses the file already in the output folder.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__
from ..catalog.model import Catalog
from .common import GeneratedFile, banner
from .jsonschema import context_schema, event_schema
from .python import camel

INPUT_HASH_PREFIX = "# models input sha256 "
BODY_HASH_PREFIX = "# models body sha256 "


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
    # Imported here: loading the generator takes a while, and an unchanged catalog never needs it.
    from datamodel_code_generator import generate
    from datamodel_code_generator.enums import DataModelType, InputFileType
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
            enum_field_as_literal=LiteralType.All,
            use_title_as_name=True,
            use_schema_description=True,
            field_constraints=True,
            # JSON Schema never coerces: "3" is not an integer and 1 is not a boolean. Floats stay
            # lax because a JSON integer is a valid number.
            strict_types=[StrictTypes.int, StrictTypes.bool, StrictTypes.str],
            disable_timestamp=True,
            custom_file_header="",
        )
    assert isinstance(code, str)
    return code


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def render(catalog: Catalog, previous: Path | None = None) -> list[GeneratedFile]:
    """The models file; its body is reused from `previous` (the output folder) when its input is unchanged.

    The header's second line keys the cache (input, telemetry-gen and datamodel-code-generator
    versions, and this module's source); the third holds the body's own hash, so a hand-edited file is never reused.
    """
    document = models_input(catalog)
    # This module's own text is part of the key: changing how the models are generated must
    # invalidate every cached file, even before the version is raised.
    recipe = [__version__, metadata.version("datamodel-code-generator"), _sha256(Path(__file__).read_text("utf-8"))]
    key = _sha256(json.dumps([document, recipe], sort_keys=True))
    path = models_path(catalog)
    key_line = f"{INPUT_HASH_PREFIX}{key}"
    body = _reusable_body(previous / path, key_line) if previous is not None else None
    if body is None:
        body = _generate(document).lstrip("\n")
    return [GeneratedFile(path, f"# {banner(catalog)}\n{key_line}\n{BODY_HASH_PREFIX}{_sha256(body)}\n{body}")]


def _reusable_body(existing: Path, key_line: str) -> str | None:
    try:
        _banner, key, body_hash, body = existing.read_text("utf-8").split("\n", 3)
    except (OSError, ValueError):
        return None
    if key != key_line or body_hash != f"{BODY_HASH_PREFIX}{_sha256(body)}":
        return None
    return body
