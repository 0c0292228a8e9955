"""Output target: an npm package of typed emitters (`typescript/`), ESM with type declarations.

Layout: `package.json` (named from `app.npm_package`; its one dependency is the runtime,
`telemetry-gen-runtime`), `tsconfig.json`, and in `src/`: `events.ts` (one function per event,
taking one object with the catalog's wire names), `checks.ts` (the validators, rendered from the
check plan by `tschecks.py`), `catalog.ts` (the app and event specs, and the one client),
`index.ts` (the public API) and `testing.ts` (capturing events in the app's tests). The package
ships TypeScript sources: `npm run build` (or `npm pack`, which runs it) compiles them with
`tsc --strict` into `dist/` as ESM with `.d.ts` declarations.

Every name, type string, literal and comment is computed here; the templates only lay them out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..catalog.model import (
    ArrayType,
    BooleanType,
    Catalog,
    Category,
    EnumType,
    Event,
    Field,
    NumericType,
    ObjectType,
    StringType,
    ValueType,
)
from .checkplan import check_function, check_plan
from .common import GeneratedFile, banner, render_template
from .tschecks import module_source

FOLDER = "typescript"
# The runtime's minor version the generated code is written for; `~` accepts its patch releases.
RUNTIME_RANGE = "~0.1.0"
# The compiler `npm run build` uses: the version the project's tests run.
TYPESCRIPT_VERSION = "5.9.3"


def function_name(event: Event) -> str:
    """The event's function: lowerCamelCase of its Python emitter name (`app_started` → `appStarted`).
    A part starting with a digit keeps its underscore (`app_run_2` → `appRun_2`), so two emitter
    names never give one function name."""
    first, *rest = event.identifier.split("_")
    return first + "".join(f"_{part}" if part[:1].isdigit() else part[:1].upper() + part[1:] for part in rest)


def comment(lines: list[str], indent: str) -> str:
    """A TSDoc comment holding `lines`, whatever they contain."""
    text = [line.rstrip().replace("*/", "*\\/") for line in "\n".join(lines).split("\n")]
    return "\n".join([f"{indent}/**", *(f"{indent} *{' ' + line if line else ''}" for line in text), f"{indent} */"])


def type_annotation(value_type: ValueType, indent: str) -> str:
    if isinstance(value_type, StringType):
        return "string"
    if isinstance(value_type, EnumType):
        return " | ".join(json.dumps(value) for value in dict.fromkeys(value_type.values))
    if isinstance(value_type, NumericType):
        return "number"
    if isinstance(value_type, BooleanType):
        return "boolean"
    if isinstance(value_type, ArrayType):
        return f"ReadonlyArray<{type_annotation(value_type.items, indent)}>"
    assert isinstance(value_type, ObjectType)
    return "{\n" + members(value_type.fields, indent + "  ") + f"\n{indent}}}"


def members(fields: tuple[Field, ...], indent: str) -> str:
    """The members of an object type with these fields, each with its TSDoc."""
    lines = []
    for f in fields:
        notes = [f"Privacy: {f.privacy.value}."]
        if isinstance(f.type, NumericType) and f.type.unit:
            notes.append(f"Unit: {f.type.unit}.")
        lines.append(comment([f.description.strip(), "", " ".join(notes)], indent))
        optional = "" if f.required else "?"
        lines.append(f"{indent}readonly {f.name}{optional}: {type_annotation(f.type, indent)};")
    return "\n".join(lines)


@dataclass(frozen=True)
class Emitter:
    function: str
    interface: str  # the name of its data's type
    members: str
    comment: str
    spec: str
    parameter: str  # `data: X`, with `= {}` when no field is required


def emitter(event: Event) -> Emitter:
    function = function_name(event)
    interface = function[:1].upper() + function[1:] + "Data"
    facts = [f"Consent: {event.category.value}", f"since {event.since}", f"owner: {event.owner}"]
    lines = [event.description.strip(), "", f"Sent: {event.trigger.strip()}", "", "; ".join(facts) + "."]
    if not event.expires.never:
        lines += ["", f"Expiry: {event.expires.effect()}."]
    if event.deprecated:
        lines += ["", f"@deprecated {event.deprecated.strip()}"]
    required = any(f.required for f in event.fields)
    return Emitter(
        function=function,
        interface=interface,
        members=members(event.fields, "  "),
        comment=comment(lines, ""),
        spec=event.identifier.upper(),
        parameter=f"data: {interface}" if required else f"data: {interface} = {{}}",
    )


@dataclass(frozen=True)
class Spec:
    constant: str
    name: str
    schema: str
    category: str
    check: str


def render(catalog: Catalog) -> list[GeneratedFile]:
    app = catalog.app
    plan = check_plan(catalog)
    header = f"// {banner(catalog)}"
    version = f"{app.version}.0"  # npm versions have three parts
    package = {
        "name": app.npm_package,
        "version": version,
        "description": f"Telemetry emitters for {app.title}. {banner(catalog)}",
        "type": "module",
        "engines": {"node": ">=18"},
        "exports": {
            ".": {"types": "./dist/index.d.ts", "default": "./dist/index.js"},
            "./testing": {"types": "./dist/testing.d.ts", "default": "./dist/testing.js"},
        },
        "files": ["dist", "src"],
        "scripts": {"build": "tsc -p tsconfig.json", "prepare": "tsc -p tsconfig.json"},
        "dependencies": {"telemetry-gen-runtime": RUNTIME_RANGE},
        "devDependencies": {"typescript": TYPESCRIPT_VERSION},
    }
    # The events the app emits; the TypeScript runtime sends no opt-out record and no user reports yet.
    sent = [e for e in catalog.events if e.category in (Category.USAGE, Category.ERRORS)]
    values = {
        "header": header,
        "title": app.title,
        "app_name": json.dumps(app.name),
        "title_literal": json.dumps(app.title),
        "env_prefix": json.dumps(app.env_prefix),
        "catalog_version": json.dumps(str(app.version)),
        "context": [
            "{ "
            + ", ".join(
                [f"name: {json.dumps(c.name)}", f"source: {json.dumps(c.source)}"]
                + ([f"package: {json.dumps(c.package)}"] if c.package is not None else [])
            )
            + " }"
            for c in catalog.context
        ],
        "context_check": check_function(plan.context),
        "specs": [
            Spec(
                constant=e.identifier.upper(),
                name=json.dumps(e.name),
                schema=json.dumps(catalog.schema_id(e)),
                category=json.dumps(e.category.value),
                check=check_function(plan.events[e.name]),
            )
            for e in sent
        ],
        "emitters": [emitter(e) for e in sent],
    }
    return [
        GeneratedFile(f"{FOLDER}/package.json", json.dumps(package, indent=2) + "\n"),
        GeneratedFile(f"{FOLDER}/tsconfig.json", render_template("typescript/tsconfig.json.jinja", header=header)),
        GeneratedFile(f"{FOLDER}/src/checks.ts", module_source(plan, header)),
        GeneratedFile(f"{FOLDER}/src/catalog.ts", render_template("typescript/catalog.ts.jinja", **values)),
        GeneratedFile(f"{FOLDER}/src/events.ts", render_template("typescript/events.ts.jinja", **values)),
        GeneratedFile(f"{FOLDER}/src/index.ts", render_template("typescript/index.ts.jinja", **values)),
        GeneratedFile(f"{FOLDER}/src/testing.ts", render_template("typescript/testing.ts.jinja", **values)),
    ]
