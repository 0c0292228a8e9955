"""Model step: validated catalog data → frozen dataclasses, plus the checks a schema can't express.

Everything downstream (lints, every output target) reads this model, never the raw YAML. The
model holds each part of the catalog that no earlier problem touches (the app, each event,
context field and history entry), so a catalog with problems is still checked as far as it
can be read.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import keyword
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..diagnostics import Diagnostic, Location, Severity
from .patterns import portability_problems, python_pattern
from .source import Flaws, Path, SourceMap
from .validate import BAD_VALUE, describe

BAD_EVENT_NAME = "CF020"
NAME_COLLISION = "CF021"
SENSITIVE_FIELD = "CF022"
UNJUSTIFIED_FREE_TEXT = "CF023"
BAD_PATTERN = "CF024"
INVERTED_BOUNDS = "CF025"
BAD_EXAMPLE = "CF026"
SINCE_TOO_NEW = "CF027"
BAD_CONTEXT = "CF028"
BAD_EXPIRY = "CF029"
NOT_FINITE = "CF030"
BAD_RENAME = "CF031"
BAD_HISTORY = "CF032"
UNPORTABLE_PATTERN = "CF033"
FIELD_NAME_COLLISION = "CF034"
BAD_OPT_OUT_RECORD = "CF035"

MIN_NAME_SEGMENTS = 2
MAX_NAME_SEGMENTS = 4
_SEGMENT = "[a-z][a-z0-9]*(-[a-z0-9]+)*"
EVENT_NAME = re.compile(f"^{_SEGMENT}(/{_SEGMENT}){{{MIN_NAME_SEGMENTS - 1},{MAX_NAME_SEGMENTS - 1}}}$")
# A field name: snake_case or lowerCamelCase, as `$defs/field_name` of catalog.schema.json says.
FIELD_NAME = re.compile("^[a-z][a-z0-9]*((_[a-z0-9]+)*|([A-Z][a-z0-9]*)*)$")
# Where a lowerCamelCase name starts a new word: `outputsCount`, `isHTTPEnabled` (→ is_http_enabled).
_WORD_START = re.compile("(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def emitter_name(event_name: str) -> str:
    """The Python name of an event: its segments joined with `_`, hyphens written `_` too
    (`settings/general/change-language` → `settings_general_change_language`).

    Everything named after an event derives from it: the emitter, its `check_` function and
    constants, its spec, its model class and its docs anchor. Two events with one emitter name
    are an error (CF021).
    """
    return event_name.replace("/", "_").replace("-", "_")


def python_name(field_name: str) -> str:
    """The snake_case form of a field name, as Python code names it: `outputsCount` →
    `outputs_count`; a snake_case name is its own.

    The catalog's name is the wire name (schemas, docs, the payload); this one names the emitter
    parameter, the generated checks' constants and the consumer model's attribute. It applies to
    event fields, nested object fields and context fields alike; two fields of one object with
    the same Python name are an error (CF034).
    """
    return _WORD_START.sub("_", field_name).lower()


class Privacy(enum.Enum):
    TECHNICAL = "technical"
    INTERACTION = "interaction"
    PSEUDONYMOUS = "pseudonymous"
    SENSITIVE = "sensitive"


class Category(enum.Enum):
    USAGE = "usage"
    ERRORS = "errors"
    OPT_OUT = "opt-out"  # the record the runtime sends itself when the user opts out
    FEEDBACK = "feedback"  # a report the user chooses to send, whatever the consent level


@dataclass(frozen=True)
class Version:
    breaking: int
    additive: int

    @classmethod
    def parse(cls, text: str) -> Version:
        breaking, additive = text.split(".")
        return cls(int(breaking), int(additive))

    def __str__(self) -> str:
        return f"{self.breaking}.{self.additive}"

    def key(self) -> tuple[int, int]:
        return (self.breaking, self.additive)


@dataclass(frozen=True)
class StringType:
    max_length: int
    min_length: int | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class EnumType:
    values: tuple[str, ...]
    # Where each value is written in the catalog; not part of the type.
    value_locations: tuple[Location, ...] = dataclasses.field(default=(), compare=False)


@dataclass(frozen=True)
class NumericType:
    integer: bool
    minimum: int | float | None = None
    maximum: int | float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class BooleanType:
    pass


ScalarType = StringType | EnumType | NumericType | BooleanType


@dataclass(frozen=True)
class ArrayType:
    items: ScalarType
    max_items: int
    min_items: int | None = None
    unique: bool = False


@dataclass(frozen=True)
class ObjectType:
    fields: tuple[Field, ...]


ValueType = StringType | EnumType | NumericType | BooleanType | ArrayType | ObjectType


@dataclass(frozen=True)
class Field:
    name: str
    type: ValueType
    description: str
    privacy: Privacy
    required: bool
    since: Version | None
    justification: str | None
    examples: tuple[Any, ...]
    location: Location
    description_location: Location


@dataclass(frozen=True)
class Expiry:
    """`never`, a calendar date, or an app version from which the event is no longer sent."""

    date: datetime.date | None = None
    app_version: str | None = None

    def __str__(self) -> str:
        if self.date is not None:
            return self.date.isoformat()
        if self.app_version is not None:
            return f"app:{self.app_version}"
        return "never"

    @property
    def never(self) -> bool:
        return self.date is None and self.app_version is None

    def effect(self) -> str:
        """What expiry does to the event's emitter, in words (for docstrings and docs); "" for never."""
        if self.date is not None:
            return f"sent up to {self.date.isoformat()}; after that day its emitter does nothing"
        if self.app_version is not None:
            return f"not sent from app version {self.app_version} on; its emitter then does nothing"
        return ""


@dataclass(frozen=True)
class Event:
    name: str
    description: str
    trigger: str
    category: Category
    owner: str
    since: Version
    version: int
    expires: Expiry
    deprecated: str | None
    lint_ignore: tuple[str, ...]
    fields: tuple[Field, ...]
    location: Location
    description_location: Location
    renamed_from: str | None = None

    @property
    def domain(self) -> str:
        """The first segment of the name."""
        return self.name.split("/", 1)[0]

    @property
    def action(self) -> str:
        """The name after the domain: `article/opened` in `guide/article/opened`."""
        return self.name.split("/", 1)[1]

    @property
    def identifier(self) -> str:
        """The event's emitter name, e.g. `settings_general_change_language`."""
        return emitter_name(self.name)

    def fixed_data(self) -> dict[str, str]:
        """The data of the opt-out record: each field's one value (the catalog allows no other fields)."""
        return {f.name: f.type.values[0] for f in self.fields if isinstance(f.type, EnumType)}


@dataclass(frozen=True)
class ContextSource:
    type: ValueType
    privacy: Privacy
    description: str


_VERSION_TEXT = StringType(max_length=64, pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_-]*$")
_RANDOM_ID = StringType(max_length=32, min_length=32, pattern=r"^[0-9a-f]{32}$")

# What the runtime can fill in. Types and privacy classes are fixed here so a catalog cannot
# declare a context field that would carry a hostname, a path or the environment.
CONTEXT_SOURCES: dict[str, ContextSource] = {
    "app_version": ContextSource(_VERSION_TEXT, Privacy.TECHNICAL, "Version of the app sending the event."),
    "app_commit": ContextSource(
        StringType(max_length=40, pattern=r"^([0-9a-f]{7,40}|unknown)$"),
        Privacy.TECHNICAL,
        "Source commit the app was built from, or `unknown`.",
    ),
    "python_version": ContextSource(
        StringType(max_length=32, pattern=r"^[0-9]+\.[0-9]+\.[0-9]+[a-z0-9]*$"),
        Privacy.TECHNICAL,
        "Version of the Python interpreter, e.g. 3.12.1.",
    ),
    "python_implementation": ContextSource(
        EnumType(("CPython", "PyPy", "other")),
        Privacy.TECHNICAL,
        "Python implementation.",
    ),
    "os": ContextSource(
        EnumType(("linux", "macos", "windows", "freebsd", "other")),
        Privacy.TECHNICAL,
        "Operating system family.",
    ),
    "os_version": ContextSource(
        StringType(max_length=64, pattern=r"^[0-9A-Za-z._+-]+$"),
        Privacy.TECHNICAL,
        "Operating system release (kernel release on Linux).",
    ),
    "machine_arch": ContextSource(
        StringType(max_length=32, pattern=r"^[A-Za-z0-9_-]+$"),
        Privacy.TECHNICAL,
        "CPU architecture, e.g. x86_64.",
    ),
    "instance_id": ContextSource(
        _RANDOM_ID,
        Privacy.PSEUDONYMOUS,
        "Random UUID4 (32 hex digits) made on opt-in and stored locally; never derived from the machine or the person.",
    ),
    "session_id": ContextSource(_RANDOM_ID, Privacy.PSEUDONYMOUS, "Random id made anew for every run of the app."),
    "package_version": ContextSource(
        StringType(max_length=64, pattern=r"^([0-9A-Za-z][0-9A-Za-z.+_-]*|not-installed)$"),
        Privacy.TECHNICAL,
        "Installed version of a package the app uses, or `not-installed`.",
    ),
}


APP_SOURCE = "app"  # a context value the app gives to `configure(context=...)`
# The sources that link events to an installation or a run: a report the user sends below level
# `all` carries neither.
IDENTITY_SOURCES = frozenset({"instance_id", "session_id"})


@dataclass(frozen=True)
class ContextField:
    name: str
    source: str
    package: str | None
    description: str
    location: Location
    # With source `app`: the field as declared (type, privacy, required, ...); else the source fixes them.
    declared: Field | None = None

    @property
    def type(self) -> ValueType:
        return self.declared.type if self.declared is not None else CONTEXT_SOURCES[self.source].type

    @property
    def privacy(self) -> Privacy:
        return self.declared.privacy if self.declared is not None else CONTEXT_SOURCES[self.source].privacy

    @property
    def required(self) -> bool:
        """Whether every event's context has it: the runtime fills its own fields always."""
        return self.declared.required if self.declared is not None else True

    @property
    def required_in_reports(self) -> bool:
        """Whether the context of a report the user sends (a `feedback` event) has it."""
        return self.required and self.source not in IDENTITY_SOURCES


@dataclass(frozen=True)
class OptOut:
    """What the app offers its users to opt in and out (`app.opt_out`), beyond what the runtime
    always honours: `DO_NOT_TRACK` and `<PREFIX>_TELEMETRY`."""

    command: str | None  # the app's telemetry command as users type it, e.g. `ledgerline telemetry`
    config_file: str | None  # where users find the configuration file passed to `configure(config=...)`
    asks_consent: bool  # the app calls `ask_consent()`
    asks_error_report: bool  # the app calls `report_error(exc)`, which asks


@dataclass(frozen=True)
class App:
    name: str
    title: str
    package: str
    npm_package: str
    version: Version
    schema_base_url: str
    env_prefix: str
    domains: tuple[str, ...]
    privacy_policy_url: str | None
    opt_out: OptOut
    version_location: Location


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change of a past catalog version (the catalog's `history`)."""

    version: Version
    change: str  # a change kind of `telemetry-gen diff`, e.g. `field-removed`
    event: str | None
    field: str | None
    note: str | None
    location: Location


@dataclass(frozen=True)
class Catalog:
    file: str
    app: App
    context: tuple[ContextField, ...]
    never_collected: tuple[str, ...]
    events: tuple[Event, ...]
    history: tuple[HistoryEntry, ...] = ()

    def schema_id(self, event: Event) -> str:
        return f"{self.app.schema_base_url}events/{event.name}/v{event.version}.schema.json"


T = TypeVar("T")


def per_catalog(compute: Callable[[Catalog], T]) -> Callable[[Catalog], T]:
    """`compute`, kept for the catalog it ran on last: the lints walk one catalog one after the
    other, and a build's targets render one check plan."""
    last: list[tuple[Catalog, T]] = []

    def computed(catalog: Catalog) -> T:
        if not last or last[0][0] is not catalog:  # the model is frozen: the same object, the same result
            last[:] = [(catalog, compute(catalog))]
        return last[0][1]

    return computed


class _ModelBuilder:
    def __init__(self, source_map: SourceMap, flaws: Flaws) -> None:
        self.map = source_map
        self.flaws = flaws
        self.diagnostics: list[Diagnostic] = []
        self.catalog_version: Version | None = None  # None when the app cannot be read

    def error(self, code: str, path: Path, message: str, hint: str, *, at_key: bool = False) -> None:
        location = self.map.key(path) if at_key else self.map.value(path)
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, location, message, hint))

    def app(self, raw: dict[str, Any]) -> App:
        name: str = raw["name"]
        package: str = raw["package"]
        opt_out: dict[str, Any] = raw.get("opt_out", {})
        parts = package.split(".")
        for index, part in enumerate(parts):
            if keyword.iskeyword(part):
                fixed = ".".join([*parts[:index], part + "_telemetry", *parts[index + 1 :]])
                self.error(
                    BAD_VALUE,
                    ("app", "package"),
                    f"{part!r} is a Python keyword: `import {package}` would be a syntax error",
                    f"choose another name for that part, e.g. {fixed}",
                )
        return App(
            name=name,
            title=raw["title"],
            package=package,
            npm_package=raw.get("npm_package", f"{name}-telemetry"),
            version=Version.parse(raw["version"]),
            schema_base_url=raw.get("schema_base_url", f"https://telemetry.invalid/{name}/"),
            env_prefix=raw.get("env_prefix", name.upper().replace("-", "_")),
            domains=tuple(raw["domains"]),
            privacy_policy_url=raw.get("privacy_policy_url"),
            opt_out=OptOut(
                command=opt_out.get("command"),
                config_file=opt_out.get("config_file"),
                asks_consent=opt_out.get("asks_consent", False),
                asks_error_report=opt_out.get("asks_error_report", False),
            ),
            version_location=self.map.value(("app", "version")),
        )

    def context(self, raw: dict[str, Any]) -> tuple[ContextField, ...]:
        self.python_names(list(raw), ("context",))
        fields = []
        for name, spec in sorted(raw.items()):
            path: Path = ("context", name)
            if self.flaws.touch(path):
                continue
            source: str = spec["source"]
            if source == APP_SOURCE:
                declared = self.field(name, spec, path)
                fields.append(ContextField(name, source, None, declared.description, declared.location, declared))
                continue
            package = spec.get("package")
            if (source == "package_version") != (package is not None):
                self.error(
                    BAD_CONTEXT,
                    path,
                    f"{describe(path)}: `package` goes with source package_version, and only there",
                    "name the distribution, e.g. `package: requests`" if package is None else "remove `package:`",
                )
            description = spec.get("description") or CONTEXT_SOURCES[source].description
            fields.append(ContextField(name, source, package, description, self.map.key(path)))
        return tuple(fields)

    def since(self, raw: str, path: Path) -> Version:
        version = Version.parse(raw)
        if self.catalog_version is not None and version.key() > self.catalog_version.key():
            self.error(
                SINCE_TOO_NEW,
                path,
                f"{describe(path[:-1])} is `since` {version}, newer than the catalog version {self.catalog_version}",
                "raise app.version, or correct `since`",
            )
        return version

    def pattern(self, raw: str | None, path: Path) -> str | None:
        """`raw`, with a problem reported for each construct the regex engines read differently, or
        else for what Python cannot compile (an engine-specific construct explains the failure better)."""
        if raw is None:
            return None
        problems = portability_problems(raw)
        for problem in problems:
            self.error(
                UNPORTABLE_PATTERN,
                path,
                f"{describe(path[:-1])}: the pattern's {problem.construct} (character {problem.position + 1}) "
                f"{problem.reason}",
                problem.hint,
            )
        if not problems:
            try:
                re.compile(raw)
            except (re.error, OverflowError) as exc:  # OverflowError: a repetition count beyond 2**32 - 2
                self.error(
                    BAD_PATTERN,
                    path,
                    f"{describe(path[:-1])}: invalid regular expression: {exc}",
                    "fix the pattern; docs/catalog-format.md lists what a pattern may use",
                )
        return raw

    def bounds(self, low: float | None, high: float | None, path: Path, low_key: str, what: str) -> None:
        """Report a lower bound (`low_key` of the field at `path`) above the upper one, where it is written."""
        if low is not None and high is not None and low > high:
            self.error(
                INVERTED_BOUNDS,
                (*path, low_key),
                f"{describe(path)}: the minimum {what} {low} is above the maximum {high}",
                "swap or correct the bounds",
                at_key=True,
            )

    def scalar(self, raw: dict[str, Any], path: Path) -> ScalarType:
        kind = raw["type"]
        if kind == "string":
            self.bounds(raw.get("min_length"), raw["max_length"], path, "min_length", "length")
            return StringType(
                raw["max_length"], raw.get("min_length"), self.pattern(raw.get("pattern"), (*path, "pattern"))
            )
        if kind == "enum":
            values = raw["values"]
            return EnumType(
                tuple(values), tuple(self.map.value((*path, "values", index)) for index in range(len(values)))
            )
        if kind in ("integer", "number"):
            for key in ("minimum", "maximum"):
                if isinstance(raw.get(key), float) and not math.isfinite(raw[key]):
                    self.error(
                        NOT_FINITE,
                        (*path, key),
                        f"{describe(path)}: {key} {raw[key]} is not a finite number",
                        "give a finite bound, or leave it out (JSON has no NaN or infinity)",
                    )
                    raw = {**raw, key: None}
            self.bounds(raw.get("minimum"), raw.get("maximum"), path, "minimum", "value")
            return NumericType(kind == "integer", raw.get("minimum"), raw.get("maximum"), raw.get("unit"))
        return BooleanType()

    def value_type(self, raw: dict[str, Any], path: Path) -> ValueType:
        kind = raw["type"]
        if kind == "array":
            self.bounds(raw.get("min_items"), raw["max_items"], path, "min_items", "item count")
            items = self.scalar(raw["items"], (*path, "items"))
            return ArrayType(items, raw["max_items"], raw.get("min_items"), raw.get("unique", False))
        if kind == "object":
            return ObjectType(self.fields(raw["fields"], path))
        return self.scalar(raw, path)

    def field(self, name: str, raw: dict[str, Any], path: Path) -> Field:
        value_type = self.value_type(raw, path)
        privacy = Privacy(raw["privacy"])
        justification = raw.get("justification")
        if privacy is Privacy.SENSITIVE:
            self.error(
                SENSITIVE_FIELD,
                (*path, "privacy"),
                f"{describe(path)} is classed `sensitive`: sensitive data is never collected",
                "remove the field and add what it would hold to `never_collected`",
            )
        if _is_free_text(value_type) and not justification:
            self.error(
                UNJUSTIFIED_FREE_TEXT,
                path,
                f"{describe(path)} is free text (a string without a pattern)",
                "add a `pattern:` that only admits safe values, or a `justification:` saying why free text "
                "cannot carry personal data",
                at_key=True,
            )
        examples = tuple(raw.get("examples", ()))
        for index, example in enumerate(examples):
            problem = example_problem(value_type, example)
            if problem:
                self.error(
                    BAD_EXAMPLE,
                    (*path, "examples", index),
                    f"example {example!r} of {describe(path)} {problem}",
                    "correct the example so it is a value the field accepts",
                )
        return Field(
            name=name,
            type=value_type,
            description=raw["description"],
            privacy=privacy,
            required=raw.get("required", False),
            since=self.since(raw["since"], (*path, "since")) if "since" in raw else None,
            justification=justification,
            examples=examples,
            location=self.map.key(path),
            description_location=self.map.key((*path, "description")),
        )

    def fields(self, raw: dict[str, Any], path: Path) -> tuple[Field, ...]:
        self.python_names(list(raw), (*path, "fields"))
        return tuple(self.field(name, spec, (*path, "fields", name)) for name, spec in sorted(raw.items()))

    def python_names(self, names: list[str], path: Path) -> None:
        """Report each name (a key under `path`, in file order) whose Python name an earlier one has."""
        owner = "the context" if path == ("context",) else describe(path[:-1])
        by_python_name: dict[str, str] = {}
        for name in names:
            other = by_python_name.setdefault(python_name(name), name)
            if other != name:
                self.error(
                    FIELD_NAME_COLLISION,
                    (*path, name),
                    f"fields {other!r} and {name!r} of {owner} both become the Python name {python_name(name)!r}",
                    "rename one of them; write every field name of a catalog in one style",
                    at_key=True,
                )

    def expiry(self, raw: str | None, path: Path) -> Expiry:
        if raw is None or raw == "never":
            return Expiry()
        if raw.startswith("app:"):
            return Expiry(app_version=raw[len("app:") :])
        try:
            return Expiry(date=datetime.date.fromisoformat(raw))
        except ValueError:
            self.error(BAD_EXPIRY, path, f"{raw!r} is not a real date", "write an existing date as YYYY-MM-DD")
            return Expiry()

    def event(self, name: str, raw: dict[str, Any]) -> Event | None:
        path: Path = ("events", name)
        if not EVENT_NAME.match(name):
            self.error(
                BAD_EVENT_NAME,
                path,
                f"event name {name!r} is not {MIN_NAME_SEGMENTS} to {MAX_NAME_SEGMENTS} kebab-case segments "
                "joined with `/`",
                "name events like `command/watch-started` or `settings/general/change-language`: "
                "the domain first, each segment kebab-case",
                at_key=True,
            )
            return None
        fields = self.fields(raw.get("fields", {}), path)
        category = Category(raw["category"])
        if category is Category.OPT_OUT:
            self.check_opt_out_fields(fields, path)
        return Event(
            name=name,
            description=raw["description"],
            trigger=raw["trigger"],
            category=category,
            owner=raw["owner"],
            since=self.since(raw["since"], (*path, "since")),
            version=raw.get("version", 1),
            expires=self.expiry(raw.get("expires"), (*path, "expires")),
            deprecated=raw.get("deprecated"),
            lint_ignore=tuple(sorted(raw.get("lint_ignore", ()))),
            fields=fields,
            location=self.map.key(path),
            description_location=self.map.key((*path, "description")),
            renamed_from=raw.get("renamed_from"),
        )

    def check_opt_out_fields(self, fields: tuple[Field, ...], path: Path) -> None:
        """The opt-out record says only that the user opted out: a field may only be fixed to one value."""
        for f in fields:
            if not (isinstance(f.type, EnumType) and len(set(f.type.values)) == 1 and f.required):
                self.error(
                    BAD_OPT_OUT_RECORD,
                    (*path, "fields", f.name),
                    f"field {f.name!r} of opt-out record {path[1]!r} is not fixed to one value",
                    "the opt-out record carries no data: remove the field, or make it `type: enum`, "
                    "`required: true` with exactly one value",
                    at_key=True,
                )

    def events(self, raw: dict[str, Any]) -> tuple[Event, ...]:
        events = [
            event
            for name, spec in sorted(raw.items())
            if not self.flaws.touch(("events", name)) and (event := self.event(name, spec))
        ]
        by_identifier: dict[str, Event] = {}
        for event in events:
            other = by_identifier.setdefault(event.identifier, event)
            if other is not event:
                self.error(
                    NAME_COLLISION,
                    ("events", event.name),
                    f"events {other.name!r} and {event.name!r} both become the Python function {event.identifier}()",
                    "rename one of them",
                    at_key=True,
                )
        self.check_renames(events)
        opt_out = [event for event in events if event.category is Category.OPT_OUT]
        for extra in opt_out[1:]:
            self.error(
                BAD_OPT_OUT_RECORD,
                ("events", extra.name, "category"),
                f"events {opt_out[0].name!r} and {extra.name!r} are both `category: opt-out`",
                "the runtime sends one opt-out record: keep the category on one event",
            )
        return tuple(events)

    def check_renames(self, events: list[Event]) -> None:
        names = {event.name for event in events}
        claimed: dict[str, str] = {}
        for event in events:
            old = event.renamed_from
            if old is None:
                continue
            path: Path = ("events", event.name, "renamed_from")
            if old in names:
                self.error(
                    BAD_RENAME,
                    path,
                    f"event {event.name!r} is `renamed_from` {old!r}, which is still in the catalog",
                    "remove the old event (a rename replaces it), or remove `renamed_from`",
                )
            elif old in claimed:
                self.error(
                    BAD_RENAME,
                    path,
                    f"events {claimed[old]!r} and {event.name!r} are both `renamed_from` {old!r}",
                    "an event can be renamed to one new name only; keep `renamed_from` on one of them",
                )
            claimed.setdefault(old, event.name)

    def history(self, raw: dict[str, Any], fields: dict[str, set[str]] | None) -> tuple[HistoryEntry, ...]:
        """The entries of `history`. `fields`: the dotted field names of every event, to check the
        current version's entries against; None when some event could not be read."""
        entries = []
        for version_text, items in raw.items():
            if self.flaws.over(("history", version_text)):
                continue
            version = Version.parse(version_text)
            if self.catalog_version is not None and version.key() > self.catalog_version.key():
                self.error(
                    BAD_HISTORY,
                    ("history", version_text),
                    f"history records version {version}, newer than the catalog version {self.catalog_version}",
                    "record changes under the catalog version that made them",
                    at_key=True,
                )
            for index, item in enumerate(items):
                path: Path = ("history", version_text, index)
                if self.flaws.touch(path):
                    continue
                if item.get("event") is None and not item["change"].startswith("context-"):
                    self.error(
                        BAD_HISTORY,
                        path,
                        f"a recorded {item['change']} names no event",
                        "add `event: <event name>` (only context changes go without one)",
                    )
                if fields is not None and version == self.catalog_version and item["change"] not in _REMOVALS:
                    self.current_history(item, fields, path)
                entries.append(
                    HistoryEntry(
                        version,
                        item["change"],
                        item.get("event"),
                        item.get("field"),
                        item.get("note"),
                        self.map.value(path),
                    )
                )
        return tuple(sorted(entries, key=lambda e: (e.version.key(), e.event or "", e.field or "", e.change)))

    def current_history(self, item: dict[str, Any], fields: dict[str, set[str]], path: Path) -> None:
        """A change recorded for the current version must name what the catalog has now."""
        event, field = item.get("event"), item.get("field")
        if event is not None and event not in fields:
            self.error(
                BAD_HISTORY,
                (*path, "event"),
                f"history records a {item['change']} of event {event!r}, which is not in the catalog",
                "name the event as it is called now (record removals as event-removed)",
            )
        elif event is not None and field is not None and field not in fields[event]:
            self.error(
                BAD_HISTORY,
                (*path, "field"),
                f"history records a {item['change']} of field {field!r}, which event {event!r} does not have",
                "name the field as it is called now, dotted for a nested one (record removals as field-removed)",
            )


# Recorded changes that name something the catalog no longer has.
_REMOVALS = frozenset({"event-removed", "field-removed", "context-field-removed"})


def _dotted_names(fields: tuple[Field, ...]) -> set[str]:
    names = {f.name for f in fields}
    names |= {f"{f.name}.{inner.name}" for f in fields if isinstance(f.type, ObjectType) for inner in f.type.fields}
    return names


def _is_free_text(value_type: ValueType) -> bool:
    """A string, or a list of strings, that no pattern restricts."""
    if isinstance(value_type, ArrayType):
        return _is_free_text(value_type.items)
    return isinstance(value_type, StringType) and value_type.pattern is None


def example_problem(value_type: ValueType, value: object) -> str | None:
    """Why `value` is not acceptable for `value_type`, or None when it is."""
    if isinstance(value_type, StringType):
        if not isinstance(value, str):
            return "is not a string"
        if len(value) > value_type.max_length or len(value) < (value_type.min_length or 0):
            return "has the wrong length"
        if value_type.pattern is not None and _matches(value_type.pattern, value) is False:
            return f"does not match {value_type.pattern}"
        return None
    if isinstance(value_type, EnumType):
        return None if value in value_type.values else "is not one of the values"
    if isinstance(value_type, NumericType):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "is not a number"
        if isinstance(value, float) and not math.isfinite(value):
            return "is not a finite number"
        if value_type.integer and not (isinstance(value, int) or value.is_integer()):
            return "is not a whole number"
        if value_type.minimum is not None and value < value_type.minimum:
            return "is below the minimum"
        if value_type.maximum is not None and value > value_type.maximum:
            return "is above the maximum"
        return None
    if isinstance(value_type, BooleanType):
        return None if isinstance(value, bool) else "is not true or false"
    if isinstance(value_type, ArrayType):
        if not isinstance(value, list):
            return "is not a list"
        if len(value) > value_type.max_items or len(value) < (value_type.min_items or 0):
            return "has the wrong number of items"
        return next((problem for item in value if (problem := example_problem(value_type.items, item))), None)
    if not isinstance(value, dict):
        return "is not a mapping"
    by_name = {f.name: f for f in value_type.fields}
    if unknown := sorted(set(value) - set(by_name)):
        return f"has unknown keys {unknown}"
    if missing := sorted(f.name for f in value_type.fields if f.required and f.name not in value):
        return f"lacks required keys {missing}"
    return next(
        (problem for key, item in sorted(value.items()) if (problem := example_problem(by_name[key].type, item))), None
    )


def _matches(pattern: str, value: str) -> bool | None:
    if portability_problems(pattern):
        return None  # reported as such
    try:
        return re.search(python_pattern(pattern), value) is not None
    except (re.error, OverflowError):
        return None  # reported once as a bad pattern


def build_model(
    data: dict[str, Any], source_map: SourceMap, file: str, flaws: Flaws
) -> tuple[Catalog | None, list[Diagnostic]]:
    """The model of every part of `data` that no flaw touches, with the problems a schema cannot
    express; the model is None when the app cannot be read."""
    builder = _ModelBuilder(source_map, flaws)
    app = None if flaws.touch(("app",)) else builder.app(data["app"])
    builder.catalog_version = app.version if app is not None else None
    raw_events = {} if flaws.over(("events",)) else data["events"]
    events = builder.events(raw_events)
    every_event = not flaws.over(("events",)) and len(events) == len(raw_events)
    fields = {event.name: _dotted_names(event.fields) for event in events} if every_event else None
    context = () if flaws.over(("context",)) else builder.context(data.get("context", {}))
    never_collected = () if flaws.touch(("never_collected",)) else tuple(data["never_collected"])
    history = () if flaws.over(("history",)) else builder.history(data.get("history", {}), fields)
    if app is None:
        return None, builder.diagnostics
    catalog = Catalog(
        file=file,
        app=app,
        context=context,
        never_collected=never_collected,
        events=events,
        history=history,
    )
    return catalog, builder.diagnostics
