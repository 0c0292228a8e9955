"""Output target: a typed, importable Python package of emitters (standard library only).

Layout of `python/<package>/` (a dotted package's folders nested: `python/ledgerline/telemetry/`):
`events.py` (one keyword-only function per usage or errors event), `feedback.py` (one per feedback
event, returning a `Report`, when there are any), `_checks.py` (generated validators),
`_catalog.py` (app and event specs), `__init__.py` (the public API), `testing.py` (a pytest
plugin for the app's tests) and `py.typed`; plus `python/pyproject.toml` so the folder can be
installed as it is. A dotted package's parents get no `__init__.py`: they are the app's own
packages, so the standalone distribution installs as a namespace portion beside them.

Every name, type string, literal and docstring is computed here; the templates only lay them out.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass

import telemetry_gen_runtime

from .. import __version__
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
    python_name,
)
from .checkplan import check_function, check_plan
from .common import GeneratedFile, banner, render_template
from .pychecks import module_source

# Names an emitter's body or the `events` module uses itself; a parameter must not shadow them.
_RESERVED = frozenset({"annotations", "Literal", "TypedDict", "Any", "dict", "str", "payload", "copied"})
# Control characters, and line separators that tools flag as ambiguous, are written as escapes.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")


def _escape_character(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def docstring_literal(text: str, indent: str) -> str:
    """A triple-quoted literal whose value is `text`, whatever quotes or backslashes it holds."""
    escaped = text.replace("\\", "\\\\").replace("\r", "\\r")
    escaped = _CONTROL.sub(_escape_character, escaped)
    escaped = escaped.replace('"""', '\\"\\"\\"')
    if escaped.endswith('"'):
        escaped = escaped[:-1] + '\\"'
    lines = [line.rstrip() for line in escaped.split("\n")]
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines[1:])
    return f'"""{lines[0]}\n{body}\n{indent}"""' if len(lines) > 1 else f'"""{lines[0]}"""'


def parameter_name(field_name: str) -> str:
    """The keyword a field is passed as: its Python name (`outputsCount` → `outputs_count`), with
    `_` appended when Python reserves it.

    Soft keywords (`match`, `type`, ...) are valid names, so they are kept: the output must not
    depend on the Python version that runs the generator.
    """
    name = python_name(field_name)
    if keyword.iskeyword(name) or name in _RESERVED:
        return name + "_"
    return name


def toml_string(text: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, as long as characters stay unescaped
    (TOML has no surrogate pairs)."""
    return json.dumps(text, ensure_ascii=False)


def camel(identifier: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in identifier.split("_"))


def _dict_literal(items: Iterable[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{key}: {value}" for key, value in items) + "}"


@dataclass(frozen=True)
class Parameter:
    name: str
    key_literal: str
    annotation: str
    required: bool
    # Lists and objects are copied into the payload: what is checked is what is sent, whatever
    # the app does to its own list after the call.
    value: str


@dataclass(frozen=True)
class TypedDictClass:
    name: str
    docstring: str
    required: str  # a dict literal {key: annotation} of the required keys
    optional: str


@dataclass(frozen=True)
class Emitter:
    function: str
    spec: str
    gate: str
    docstring: str
    parameters: tuple[Parameter, ...]
    required_data: str  # the dict literal the payload starts from


@dataclass(frozen=True)
class SpecArguments:
    """What `_catalog.py` passes to one event's `EventSpec`."""

    spec: str
    name: str
    schema_id: str
    category: str
    check: str
    keywords: str


class _PythonModel:
    """Everything the templates need, computed once from the catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.typed_dicts: list[TypedDictClass] = []
        # The events the app emits itself through `events`; the runtime sends the opt-out record, and
        # reports the user sends (feedback events) have their own module.
        self.emitted = [event for event in catalog.events if event.category in (Category.USAGE, Category.ERRORS)]
        self.emitters = [self.emitter(event) for event in self.emitted]
        self.reported = [event for event in catalog.events if event.category is Category.FEEDBACK]
        self.report_emitters = [self.emitter(event) for event in self.reported]

    def annotation(self, value_type: ValueType, owner: str) -> str:
        if isinstance(value_type, StringType):
            return "str"
        if isinstance(value_type, EnumType):
            return "Literal[" + ", ".join(repr(v) for v in dict.fromkeys(value_type.values)) + "]"
        if isinstance(value_type, NumericType):
            return "int" if value_type.integer else "float"
        if isinstance(value_type, BooleanType):
            return "bool"
        if isinstance(value_type, ArrayType):
            return f"list[{self.annotation(value_type.items, owner)}]"
        assert isinstance(value_type, ObjectType)
        return self.typed_dict(owner, value_type)

    def typed_dict(self, owner: str, value_type: ObjectType) -> str:
        taken = {cls.name for cls in self.typed_dicts}
        name = base = camel(owner)
        counter = 2
        while name in taken:
            name, counter = f"{base}{counter}", counter + 1
        members = [(f, self.annotation(f.type, f"{owner}_{python_name(f.name)}")) for f in value_type.fields]
        self.typed_dicts.append(
            TypedDictClass(
                name=name,
                docstring=docstring_literal(self.field_lines(value_type.fields, "Keys:", as_parameters=False), "    "),
                required=_dict_literal((repr(f.name), a) for f, a in members if f.required),
                optional=_dict_literal((repr(f.name), a) for f, a in members if not f.required),
            )
        )
        return name

    @staticmethod
    def field_lines(fields: tuple[Field, ...], heading: str, *, as_parameters: bool) -> str:
        """One line per field, named as the caller passes it: a parameter or a dict key."""
        lines = [heading]
        for f in fields:
            notes = [f.privacy.value, "required" if f.required else "optional"]
            unit = f.type.unit if isinstance(f.type, NumericType) else None
            if unit:
                notes.append(f"unit: {unit}")
            name = parameter_name(f.name) if as_parameters else f.name
            lines.append(f"    {name}: {f.description.strip()} ({', '.join(notes)})")
        return "\n".join(lines)

    def emitter(self, event: Event) -> Emitter:
        facts = [f"consent: {event.category.value}", f"since {event.since}", f"owner: {event.owner}"]
        parts = [event.description.strip(), f"Sent: {event.trigger.strip()}", "; ".join(facts) + "."]
        if not event.expires.never:
            parts.append(f"Expiry: {event.expires.effect()}.")
        if event.deprecated:
            parts.append(f"Deprecated: {event.deprecated.strip()}")
        if event.fields:
            parts.append(self.field_lines(event.fields, "Args:", as_parameters=True))
        # Required parameters first keeps the signature readable; all are keyword-only anyway.
        fields = sorted(event.fields, key=lambda f: not f.required)
        ordered = tuple(
            Parameter(
                name=parameter_name(f.name),
                key_literal=repr(f.name),
                annotation=self.annotation(f.type, f"{event.identifier}_{python_name(f.name)}"),
                required=f.required,
                value=(
                    f"copied({parameter_name(f.name)})"
                    if isinstance(f.type, (ArrayType, ObjectType))
                    else parameter_name(f.name)
                ),
            )
            for f in fields
        )
        return Emitter(
            function=event.identifier,
            spec=event.identifier.upper(),
            gate="usage" if event.category.value == "usage" else "errors",
            docstring=docstring_literal("\n\n".join(parts), "    "),
            parameters=ordered,
            required_data=_dict_literal((p.key_literal, p.value) for p in ordered if p.required),
        )


def emitter_modules(catalog: Catalog) -> dict[str, dict[str, Event | None]]:
    """The public names of each generated module of emitters, `events` and (when the catalog has
    feedback events) `feedback`: each emitter with its event, each TypedDict class with None."""
    model = _PythonModel(catalog)
    modules = {"events": (model.emitters, model.emitted), "feedback": (model.report_emitters, model.reported)}
    found: dict[str, dict[str, Event | None]] = {}
    for module, (emitters, events) in modules.items():
        if emitters:
            names: dict[str, Event | None] = {cls.name: None for cls in _typed_dicts_of(model, emitters)}
            names.update((emitter.function, event) for emitter, event in zip(emitters, events, strict=True))
            found[module] = names
    return found


def _spec_keywords(event: Event) -> str:
    """The EventSpec keyword arguments: the opt-out record's data, and what makes an expiring
    event's emitter a no-op once expired."""
    arguments = [f"fixed_data={event.fixed_data()!r}"] if event.category is Category.OPT_OUT else []
    if event.expires.date is not None:
        arguments.append(f"expires_date={event.expires.date.isoformat()!r}")
    if event.expires.app_version is not None:
        arguments.append(f"expires_app_version={event.expires.app_version!r}")
    return "".join(f", {argument}" for argument in arguments)


# The folder of the output that holds the standalone distribution (pyproject.toml and the package).
DISTRIBUTION_FOLDER = "python"


def package_folder(catalog: Catalog) -> str:
    """The package's folder below a source root: `ledgerline/telemetry` for `ledgerline.telemetry`."""
    return catalog.app.package.replace(".", "/")


def _typed_dicts_of(model: _PythonModel, emitters: list[Emitter]) -> list[TypedDictClass]:
    """The TypedDict classes the emitters' parameters name."""
    annotations = [p.annotation for e in emitters for p in e.parameters]
    return [cls for cls in model.typed_dicts if any(re.search(rf"\b{cls.name}\b", text) for text in annotations)]


def _module_values(model: _PythonModel, emitters: list[Emitter], doc: str, *, reports: bool) -> dict[str, object]:
    """What the emitter template needs for one module: `events`, or `feedback` (`reports`)."""
    annotations = [p.annotation for e in emitters for p in e.parameters]
    typed_dicts = _typed_dicts_of(model, emitters)
    typing_names = ["Any"]
    typing_names += ["Literal"] if any("Literal[" in text for text in annotations) or typed_dicts else []
    typing_names += ["TypedDict"] if typed_dicts else []
    runtime_names = ["Report"] if reports else []
    runtime_names += ["copied"] if any(p.value.startswith("copied(") for e in emitters for p in e.parameters) else []
    return {
        "module_doc": docstring_literal(doc, ""),
        "typing_imports": ", ".join(sorted(typing_names)),
        "runtime_names": ", ".join(runtime_names),
        "emitters": emitters,
        "typed_dicts": typed_dicts,
        "reports": reports,
    }


def render(catalog: Catalog) -> list[GeneratedFile]:
    model = _PythonModel(catalog)
    checks = check_plan(catalog)
    package = catalog.app.package
    header = f"# {banner(catalog)}"
    app = catalog.app
    # Generated code relies on the runtime's API of this minor version (see the runtime's README).
    runtime_minor = ".".join(telemetry_gen_runtime.__version__.split(".")[:2])
    values = {
        "header": header,
        "package_doc": docstring_literal(
            f"Telemetry for {app.title}: typed emitters in `events`, and the controls below.\n\n"
            f"    from {package} import configure, events\n\n"
            '    configure(app_version="1.2.3")  # sends nothing until the user opts in\n'
            "    events.<domain>_<action>(...)\n",
            "",
        ),
        "has_reports": bool(model.report_emitters),
        "distribution": toml_string(re.sub("[._]", "-", package)),
        "toml_version": toml_string(str(app.version)),
        "description": toml_string(f"Telemetry emitters for {app.title}, generated by telemetry-gen."),
        "toml_package": toml_string(package),
        "runtime_requirement": toml_string(f"telemetry-gen-runtime~={runtime_minor}.0"),
        "runtime_minor_text": runtime_minor,
        "runtime_minor_parts": repr(runtime_minor.split(".")),
        "runtime_imports": ", ".join(
            ["AppInfo", *(["ContextSpec"] if catalog.context else []), "EventSpec", "Telemetry"]
        ),
        "app": catalog.app,
        "package": package,
        "generator_version": __version__,
        "context_check": check_function(checks.context),
        "app_context_check": check_function(checks.app_context),
        "report_context_check": (check_function(checks.report_context) if checks.report_context is not None else None),
        "events": [
            SpecArguments(
                spec=e.identifier.upper(),
                name=repr(e.name),
                schema_id=repr(catalog.schema_id(e)),
                category=repr(e.category.value),
                check=check_function(checks.events[e.name]),
                keywords=_spec_keywords(e),
            )
            for e in catalog.events
        ],
        "context": [(repr(c.name), repr(c.source), repr(c.package)) for c in catalog.context],
        "title": repr(catalog.app.title),
        "app_name": repr(catalog.app.name),
        "env_prefix": repr(catalog.app.env_prefix),
        "catalog_version": repr(str(catalog.app.version)),
        "privacy_url": repr(catalog.app.privacy_policy_url),
    }
    root = f"{DISTRIBUTION_FOLDER}/{package_folder(catalog)}"
    events_module = _module_values(
        model,
        model.emitters,
        f"One keyword-only function per tracked event of {app.title} (catalog {app.version}).\n\n"
        "Each sends nothing unless the user has opted in; see the package's `configure`.",
        reports=False,
    )
    files = [
        GeneratedFile(
            f"{DISTRIBUTION_FOLDER}/pyproject.toml", render_template("python/pyproject.toml.jinja", **values)
        ),
        GeneratedFile(f"{root}/__init__.py", render_template("python/__init__.py.jinja", **values)),
        GeneratedFile(f"{root}/events.py", render_template("python/events.py.jinja", **values, **events_module)),
        GeneratedFile(f"{root}/_catalog.py", render_template("python/_catalog.py.jinja", **values)),
        GeneratedFile(f"{root}/_checks.py", module_source(checks, header)),
        GeneratedFile(f"{root}/testing.py", render_template("python/testing.py.jinja", **values)),
        GeneratedFile(f"{root}/py.typed", ""),
    ]
    if model.report_emitters:
        feedback_module = _module_values(
            model,
            model.report_emitters,
            f"Reports the user of {app.title} chooses to send: one keyword-only function per feedback event.\n\n"
            "Call one only on the user's explicit action (a Send button). It sends nothing: it returns a\n"
            "`Report`; show the user `report.envelope`, exactly what would be sent, then `report.send()`.\n"
            "A report is sent whatever the consent level; below `all` without the instance and session ids.",
            reports=True,
        )
        files.append(
            GeneratedFile(f"{root}/feedback.py", render_template("python/events.py.jinja", **values, **feedback_module))
        )
    return files
