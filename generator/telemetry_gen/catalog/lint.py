"""Lint step: quality and privacy checks on a catalog model, each with a stable code.

A lint is a `Lint` in `LINTS`: a code (`LN001`, … never renumbered), a kebab-case name, a
severity, a one-line summary for `telemetry-gen lint --list`, and a check that yields
`Finding`s. `run_lints` turns findings into diagnostics, dropping those on events that list
the code under `lint_ignore`. Format and model errors (`CF…`) are not lints and cannot be
suppressed.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from telemetry_gen_runtime import version_key

from ..diagnostics import Diagnostic, Location, Severity, sorted_diagnostics
from .model import (
    ArrayType,
    Catalog,
    ContextField,
    EnumType,
    Event,
    Field,
    NumericType,
    ObjectType,
    Privacy,
    ScalarType,
    StringType,
    Version,
    example_problem,
    per_catalog,
    python_name,
)
from .patterns import top_level_alternatives

LINT_CODE = re.compile(r"^LN[0-9]{3}$")

MIN_TEXT_LENGTH = 10
EXPIRES_SOON_DAYS = 30
EXPIRY_HORIZON_DAYS = 730
SIMILAR_ACTION_DISTANCE = 2
SIMILAR_FIELD_DISTANCE = 1
SIMILAR_FIELD_MIN_LENGTH = 4
LONG_FREE_TEXT = 200

# Words, and runs of words (between `_`), that suggest a field holds personal data, user content
# or secrets.
SENSITIVE_TERMS = frozenset(
    {
        "account", "addr", "address", "amount", "api_key", "apikey", "auth", "balance", "card", "chat_id",
        "cookie", "credential", "credentials", "cwd", "dir", "directory", "email", "file_name", "filename",
        "filepath", "first_name", "firstname", "full_name", "fullname", "home", "host", "hostname", "iban",
        "ip", "ipv4", "ipv6", "key", "last_name", "lastname", "lat", "latitude", "location", "login", "lon",
        "longitude", "mac", "mail", "mnemonic", "passphrase", "passwd", "password", "path", "phone", "pin",
        "pwd", "secret", "seed", "smtp", "ssn", "token", "txid", "uri", "url", "user", "user_name",
        "username", "wallet_address", "webhook", "xpub",
    }
)  # fmt: skip

# Domains that say nothing about what their events are about (glean's CATEGORY_GENERIC).
GENERIC_DOMAINS = frozenset(
    {"common", "data", "default", "event", "events", "general", "metrics", "misc", "other", "others", "telemetry"}
)

# Spellings of time and size units → one canonical name. Suffixes in AMBIGUOUS_UNIT_SUFFIXES are
# understood in a declared `unit:` but not recognised at the end of a field name.
UNIT_ALIASES: dict[str, str] = {
    **dict.fromkeys(("ns", "nanosecond", "nanoseconds"), "nanoseconds"),
    **dict.fromkeys(("us", "microsecond", "microseconds"), "microseconds"),
    **dict.fromkeys(("ms", "millis", "millisecond", "milliseconds"), "milliseconds"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "seconds"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("b", "byte", "bytes"), "bytes"),
    **dict.fromkeys(("kb", "kilobyte", "kilobytes"), "kilobytes"),
    **dict.fromkeys(("kib", "kibibyte", "kibibytes"), "kibibytes"),
    **dict.fromkeys(("mb", "megabyte", "megabytes"), "megabytes"),
    **dict.fromkeys(("mib", "mebibyte", "mebibytes"), "mebibytes"),
    **dict.fromkeys(("gb", "gigabyte", "gigabytes"), "gigabytes"),
    **dict.fromkeys(("gib", "gibibyte", "gibibytes"), "gibibytes"),
}
AMBIGUOUS_UNIT_SUFFIXES = frozenset({"s", "min", "h", "d", "b"})

# Values a random id field would hold: 32 hex digits (what the runtime makes) and a dashed UUID.
RANDOM_ID_SAMPLES = ("9f1c2b7e4d3a4c8b9e6f0a1b2c3d4e5f", "9f1c2b7e-4d3a-4c8b-9e6f-0a1b2c3d4e5f")


def today() -> datetime.date:
    """Today, or the day SOURCE_DATE_EPOCH names, so builds and lints are reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
    return datetime.date.today()


@dataclass(frozen=True)
class Finding:
    """One problem a lint found: on an event (suppressible there), or catalog-wide (event None).

    The lint runner's own record, kept for `lint_ignore`: what leaves this module is the
    `Diagnostic` that `Lint.diagnostic` makes of it, with the lint's code and severity."""

    event: Event | None
    location: Location
    message: str
    hint: str


@dataclass(frozen=True)
class Now:
    """Where the lints stand: today (SOURCE_DATE_EPOCH fixes it) and, if given, the app version
    being released (`--app-version`), against which `expires: app:<version>` is checked."""

    date: datetime.date
    app_version: str | None = None


Check = Callable[[Catalog, Now], Iterator[Finding]]


@dataclass(frozen=True)
class Lint:
    code: str
    name: str
    severity: Severity
    summary: str
    check: Check

    def diagnostic(self, finding: Finding) -> Diagnostic:
        return Diagnostic(self.code, self.severity, finding.location, finding.message, finding.hint)


_REGISTRY: list[Lint] = []


def _lint(code: str, name: str, severity: Severity, summary: str) -> Callable[[Check], Check]:
    """Register the decorated check as a lint."""
    if not LINT_CODE.match(code) or any(lint.code == code or lint.name == name for lint in _REGISTRY):
        raise ValueError(f"lint code {code} / name {name} is malformed or taken")  # a bug in this module

    def register(check: Check) -> Check:
        _REGISTRY.append(Lint(code, name, severity, summary, check))
        return check

    return register


# --------------------------------------------------------------------------- shared helpers


@dataclass(frozen=True)
class FieldRef:
    """A field in its place: the event, and the object field it is nested in (if any)."""

    event: Event
    field: Field
    parent: Field | None = None

    def __str__(self) -> str:
        outer = f"field {self.parent.name!r} of " if self.parent else ""
        return f"field {self.field.name!r} of {outer}event {self.event.name!r}"

    def finding(self, message: str, hint: str) -> Finding:
        return Finding(self.event, self.field.location, message, hint)

    @property
    def container_since(self) -> Version:
        """The version the enclosing event (or object field) appeared in."""
        if self.parent is not None and self.parent.since is not None:
            return self.parent.since
        return self.event.since


@dataclass(frozen=True)
class FieldGroup:
    """Fields side by side: an event's top-level fields, or the fields of one object field."""

    event: Event
    fields: tuple[Field, ...]
    location: Location
    owner: str

    def finding(self, message: str, hint: str) -> Finding:
        return Finding(self.event, self.location, message, hint)


T = TypeVar("T")


def _walked_once(walk: Callable[[Catalog], Iterator[T]]) -> Callable[[Catalog], tuple[T, ...]]:
    """`walk`, done once per catalog: each lint needs the same walk of every field."""
    return per_catalog(lambda catalog: tuple(walk(catalog)))


@_walked_once
def _field_groups(catalog: Catalog) -> Iterator[FieldGroup]:
    for event in catalog.events:
        yield FieldGroup(event, event.fields, event.location, f"event {event.name!r}")
        for field in event.fields:
            if isinstance(field.type, ObjectType):
                ref = FieldRef(event, field)
                yield FieldGroup(event, field.type.fields, field.location, str(ref))


@_walked_once
def _fields(catalog: Catalog) -> Iterator[FieldRef]:
    """Every field of every event, nested object fields right after their parent."""
    for event in catalog.events:
        for field in event.fields:
            yield FieldRef(event, field)
            if isinstance(field.type, ObjectType):
                yield from (FieldRef(event, inner, field) for inner in field.type.fields)


def _scalars(field: Field) -> Iterator[tuple[ScalarType, str]]:
    """The scalar types of a field (itself, or its array items), with how to name them."""
    if isinstance(field.type, ArrayType):
        yield field.type.items, "the items of "
    elif not isinstance(field.type, ObjectType):
        yield field.type, ""


@_walked_once
def _field_scalars(catalog: Catalog) -> Iterator[tuple[FieldRef, ScalarType, str]]:
    """Every scalar type in the catalog, with its field and how to name it."""
    for ref in _fields(catalog):
        for scalar, items_of in _scalars(ref.field):
            yield ref, scalar, items_of


def _typed(catalog: Catalog, kind: type[T]) -> Iterator[tuple[FieldRef, T, str]]:
    """Every scalar type of class `kind` in the catalog, with its field and how to name it (`{items_of}{ref}`:
    naming is left to the findings, which are few)."""
    for ref, scalar, items_of in _field_scalars(catalog):
        if isinstance(scalar, kind):
            yield ref, scalar, items_of


def _words(name: str) -> list[str]:
    """The lower-case words of a field name, in either style: `outputsCount` and `outputs_count` → outputs, count."""
    return python_name(name).split("_")


def levenshtein(a: str, b: str) -> int:
    """Edit distance between two strings (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


@functools.cache  # the same sibling field names come back event after event
def _similar_pairs(names: frozenset[str], max_distance: int, min_length: int = 0) -> tuple[tuple[str, str], ...]:
    """Pairs (earlier, later) of sorted names of different lengths, at most `max_distance` edits apart.

    Names of equal length differ only by substituted letters (get/set, import/export, min_x/max_x):
    those are deliberate contrasts, not slips, so they are not paired.
    """
    by_length: dict[int, list[str]] = defaultdict(list)
    for name in names:
        by_length[len(name)].append(name)
    pairs: list[tuple[str, str]] = []
    for later in sorted(name for name in names if len(name) >= min_length):
        # The distance is at least the difference in length: only names of nearby lengths can pair.
        lengths = range(max(len(later) - max_distance, min_length), len(later) + max_distance + 1)
        nearby = [name for length in lengths if length != len(later) for name in by_length[length] if name < later]
        pairs += [(earlier, later) for earlier in sorted(nearby) if levenshtein(earlier, later) <= max_distance]
    return tuple(pairs)


def _too_short(text: str) -> bool:
    return len(text.strip()) < MIN_TEXT_LENGTH


def _text_problem(text: str) -> str:
    return "is empty" if not text.strip() else f"is too short to be useful ({len(text.strip())} characters)"


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _anchoring_problem(pattern: str) -> str | None:
    """Why `pattern` does not match whole values only, or None when it is anchored."""
    alternatives = top_level_alternatives(pattern)
    starts = [tokens[:1] == ["^"] for tokens in alternatives]
    ends = [tokens[-1:] == ["$"] for tokens in alternatives]
    if all(starts) and all(ends):
        return None
    if len(alternatives) > 1:
        return "has a top-level `|`, and ^ and $ bind to single alternatives, not to the whole expression"
    if not starts[0] and not ends[0]:
        return "is anchored at neither end"
    return "does not start with ^" if not starts[0] else "does not end with $"


# --------------------------------------------------------------------------- the lints


@_lint("LN001", "unknown-domain", Severity.ERROR, "the event's domain is not listed in app.domains")
def _unknown_domain(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for event in catalog.events:
        if event.domain not in catalog.app.domains:
            yield Finding(
                event,
                event.location,
                f"event {event.name!r} is in domain {event.domain!r}, which is not in app.domains"
                + _suggest(event.domain, catalog.app.domains),
                f"add {event.domain!r} to app.domains, or rename the event into one of: "
                + ", ".join(catalog.app.domains),
            )


@_lint(
    "LN002",
    "missing-description",
    Severity.ERROR,
    f"an event or field description is empty or shorter than {MIN_TEXT_LENGTH} characters",
)
def _missing_description(catalog: Catalog, now: Now) -> Iterator[Finding]:
    hint = "say what the value tells the developers and why it is collected; it is published in the docs"
    for event in catalog.events:
        if _too_short(event.description):
            yield Finding(
                event,
                event.description_location,
                f"the description of event {event.name!r} {_text_problem(event.description)}",
                hint,
            )
    for ref in _fields(catalog):
        if _too_short(ref.field.description):
            yield Finding(
                ref.event,
                ref.field.description_location,
                f"the description of {ref} {_text_problem(ref.field.description)}",
                hint,
            )


@_lint(
    "LN003",
    "missing-trigger",
    Severity.ERROR,
    f"an event's trigger is empty or shorter than {MIN_TEXT_LENGTH} characters",
)
def _missing_trigger(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for event in catalog.events:
        if _too_short(event.trigger):
            yield Finding(
                event,
                event.location,
                f"the trigger of event {event.name!r} {_text_problem(event.trigger)}",
                "say exactly when the event is sent (which action, how often), e.g. "
                "'Once per process, after the configuration is loaded.'",
            )


def _app_expiry(event: Event, now: Now) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(the expiry version, the released app version) as comparable keys, when both are known."""
    if event.expires.app_version is None or now.app_version is None:
        return None
    return version_key(event.expires.app_version), version_key(now.app_version)


def _major(key: tuple[int, ...]) -> int:
    return key[0] if key else 0


def expiry_reached(event: Event, now: Now) -> str | None:
    """How the event expired (its date passed, or the app version reached its `app:<version>`), or None."""
    if event.expires.date is not None and event.expires.date < now.date:
        return f"expired on {event.expires.date.isoformat()}"
    if (keys := _app_expiry(event, now)) and keys[1] >= keys[0]:
        return f"expired with app version {event.expires.app_version} (this is {now.app_version})"
    return None


@_lint("LN004", "expired", Severity.ERROR, "the event's expiry date, or app version (--app-version), is reached")
def _expired(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for event in catalog.events:
        if (reached := expiry_reached(event, now)) is None:
            continue
        yield Finding(
            event,
            event.location,
            f"event {event.name!r} {reached}; its emitter already sends nothing",
            "remove the event and its emitter calls, or move `expires` later if it is still needed",
        )


@_lint(
    "LN005",
    "expires-soon",
    Severity.WARNING,
    f"the event expires within {EXPIRES_SOON_DAYS} days, or with the next major app version",
)
def _expires_soon(catalog: Catalog, now: Now) -> Iterator[Finding]:
    today = now.date
    horizon = today + datetime.timedelta(days=EXPIRES_SOON_DAYS)
    for event in catalog.events:
        date = event.expires.date
        if date is not None and today <= date <= horizon:
            when = "today" if date == today else f"in {(date - today).days} day(s)"
            message = f"event {event.name!r} expires on {date.isoformat()}, {when}"
        elif (keys := _app_expiry(event, now)) and keys[1] < keys[0] and _major(keys[0]) <= _major(keys[1]) + 1:
            version = event.expires.app_version
            message = f"event {event.name!r} expires with app version {version}, the next major release or sooner"
        else:
            continue
        yield Finding(event, event.location, message, "decide now: remove the event, or move `expires` later")


@_lint(
    "LN006",
    "expiry-too-far",
    Severity.WARNING,
    f"the event's expiry date is more than {EXPIRY_HORIZON_DAYS} days away",
)
def _expiry_too_far(catalog: Catalog, now: Now) -> Iterator[Finding]:
    limit = now.date + datetime.timedelta(days=EXPIRY_HORIZON_DAYS)
    for event in catalog.events:
        date = event.expires.date
        if date is not None and date > limit:
            yield Finding(
                event,
                event.location,
                f"event {event.name!r} expires on {date.isoformat()}, more than {EXPIRY_HORIZON_DAYS} days from now",
                f"choose a date before {limit.isoformat()} and review the event then, or use `expires: never` "
                "if it is meant to stay",
            )


@_lint(
    "LN007",
    "names-too-similar",
    Severity.WARNING,
    "two events of a domain, or two sibling fields, differ by a letter or two added or dropped",
)
def _names_too_similar(catalog: Catalog, now: Now) -> Iterator[Finding]:
    events = {event.name: event for event in catalog.events}
    actions_of: dict[str, set[str]] = defaultdict(set)
    for event in catalog.events:
        actions_of[event.domain].add(event.action)
    for domain, actions in sorted(actions_of.items()):
        for earlier, later in _similar_pairs(frozenset(actions), SIMILAR_ACTION_DISTANCE):
            event = events[f"{domain}/{later}"]
            yield Finding(
                event,
                event.location,
                f"event {event.name!r} has a name very close to event '{domain}/{earlier}'",
                "if they are the same thing, keep one; otherwise rename one so they cannot be confused",
            )
    for group in _field_groups(catalog):
        fields = {field.name: field for field in group.fields}
        for earlier, later in _similar_pairs(frozenset(fields), SIMILAR_FIELD_DISTANCE, SIMILAR_FIELD_MIN_LENGTH):
            yield Finding(
                group.event,
                fields[later].location,
                f"field {later!r} of {group.owner} has a name very close to field {earlier!r}",
                "rename one of them so they cannot be confused",
            )


def _word_runs(name: str) -> set[str]:
    """Every run of whole words in a name, joined again: `a_b_c` → a, b, c, a_b, b_c, a_b_c."""
    words = _words(name)
    return {"_".join(words[start:end]) for start in range(len(words)) for end in range(start + 1, len(words) + 1)}


@functools.cache  # field names repeat across events
def _sensitive_terms(name: str) -> list[str]:
    """The sensitive terms found as whole words, or runs of whole words, in a field name."""
    found = _word_runs(name) & SENSITIVE_TERMS
    # report `wallet_address`, not also the `address` inside it
    return sorted(term for term in found if not any(f"_{term}_" in f"_{other}_" for other in found if other != term))


@_lint(
    "LN008",
    "sensitive-looking-name",
    Severity.ERROR,
    "a field name suggests personal data, user content or secrets, and there is no justification",
)
def _sensitive_looking_name(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for ref in _fields(catalog):
        words = _sensitive_terms(ref.field.name)
        if words and not (ref.field.justification or "").strip():
            yield ref.finding(
                f"the name of {ref} suggests sensitive data ({', '.join(repr(w) for w in words)})",
                "rename it to say what it really holds, or add a `justification:` explaining why it cannot "
                "carry personal data, or list it under `lint_ignore`",
            )


def _duplicates(values: Iterable[str], key: Callable[[str], str]) -> list[list[int]]:
    """The positions of the values that are equal under `key`, grouped, for every key seen more than once."""
    values = list(values)
    keys = list(map(key, values))
    if len(set(keys)) == len(keys):  # the usual case, found without building groups
        return []
    groups: dict[str, list[int]] = {}
    for index, found in enumerate(keys):
        groups.setdefault(found, []).append(index)
    return [group for group in groups.values() if len(group) > 1]


@_lint("LN009", "duplicate-enum-value", Severity.ERROR, "an enum lists the same value twice")
def _duplicate_enum_value(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for ref, enum, items_of in _typed(catalog, EnumType):
        for group in _duplicates(enum.values, str):
            repeated = group[1]  # the first repeat: the one to remove
            yield Finding(
                ref.event,
                enum.value_locations[repeated],
                f"{items_of}{ref}: the value {enum.values[repeated]!r} is listed {len(group)} times",
                "keep one of them",
            )


@_lint(
    "LN010",
    "unbounded-number",
    Severity.WARNING,
    "an integer or number has no minimum or no maximum",
)
def _unbounded_number(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for ref, number, items_of in _typed(catalog, NumericType):
        missing = [
            bound for bound, value in (("minimum", number.minimum), ("maximum", number.maximum)) if value is None
        ]
        if missing:
            yield ref.finding(
                f"{items_of}{ref}: no {' and no '.join(missing)}",
                "declare the realistic range with `minimum:` and `maximum:`, so outliers and "
                "misuse (e.g. a raw amount or timestamp) are rejected",
            )


@_lint(
    "LN011",
    "unanchored-pattern",
    Severity.WARNING,
    "a string pattern is not anchored with ^…$, so it admits anything around a match",
)
def _unanchored_pattern(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for ref, string, items_of in _typed(catalog, StringType):
        problem = _anchoring_problem(string.pattern) if string.pattern is not None else None
        if problem:
            yield ref.finding(
                f"the pattern {string.pattern!r} of {items_of}{ref} {problem}",
                "a pattern matches anywhere in the value: write ^(…)$ around the whole expression",
            )


@_lint(
    "LN012",
    "long-free-text",
    Severity.WARNING,
    f"a string without a pattern allows more than {LONG_FREE_TEXT} characters",
)
def _long_free_text(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for ref, string, items_of in _typed(catalog, StringType):
        if string.pattern is None and string.max_length > LONG_FREE_TEXT:
            yield ref.finding(
                f"{items_of}{ref}: free text of up to {string.max_length} characters",
                f"lower max_length to what is needed (at most {LONG_FREE_TEXT}), or add a pattern: long free "
                "text is where personal data slips in",
            )


def _unit_problem(name: str, unit: str | None) -> tuple[str, str] | None:
    """(message, hint) when a numeric field's name ends with a unit that is not its declared one."""
    suffix = _words(name)[-1]
    if suffix in AMBIGUOUS_UNIT_SUFFIXES or suffix not in UNIT_ALIASES:
        return None
    if unit is None:
        return f"ends with the unit {suffix!r} but declares no `unit:`", f"add `unit: {suffix}`"
    if UNIT_ALIASES.get(unit.strip().lower()) != UNIT_ALIASES[suffix]:
        return (
            f"ends with the unit {suffix!r} but declares `unit: {unit}`",
            "check which unit the value is really in, and make the name and `unit:` agree",
        )
    return None


@_lint(
    "LN013",
    "unit-in-name",
    Severity.WARNING,
    "a numeric field's name ends with a time or size unit that its `unit:` does not declare",
)
def _unit_in_name(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for ref, number, _ in _typed(catalog, NumericType):
        problem = _unit_problem(ref.field.name, number.unit)
        if problem:
            yield ref.finding(f"the name of {ref} {problem[0]}", problem[1])


@_lint(
    "LN014",
    "common-prefix",
    Severity.WARNING,
    "all fields of an event (or of an object field) start with the same word",
)
def _common_prefix(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for group in _field_groups(catalog):
        words = [_words(field.name) for field in group.fields]
        firsts = {split[0] for split in words}
        if len(words) >= 2 and len(firsts) == 1 and all(len(split) >= 2 for split in words):
            prefix = firsts.pop()
            yield group.finding(
                f"all fields of {group.owner} start with the word {prefix!r}",
                f"drop the word {prefix!r}: the event (or object) name already gives the context",
            )


@_lint(
    "LN015",
    "deprecated-without-expiry",
    Severity.WARNING,
    "a deprecated event has no expiry",
)
def _deprecated_without_expiry(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for event in catalog.events:
        if event.deprecated is not None and event.expires.never:
            yield Finding(
                event,
                event.location,
                f"event {event.name!r} is deprecated but never expires",
                "set `expires:` to the date or `app:<version>` from which it is no longer sent",
            )


def _is_patterned_string(field: Field) -> bool:
    scalars = list(_scalars(field))
    return bool(scalars) and all(isinstance(s, StringType) and s.pattern is not None for s, _ in scalars)


@_lint(
    "LN016",
    "pseudonymous-not-random",
    Severity.WARNING,
    "a pseudonymous field is not a pattern-checked string (random ids are hex or UUID strings)",
)
def _pseudonymous_not_random(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for ref in _fields(catalog):
        if ref.field.privacy is Privacy.PSEUDONYMOUS and not _is_patterned_string(ref.field):
            yield ref.finding(
                f"{ref} is classed `pseudonymous` but is not a string with a pattern",
                "pseudonymous fields hold random ids: make it a string with e.g. `pattern: ^[0-9a-f]{32}$`, "
                "or choose the privacy class that fits what it holds",
            )


def _looks_like_random_id(field: Field) -> bool:
    return any(
        isinstance(s, StringType) and s.pattern is not None and example_problem(s, sample) is None
        for s, _ in _scalars(field)
        for sample in RANDOM_ID_SAMPLES
    )


@_lint(
    "LN017",
    "id-not-pseudonymous",
    Severity.WARNING,
    "an `*_id` field that admits random hex or UUID ids is not classed pseudonymous",
)
def _id_not_pseudonymous(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for ref in _fields(catalog):
        field = ref.field
        linkable = field.privacy in (Privacy.TECHNICAL, Privacy.INTERACTION)
        if linkable and _words(field.name)[-1] == "id" and _looks_like_random_id(field):
            yield ref.finding(
                f"{ref} looks like a random id (its pattern admits hex/UUID ids) but is classed "
                f"`{field.privacy.value}`",
                "class it `pseudonymous`: ids link events together, and the docs must say so",
            )


@_lint("LN018", "unknown-lint-code", Severity.WARNING, "lint_ignore names a code that is not a lint")
def _unknown_lint_code(catalog: Catalog, now: Now) -> Iterator[Finding]:
    known = [lint.code for lint in LINTS]
    for event in catalog.events:
        for code in event.lint_ignore:
            if code in known:
                continue
            if code.startswith("CF"):
                hint = f"remove {code}: format errors (CF…) cannot be suppressed, only lints (LN…)"
            else:
                hint = f"remove it; `telemetry-gen lint --list` shows the lint codes{_suggest(code, known)}"
            yield Finding(event, event.location, f"event {event.name!r} ignores {code!r}, which is not a lint", hint)


@_lint(
    "LN019",
    "field-since-before-event",
    Severity.ERROR,
    "a field's `since` is older than its event's (or object field's) `since`",
)
def _field_since_before_event(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for ref in _fields(catalog):
        since, container = ref.field.since, ref.container_since
        if since is not None and since.key() < container.key():
            owner = f"field {ref.parent.name!r}" if ref.parent and ref.parent.since else f"event {ref.event.name!r}"
            yield ref.finding(
                f"{ref} is `since` {since}, before {owner} itself ({container})",
                f'a field cannot be older than what holds it: set `since: "{container}"` or remove `since`',
            )


@_lint(
    "LN020",
    "generic-domain",
    Severity.WARNING,
    "the event's domain is a catch-all name such as misc, general or other",
)
def _generic_domain(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for event in catalog.events:
        if event.domain in GENERIC_DOMAINS:
            yield Finding(
                event,
                event.location,
                f"event {event.name!r} is in the generic domain {event.domain!r}",
                "use a domain that names the part of the app the event is about",
            )


@_lint(
    "LN021",
    "enum-values-differ-by-case",
    Severity.WARNING,
    "an enum has values that differ only in letter case",
)
def _enum_values_differ_by_case(catalog: Catalog, now: Now) -> Iterator[Finding]:
    for ref, enum, items_of in _typed(catalog, EnumType):
        distinct = list(dict.fromkeys(enum.values))
        for group in _duplicates(distinct, str.casefold):
            yield ref.finding(
                f"{items_of}{ref}: values that differ only in case: {', '.join(repr(distinct[i]) for i in group)}",
                "keep one spelling; analyses that group values would count them apart",
            )


@_lint(
    "LN022",
    "unused-lint-ignore",
    Severity.WARNING,
    "lint_ignore names a lint that does not fire on the event",
)
def _unused_lint_ignore(catalog: Catalog, now: Now) -> Iterator[Finding]:
    this = "LN022"
    ignored = {code for event in catalog.events for code in event.lint_ignore}
    # Only the lints some event ignores need running again: usually none, and never this one.
    fired = {
        (finding.event.name, lint.code)
        for lint in LINTS
        if lint.code != this and lint.code in ignored
        for finding in lint.check(catalog, now)
        if finding.event is not None
    }
    known = {lint.code for lint in LINTS}
    for event in catalog.events:
        for code in event.lint_ignore:
            if code in known and code != this and (event.name, code) not in fired:
                yield Finding(
                    event,
                    event.location,
                    f"event {event.name!r} ignores {code}, which reports nothing on it",
                    f"remove {code} from lint_ignore, so the lint can catch the next real problem",
                )


def _name_style(name: str) -> str | None:
    """`lowerCamelCase`, `snake_case`, or None for a one-word name, which is both."""
    if name != name.lower():
        return "lowerCamelCase"
    return "snake_case" if "_" in name else None


def _field_of(item: ContextField | FieldRef) -> ContextField | Field:
    return item.field if isinstance(item, FieldRef) else item


def _where(item: ContextField | FieldRef) -> str:
    return str(item) if isinstance(item, FieldRef) else f"context field {item.name!r}"


@_lint(
    "LN023",
    "mixed-name-styles",
    Severity.WARNING,
    "the catalog names some fields in lowerCamelCase and others in snake_case",
)
def _mixed_name_styles(catalog: Catalog, now: Now) -> Iterator[Finding]:
    # Context fields first: they are in every event. Each finding is a field in the style fewer
    # fields use (on a tie, the style other than the first field's).
    named: list[ContextField | FieldRef] = [*catalog.context, *_fields(catalog)]
    styled = [(item, style) for item in named if (style := _name_style(_field_of(item).name))]
    counts = Counter(style for _, style in styled)
    if len(counts) < 2:
        return
    common = max(counts, key=lambda style: (counts[style], style == styled[0][1]))
    example = _where(next(item for item, style in styled if style == common))
    for item, style in styled:
        if style != common:
            yield Finding(
                item.event if isinstance(item, FieldRef) else None,
                _field_of(item).location,
                f"{_where(item)} is {style}, but {counts[common]} fields of this catalog are {common} (e.g. {example})",
                f"write every field name in the style the backend expects ({common} here): the name is the "
                "key on the wire, so renaming a released field is a breaking change",
            )


LINTS: tuple[Lint, ...] = tuple(sorted(_REGISTRY, key=lambda lint: lint.code))


def run_lints(catalog: Catalog, today: datetime.date, app_version: str | None = None) -> list[Diagnostic]:
    """Run every lint; findings on events that ignore the lint's code are dropped."""
    now = Now(today, app_version)
    diagnostics = [
        lint.diagnostic(finding)
        for lint in LINTS
        for finding in lint.check(catalog, now)
        if finding.event is None or lint.code not in finding.event.lint_ignore
    ]
    return sorted_diagnostics(diagnostics)
