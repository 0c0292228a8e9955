"""Output target: publishable documentation of every event.

Markdown for a static site generator (`docs/index.md`, one page per domain, `privacy.md`,
`changelog.md`) and one self-contained HTML page (`docs/one-page.html`: no external assets, search
as you type, filters by consent category and privacy class). No HTML page shares a Markdown page's
name, so a site generator (mkdocs) publishes it as it is beside the pages it builds. Catalog text is escaped here, in
Python, for the format it lands in; the Markdown templates receive only escaped strings, and the
HTML template is rendered with autoescaping on.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, replace

from ..catalog.model import (
    ArrayType,
    BooleanType,
    Catalog,
    Category,
    EnumType,
    Event,
    Field,
    HistoryEntry,
    NumericType,
    ObjectType,
    Privacy,
    StringType,
    ValueType,
    Version,
)
from ..evolution.diff import KINDS
from .common import GeneratedFile, banner, render_template

PRIVACY_TEXT = {
    Privacy.TECHNICAL: "versions, operating system, hardware, errors and timings",
    Privacy.INTERACTION: "what you did in the app (which command or setting), never what you typed",
    Privacy.PSEUDONYMOUS: "random ids that link events; never derived from your machine or from you",
}
CATEGORY_TEXT = {
    "usage": "sent only if you allow all telemetry",
    "errors": "sent if you allow error reports (or all telemetry)",
    "opt-out": "sent once, by the app itself, when you opt out while telemetry is on",
    "feedback": "sent only when you choose to send it, shown to you first; without the instance and session ids "
    "unless you allow all telemetry",
}
# `{{`, `{%` and `{#` open the tags of the template engines some site generators run over Markdown
# pages before rendering them (Jinja in mkdocs-macros, Liquid in Jekyll). Their `{` is written as an
# entity, which reads the same on the page and opens nothing; so is a final `{`, which the text after
# it could complete.
_TEMPLATE_OPENER = re.compile(r"\{(?=[{%#]|$)")
# Characters with inline meaning anywhere; `<`, `>` and `&` become entities instead.
RANGE_DASH = "\N{EN DASH}"
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]|~])")
# Text that would start a heading, list, quote, rule or table row at the beginning of a line.
_MARKDOWN_BLOCK_START = re.compile(r"^([#+=-])")
_MARKDOWN_ORDERED_LIST = re.compile(r"^([0-9]+)([.)])")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BACKTICKS = re.compile(r"`+")


def _flat(text: str) -> str:
    """One line; control characters shown as their code (U+0000) instead of passed on raw."""
    return _CONTROL.sub(lambda m: f"U+{ord(m.group()):04X}", " ".join(text.split()))


# Field names and descriptions repeat from event to event, and escaping them is most of the docs' time.
@functools.cache
def md(text: str) -> str:
    """Catalog text as inert Markdown inline text: no markup, no HTML, one line."""
    flat = _flat(text)
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _MARKDOWN_INLINE.sub(r"\\\1", flat)
    return template_safe(_MARKDOWN_ORDERED_LIST.sub(r"\1\\\2", _MARKDOWN_BLOCK_START.sub(r"\\\1", flat)))


def template_safe(text: str) -> str:
    """Text in which no template engine finds a tag, reading the same in Markdown or HTML."""
    return _TEMPLATE_OPENER.sub("&#123;", text)


def comment_safe(text: str) -> str:
    """Text that cannot end an HTML comment early: no `--` survives."""
    return re.sub(r"-(?=-)", "- ", text)


def url_safe(url: str) -> str:
    """A URL with the characters that could break out of `<...>` or an attribute percent-encoded."""
    return urllib.parse.quote(url, safe=":/?#[]@!$&'()*+,;=%~")


@functools.cache
def md_code(text: str) -> str:
    """Text as a Markdown code span, whatever backticks it holds.

    Only for names the catalog format limits to letters, digits and `_-./`: no entity works
    inside a code span, so a `{{` there would reach a template engine (see `template_safe`).
    """
    flat = _flat(text)
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def describe_type(value_type: ValueType) -> str:
    """The type and its limits in words, e.g. `integer 0-86400 seconds` (with an en dash)."""
    if isinstance(value_type, StringType):
        text = f"text, at most {value_type.max_length} characters"
        return text + (f", matching {value_type.pattern}" if value_type.pattern else "")
    if isinstance(value_type, EnumType):
        return "one of: " + ", ".join(dict.fromkeys(value_type.values))
    if isinstance(value_type, NumericType):
        text = "integer" if value_type.integer else "number"
        low, high = value_type.minimum, value_type.maximum
        if low is not None and high is not None:
            text += f" {low}{RANGE_DASH}{high}"
        elif low is not None:
            text += f", at least {low}"
        elif high is not None:
            text += f", at most {high}"
        return text + (f" {value_type.unit}" if value_type.unit else "")
    if isinstance(value_type, BooleanType):
        return "true or false"
    if isinstance(value_type, ArrayType):
        return f"list of at most {value_type.max_items}: {describe_type(value_type.items)}"
    assert isinstance(value_type, ObjectType)
    return "object with " + ", ".join(f.name for f in value_type.fields)


@dataclass(frozen=True)
class FieldDoc:
    """One documented field; `name` is dotted for nested fields (`raised_at.function`)."""

    name: str
    type: str
    privacy: str
    required: bool
    description: str
    since: str
    badge: str = ""  # "added" or "changed" in the current catalog version


@dataclass(frozen=True)
class EventDoc:
    event: Event
    anchor: str
    page: str
    badges: tuple[tuple[str, str], ...]  # (kind, text), e.g. ("since", "since 3.1")
    fields: tuple[FieldDoc, ...]
    privacy_classes: tuple[str, ...]
    search_text: str
    removed_fields: tuple[str, ...] = ()  # removed in the current catalog version
    expiry: str = ""  # what expiry does to the emitter, or "" when the event never expires


def field_docs(fields: tuple[Field, ...], prefix: str = "") -> list[FieldDoc]:
    docs = []
    for f in fields:
        docs.append(
            FieldDoc(
                prefix + f.name,
                describe_type(f.type),
                f.privacy.value,
                f.required,
                f.description,
                str(f.since) if f.since else "",
            )
        )
        if isinstance(f.type, ObjectType):
            docs += field_docs(f.type.fields, f"{prefix}{f.name}.")
    return docs


def recorded_changes(catalog: Catalog) -> dict[str, list[HistoryEntry]]:
    """The recorded changes of the current catalog version, by event."""
    by_event: dict[str, list[HistoryEntry]] = defaultdict(list)
    for h in catalog.history:
        if h.version == catalog.app.version and h.event:
            by_event[h.event].append(h)
    return by_event


def _field_badge(catalog: Catalog, event: Event, doc: FieldDoc, recorded: list[HistoryEntry]) -> str:
    current = str(catalog.app.version)
    if doc.since == current and event.since != catalog.app.version:
        return "added"
    badges = {KINDS[h.change].badge for h in recorded if h.field == doc.name}
    return "added" if "added" in badges else "changed" if badges else ""


def event_doc(event: Event, catalog: Catalog, recorded: list[HistoryEntry]) -> EventDoc:
    """`recorded`: the current version's recorded changes to `event` (see `recorded_changes`)."""
    version = catalog.app.version
    badges = [
        ("since", f"since {event.since}"),
        ("version", f"v{event.version}"),
        (event.category.value, event.category.value),
    ]
    if event.since == version:
        badges.append(("added", f"added in {version}"))
    elif any(KINDS[h.change].badge in ("changed", "removed") for h in recorded) or any(
        f.since == version for f in event.fields
    ):
        badges.append(("changed", f"changed in {version}"))
    if event.deprecated:
        badges.append(("deprecated", "deprecated"))
    if not event.expires.never:
        badges.append(("expires", f"expires {event.expires}"))
    # Most fields have no badge, and `replace` is slow: copy only those that get one.
    fields = tuple(
        replace(f, badge=badge) if (badge := _field_badge(catalog, event, f, recorded)) else f
        for f in field_docs(event.fields)
    )
    removed = tuple(sorted({h.field for h in recorded if h.field and KINDS[h.change].badge == "removed"}))
    words = [event.name, event.description, event.trigger, *(f"{f.name} {f.description}" for f in fields)]
    return EventDoc(
        event=event,
        # The emitter name with hyphens: unique as it is (CF021), and as Markdown anchors are usually written.
        anchor=event.identifier.replace("_", "-"),
        page=f"events/{event.domain}.md",
        badges=tuple(badges),
        fields=fields,
        privacy_classes=tuple(sorted({f.privacy for f in fields})),
        search_text=" ".join(" ".join(words).lower().split()),
        removed_fields=removed,
        expiry=event.expires.effect(),
    )


# The order of the changelog's badges within a version.
BADGE_ORDER = {"removed": 0, "changed": 1, "added": 2, "deprecated": 3}


def changelog(catalog: Catalog, docs: list[EventDoc]) -> History:
    """What each catalog version changed, newest first, as (badge, text) items: events and fields
    added (their `since`), deprecations, and the changes recorded under `history`."""
    entries: dict[tuple[int, int], dict[tuple[str, str, str], str]] = defaultdict(dict)
    for entry in catalog.history:
        subject = f"event {entry.event}" if entry.event else "context"
        subject += f" field {entry.field}" if entry.field else ""
        key = (KINDS[entry.change].badge, entry.event or "", entry.field or "")
        entries[entry.version.key()].setdefault(key, f"{subject}: {entry.note or entry.change}")
    deprecations = {h.event for h in catalog.history if h.change == "event-deprecated"}
    for doc in docs:
        event = doc.event
        entries[event.since.key()].setdefault(("added", event.name, ""), f"event {event.name}")
        for f in doc.fields:
            if f.since and Version.parse(f.since).key() > event.since.key():
                key = ("added", event.name, f.name)
                entries[Version.parse(f.since).key()].setdefault(key, f"event {event.name} field {f.name}")
        if event.deprecated and event.name not in deprecations:
            key = ("deprecated", event.name, "")
            entries[catalog.app.version.key()][key] = f"event {event.name}: {event.deprecated}"
    return [
        (
            f"{major}.{minor}",
            [(badge, text) for (badge, *_), text in sorted(items.items(), key=lambda i: (BADGE_ORDER[i[0][0]], i[1]))],
        )
        for (major, minor), items in sorted(entries.items(), reverse=True)
    ]


# The actions of the runtime's ready telemetry command (`telemetry_gen_runtime.commands`).
COMMAND_ACTIONS = ("enable", "enable --errors-only", "disable", "status")


def opt_out(catalog: Catalog) -> dict[str, object]:
    """What the opt-out section names: the switches the runtime always honours, and what the app
    declares it offers (`app.opt_out`). The catalog format keeps every value free of backticks and
    `{`, so the Markdown template sets them in code spans as they are."""
    app = catalog.app
    offered = app.opt_out
    command = offered.command or ""
    return {
        "do_not_track": "DO_NOT_TRACK=1",
        "app_variable": f"{app.env_prefix}_TELEMETRY",
        "debug_variable": f"{app.env_prefix}_TELEMETRY_DEBUG",
        "user_id_dir": app.name,
        "commands": [f"{command} {action}" for action in COMMAND_ACTIONS] if command else [],
        "disable_command": f"{command} disable" if command else "",
        "config_file": offered.config_file or "",
        # Only `disable()` (the command's `disable`) deletes the id; these switches leave it on disk.
        "switches_that_delete_nothing": "a variable or the configuration file" if offered.config_file else "a variable",
        "asks_consent": offered.asks_consent,
        "asks_error_report": offered.asks_error_report,
    }


@dataclass(frozen=True)
class OptOutRecord:
    """What the docs say about the catalog's opt-out record: its name and fixed data, raw for
    HTML (escaped by the template) and escaped for Markdown."""

    name: str
    data: tuple[tuple[str, str], ...]
    markdown_data: str


def opt_out_record(catalog: Catalog) -> OptOutRecord | None:
    event = next((e for e in catalog.events if e.category is Category.OPT_OUT), None)
    if event is None:
        return None
    data = tuple(event.fixed_data().items())
    markdown = ", ".join(f"{md_code(name)} = {md_code(value)}" for name, value in data)
    return OptOutRecord(event.name, data, markdown)


History = list[tuple[str, list[tuple[str, str]]]]


@dataclass(frozen=True)
class EventSection:
    """One event's section of its domain page, as escaped Markdown."""

    heading: str
    anchor: str
    badges: str
    description: str
    trigger: str
    category: str
    owner: str
    deprecated: str
    expires: str
    rows: list[str]
    removed_fields: str


@dataclass(frozen=True)
class EventGroup:
    """Events named `<domain>/<sub-domain>/...`, or directly in the domain (`sub_domain` "")."""

    title: str  # `settings/general`, or the domain
    # `settings--general`, and `settings--` for the domain's own events: no event's anchor holds
    # `--`, so none can collide.
    anchor: str
    sub_domain: str
    docs: list[EventDoc]


@dataclass(frozen=True)
class DomainDocs:
    """The events of one domain, grouped by sub-domain, the domain's own events first."""

    name: str
    anchor: str
    page: str
    groups: list[EventGroup]

    @property
    def docs(self) -> list[EventDoc]:
        return [doc for group in self.groups for doc in group.docs]


def by_domain(docs: list[EventDoc]) -> list[DomainDocs]:
    groups: dict[str, dict[str, list[EventDoc]]] = defaultdict(lambda: defaultdict(list))
    for doc in docs:
        parts = doc.event.name.split("/")
        groups[doc.event.domain][parts[1] if len(parts) > 2 else ""].append(doc)
    return [
        DomainDocs(
            domain,
            f"{domain}--",
            f"events/{domain}.md",
            [
                EventGroup(f"{domain}/{sub}" if sub else domain, f"{domain}--{sub}", sub, subs[sub])
                for sub in sorted(subs)
            ],
        )
        for domain, subs in sorted(groups.items())
    ]


def _markdown_values(
    catalog: Catalog, docs: list[EventDoc], domains: list[DomainDocs], history: History
) -> dict[str, object]:
    def row(*cells: str) -> str:
        return "| " + " | ".join(cells) + " |"

    context_rows = [
        row(md_code(c.name), md(c.description), c.privacy.value, md(describe_type(c.type))) for c in catalog.context
    ]
    privacy_rows: dict[str, list[str]] = {p.value: [] for p in PRIVACY_TEXT}
    for d in docs:
        for f in d.fields:
            if f.privacy in privacy_rows:
                privacy_rows[f.privacy].append(row(md_code(d.event.name), md_code(f.name), md(f.description)))
    sections = {
        d.event.name: EventSection(
            heading=md_code(d.event.name),
            anchor=d.anchor,
            badges=" · ".join(text for _, text in d.badges),
            description=md(d.event.description),
            trigger=md(d.event.trigger),
            category=CATEGORY_TEXT[d.event.category.value],
            owner=md(d.event.owner),
            deprecated=md(d.event.deprecated) if d.event.deprecated else "",
            expires=md(d.expiry),
            rows=[
                row(
                    md_code(f.name) + (f" *{f.badge}*" if f.badge else ""),
                    md(f.type),
                    f.privacy,
                    "yes" if f.required else "no",
                    md(f.description),
                )
                for f in d.fields
            ],
            removed_fields=", ".join(md_code(name) for name in d.removed_fields),
        )
        for d in docs
    }
    return {
        "title": md(catalog.app.title),
        "version": str(catalog.app.version),
        "never_collected": [md(item) for item in catalog.never_collected],
        "domains": domains,
        "event_rows": {
            d.event.name: row(
                f"[{md_code(d.event.name)}]({d.page}#{d.anchor})",
                d.event.category.value,
                md(d.event.trigger),
                str(d.event.since),
            )
            for d in docs
        },
        "sections": sections,
        "context_rows": context_rows,
        "privacy_rows": privacy_rows,
        "privacy_text": {p.value: text for p, text in PRIVACY_TEXT.items()},
        "changelog": [(version, [f"**{badge}** {md(text)}" for badge, text in items]) for version, items in history],
        "opt_out": opt_out(catalog),
        "opt_out_record": opt_out_record(catalog),
        "has_feedback": any(event.category is Category.FEEDBACK for event in catalog.events),
        "policy_url": url_safe(catalog.app.privacy_policy_url or ""),
    }


def _html_values(
    catalog: Catalog, docs: list[EventDoc], domains: list[DomainDocs], history: History
) -> dict[str, object]:
    return {
        "title": catalog.app.title,
        "version": str(catalog.app.version),
        "docs": docs,
        "domains": domains,
        "never_collected": catalog.never_collected,
        "context": [(c.name, c.description, c.privacy.value) for c in catalog.context],
        "privacy_classes": [(p.value, text) for p, text in PRIVACY_TEXT.items()],
        "categories": list(CATEGORY_TEXT.items()),
        "opt_out": opt_out(catalog),
        "opt_out_record": opt_out_record(catalog),
        "policy_url": catalog.app.privacy_policy_url or "",
        "changelog": history,
    }


def render(catalog: Catalog) -> list[GeneratedFile]:
    recorded = recorded_changes(catalog)
    docs = [event_doc(event, catalog, recorded.get(event.name, [])) for event in catalog.events]
    history = changelog(catalog, docs)
    header = comment_safe(banner(catalog))  # it stands inside an HTML comment
    domains = by_domain(docs)
    # A template engine reads tags inside HTML comments too.
    markdown = {"header": template_safe(header), **_markdown_values(catalog, docs, domains, history)}
    files = [
        GeneratedFile("docs/index.md", render_template("docs/index.md.jinja", **markdown)),
        GeneratedFile("docs/privacy.md", render_template("docs/privacy.md.jinja", **markdown)),
        GeneratedFile("docs/changelog.md", render_template("docs/changelog.md.jinja", **markdown)),
        GeneratedFile(
            "docs/one-page.html",
            render_template("docs/one-page.html.jinja", header=header, **_html_values(catalog, docs, domains, history)),
        ),
    ]
    files += [
        GeneratedFile(f"docs/{domain.page}", render_template("docs/domain.md.jinja", **markdown, domain=domain))
        for domain in domains
    ]
    return files
