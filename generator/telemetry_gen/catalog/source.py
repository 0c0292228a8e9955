"""Load step: YAML text → plain data plus the position of every key and value.

PyYAML's parser gives the document as events that carry their marks: libyaml's parser where
PyYAML is built with it, PyYAML's pure-Python one otherwise. We build the data from the events
ourselves so that duplicate keys are reported (PyYAML silently keeps the last one), tags are
refused (no YAML value becomes a Python object) and YAML's implicit dates stay the strings the user
wrote. Building from events, not from the composer's nodes, keeps no object per value besides the
data itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import yaml

from ..diagnostics import Diagnostic, Location, Severity

Path = tuple[str | int, ...]
Position = tuple[int, int]  # 0-based line and column, as the parser counts them

# The codes of this stage; documented in docs/catalog-format.md.
YAML_SYNTAX = "CF001"
DUPLICATE_KEY = "CF002"
NON_STRING_KEY = "CF003"
UNSUPPORTED_YAML = "CF004"

# libyaml's parser where PyYAML has it: it reads a large catalog many times faster.
PARSER: type[yaml.CSafeLoader] | type[yaml.SafeLoader] = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


@dataclass(eq=False)
class SourceMap:
    """Where each value (and each mapping key) of the loaded document stands.

    It keeps plain positions, not the parser's marks, which would keep a hundred thousand
    objects for the garbage collector to walk through every later stage of a large catalog, and
    makes a Location only of those asked for.
    """

    file: str
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def value(self, path: Path) -> Location:
        """The closest known position of `path`: itself, else its nearest ancestor."""
        for end in range(len(path), -1, -1):
            position = self.values.get(path[:end])
            if position is not None:
                return self._location(position)
        return Location(self.file, 1, 1)

    def key(self, path: Path) -> Location:
        position = self.keys.get(path)
        return self.value(path) if position is None else self._location(position)

    def _location(self, position: Position) -> Location:
        line, column = position
        return Location(self.file, line + 1, column + 1)


class Flaws:
    """The places (paths into the data) where a problem was reported.

    Later stages read only what no problem touches: the validator does not repeat what the
    loader reported of a value, and the model leaves out each part that holds a problem.
    """

    def __init__(self) -> None:
        self._places: set[Path] = set()
        self._holders: set[Path] = set()  # every place and every path that leads to one

    def add(self, place: Path) -> None:
        self._places.add(place)
        self._holders.update(place[:end] for end in range(len(place) + 1))

    def at(self, place: Path) -> bool:
        return place in self._places

    def over(self, path: Path) -> bool:
        """Whether a problem lies at `path` or at what holds it."""
        return any(path[:end] in self._places for end in range(len(path) + 1))

    def touch(self, path: Path) -> bool:
        """Whether a problem lies at `path`, inside it, or at what holds it."""
        return path in self._holders or self.over(path)


@dataclass
class LoadedSource:
    data: object
    source_map: SourceMap
    flaws: Flaws = field(default_factory=Flaws)


# The marks of PyYAML's events: PyYAML's own class, or libyaml's.
Mark = yaml.error.Mark | yaml._yaml.Mark


def _start(event: yaml.Event) -> Mark:
    mark = event.start_mark
    assert mark is not None  # the parser marks every event it gives
    return mark


def _end(event: yaml.Event) -> Mark:
    mark = event.end_mark
    assert mark is not None
    return mark


def _location(file: str, mark: Mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


_TAG = "tag:yaml.org,2002:"
_STR_TAG = _TAG + "str"
_TIMESTAMP_TAG = _TAG + "timestamp"
_MERGE_TAG = _TAG + "merge"
_MAP_TAG = _TAG + "map"
_SEQ_TAG = _TAG + "seq"
# Standard tags the catalog may use; any other tag (and so any Python object) is refused.
_PLAIN_TAGS = frozenset(_TAG + name for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp"))
# Stops "billion laughs" alias bombs early: a catalog may hold this many values, or as many as
# it has characters when it is larger (written out, every value takes at least one character).
MAX_VALUES = 200_000
# Catalogs nest about ten levels deep; a document nested deeper is refused before the parser's
# own limit decides for it.
MAX_DEPTH = 100


def max_values(text: str) -> int:
    return max(MAX_VALUES, len(text))


class _Unreadable(Exception):
    """What stops the document from being read at all, as the diagnostic to report."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def _unreadable(code: str, file: str, event: yaml.Event, message: str, hint: str) -> _Unreadable:
    """The error that stops reading at `event`."""
    return _Unreadable(Diagnostic(code, Severity.ERROR, _location(file, _start(event)), message, hint))


# What PyYAML's constructors raise for a text their tag cannot read.
_UNREADABLE_SCALAR = (ValueError, KeyError, IndexError, yaml.YAMLError)


class _ScalarConstructor:
    """The value of a scalar with one of `_PLAIN_TAGS`. Strings, and dates such as 2027-01-31,
    stay the text the user wrote. Raises one of `_UNREADABLE_SCALAR` where the tag cannot read
    the text (e.g. `!!int abc`, `!!bool maybe`, an empty `!!int`)."""

    def __init__(self) -> None:
        constructor = yaml.SafeLoader("")
        self._construct_object = constructor.construct_object
        # The plain scalar kinds, constructed directly (what construct_object would pick for them).
        self._construct_plain = {
            _TAG + "int": constructor.construct_yaml_int,
            _TAG + "float": constructor.construct_yaml_float,
            _TAG + "bool": constructor.construct_yaml_bool,
            _TAG + "null": constructor.construct_yaml_null,
        }

    def __call__(self, tag: str, event: yaml.ScalarEvent) -> object:
        if tag in (_STR_TAG, _TIMESTAMP_TAG):
            return event.value
        node = yaml.ScalarNode(tag, event.value)
        construct = self._construct_plain.get(tag)
        return construct(node) if construct else self._construct_object(node, deep=True)


class _SelfReference(yaml.NodeEvent):
    """Stands for an alias inside the value its anchor names, which would never end."""


class _Aliases:
    """The parser's events with every alias replaced by the events of the value its anchor names.

    Anchored values are kept as events, not built: each alias is read again as if written out in
    full, so it gets the positions, the checks and the count of values of its anchor's text.
    """

    def __init__(self, parser: yaml.CSafeLoader | yaml.SafeLoader, file: str) -> None:
        self._parser = parser
        self._file = file
        self._anchored: dict[str, list[yaml.Event]] = {}
        self._first_marks: dict[str, Mark] = {}
        # The anchored collections still being read: their events so far and how deep inside them.
        self._recording: dict[str, tuple[list[yaml.Event], list[int]]] = {}

    def __iter__(self) -> Iterator[yaml.Event]:
        parser = self._parser
        while (event := parser.get_event()) is not None:
            if self._recording:
                self._record(event)
            if isinstance(event, yaml.AliasEvent):
                yield from self._expand(event, set())
                continue
            if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
                self._anchor(event)
            yield event

    def _anchor(self, event: yaml.NodeEvent) -> None:
        name = event.anchor
        assert name is not None
        first = self._first_marks.get(name)
        if first is not None:
            raise _unreadable(
                YAML_SYNTAX,
                self._file,
                event,
                f"the anchor &{name} is defined twice (first at line {first.line + 1})",
                "give each anchor a name of its own",
            )
        self._first_marks[name] = _start(event)
        if isinstance(event, yaml.CollectionStartEvent):
            self._recording[name] = ([event], [1])
        else:
            self._anchored[name] = [event]

    def _record(self, event: yaml.Event) -> None:
        change = 0
        if isinstance(event, yaml.CollectionStartEvent):
            change = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            change = -1
        for name, (events, depth) in list(self._recording.items()):
            events.append(event)
            depth[0] += change
            if depth[0] == 0:
                self._anchored[name] = self._recording.pop(name)[0]

    def _expand(self, alias: yaml.AliasEvent, expanding: set[str]) -> Iterator[yaml.Event]:
        name = alias.anchor
        assert name is not None
        if name in expanding or name in self._recording:
            yield _SelfReference(name, self._first_marks[name], alias.end_mark)
            return
        events = self._anchored.get(name)
        if events is None:
            raise _unreadable(
                YAML_SYNTAX,
                self._file,
                alias,
                f"the alias *{name} names no anchor written before it",
                f"write &{name} on the value to repeat, above this line",
            )
        expanding = expanding | {name}
        for event in events:
            if isinstance(event, yaml.AliasEvent):
                yield from self._expand(event, expanding)
            else:
                yield event


class _Builder:
    """The data of the parser's events, with their positions, the diagnostics and their places.

    What cannot be read is left out and reported; the place of each report is a flaw: a value
    that became None, a mapping that lost keys, or a key written twice (its first value stays).
    """

    def __init__(self, text: str, file: str, parser: yaml.CSafeLoader | yaml.SafeLoader) -> None:
        self.text = text
        self.file = file
        self.map = SourceMap(file)
        self.diagnostics: list[Diagnostic] = []
        self.flaws = Flaws()
        self._events = iter(_Aliases(parser, file))
        self._resolve = parser.resolve
        self._last: yaml.Event | None = None
        self._values = 0
        self._max_values = max_values(text)
        self._construct_scalar = _ScalarConstructor()

    def document(self) -> tuple[bool, object]:
        """Whether the text holds a document, and its data."""
        self._next()  # the start of the stream
        start = self._next()
        if isinstance(start, yaml.StreamEndEvent):
            return False, None
        data = self._value(self._next(), ())
        self._next()  # the end of the document
        after = self._next()
        if not isinstance(after, yaml.StreamEndEvent):
            raise _unreadable(
                YAML_SYNTAX,
                self.file,
                after,
                "the file holds a second YAML document",
                "a catalog is one document: remove this `---` and what follows, or merge it into the first",
            )
        return True, data

    def _next(self) -> yaml.Event:
        event = next(self._events)
        if isinstance(event, yaml.NodeEvent):
            self._values += 1
            if self._values > self._max_values:
                raise _unreadable(
                    UNSUPPORTED_YAML,
                    self.file,
                    event,
                    f"the catalog expands to more than {self._max_values} values",
                    "write the catalog without YAML aliases (*name) that multiply its size",
                )
        self._last = event
        return event

    def error(self, code: str, mark: Mark, place: Path, message: str, hint: str) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, _location(self.file, mark), message, hint))
        self.flaws.add(place)

    def _tag(self, event: yaml.NodeEvent) -> str:
        tag: str | None = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            return tag
        if isinstance(event, yaml.ScalarEvent):
            resolved: str = self._resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
            return resolved
        return _SEQ_TAG if isinstance(event, yaml.SequenceStartEvent) else _MAP_TAG

    def _skip(self, event: yaml.Event) -> None:
        """Read past the value that `event` starts, building nothing."""
        depth = 1 if isinstance(event, yaml.CollectionStartEvent) else 0
        while depth:
            following = self._next()
            if isinstance(following, yaml.CollectionStartEvent):
                depth += 1
            elif isinstance(following, yaml.CollectionEndEvent):
                depth -= 1

    def _value(self, event: yaml.Event, path: Path) -> object:
        """The value that `event` starts, read to its end."""
        mark = _start(event)
        if isinstance(event, _SelfReference):
            self.error(
                UNSUPPORTED_YAML,
                mark,
                path,
                "a YAML alias refers to a value that contains it",
                "remove the self-referencing alias (*name)",
            )
            return None
        assert isinstance(event, yaml.NodeEvent)
        tag = self._tag(event)
        if tag not in _PLAIN_TAGS:
            self._skip(event)
            self.error(
                UNSUPPORTED_YAML,
                mark,
                path,
                f"the YAML tag {tag!r} is not supported",
                "remove the tag; the catalog uses plain YAML values only",
            )
            return None
        self.map.values[path] = (mark.line, mark.column)
        if isinstance(event, yaml.ScalarEvent):
            return self._scalar(tag, event, path)
        if len(path) >= MAX_DEPTH:
            raise _Unreadable(_too_deep(_location(self.file, mark)))
        if isinstance(event, yaml.MappingStartEvent):
            return self._mapping(path)
        items: list[object] = []
        while not isinstance(item := self._next(), yaml.SequenceEndEvent):
            items.append(self._value(item, (*path, len(items))))
        return items

    def _scalar(self, tag: str, event: yaml.ScalarEvent, path: Path) -> object:
        try:
            return self._construct_scalar(tag, event)
        except _UNREADABLE_SCALAR:
            kind = tag.rsplit(":", 1)[-1]
            self.error(
                UNSUPPORTED_YAML,
                _start(event),
                path,
                f"{event.value!r} cannot be read as {kind}",
                "remove the explicit tag (!!...) or correct the value",
            )
            return None

    def _mapping(self, path: Path) -> dict[str, object]:
        result: dict[str, object] = {}
        keys = self.map.keys
        while not isinstance(key_event := self._next(), yaml.MappingEndEvent):
            mark = _start(key_event)
            key: object = None
            if isinstance(key_event, yaml.ScalarEvent):
                tag = self._tag(key_event)
                if tag == _MERGE_TAG:
                    self._skip(self._next())
                    self.error(
                        UNSUPPORTED_YAML,
                        mark,
                        path,
                        "YAML merge keys (<<) are not supported",
                        "write the keys out in full so each event stands on its own",
                    )
                    continue
                key = self._scalar(tag, key_event, path)
            else:
                self._skip(key_event)
            if not isinstance(key, str):
                assert self._last is not None
                written = " ".join(self.text[mark.index : _end(self._last).index].split())
                self._skip(self._next())
                self.error(
                    NON_STRING_KEY, mark, path, f"key {written} is not a string", 'quote the key, e.g. "on": or "1.0":'
                )
                continue
            key_path = (*path, key)
            if key in result:
                self._skip(self._next())
                self.error(
                    DUPLICATE_KEY,
                    mark,
                    key_path,
                    f"duplicate key {key!r} (first defined at line {keys[key_path][0] + 1})",
                    "remove or rename one of them; YAML would silently keep only the last",
                )
                continue
            keys[key_path] = (mark.line, mark.column)
            result[key] = self._value(self._next(), key_path)
        return result


def load_yaml(text: str, file: str) -> tuple[LoadedSource | None, list[Diagnostic]]:
    """Parse `text`: the data with its positions and the diagnostics of what it leaves out, or
    None and the diagnostic that stops the catalog from being read at all."""
    text = text.removeprefix("\ufeff")  # a byte order mark is no column: editors do not show it
    parser = None
    try:
        parser = PARSER(text)
        builder = _Builder(text, file, parser)
        found, data = builder.document()
    except UnicodeEncodeError as exc:  # libyaml reads UTF-8, which cannot hold a lone surrogate
        return None, [_bad_character(text, file, exc.start)]
    except yaml.reader.ReaderError as exc:
        index = exc.position
        if PARSER is yaml.CSafeLoader:  # libyaml counts bytes of UTF-8
            index = len(text.encode("utf-8")[:index].decode("utf-8", "ignore"))
        return None, [_bad_character(text, file, index)]
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_error(text, file, exc)]
    except yaml.YAMLError as exc:
        return None, [
            Diagnostic(
                YAML_SYNTAX,
                Severity.ERROR,
                Location(file, 1, 1),
                f"YAML error: {exc}",
                "check the file is a single YAML document",
            )
        ]
    except _Unreadable as exc:
        return None, [exc.diagnostic]
    finally:
        if parser is not None:
            parser.dispose()
    return LoadedSource(data if found else {}, builder.map, builder.flaws), builder.diagnostics


# What libyaml says of a document nested more than a thousand levels deep.
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"


def _syntax_error(text: str, file: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    # At the end of the stream (an unclosed quote or bracket) the opening position says more.
    if exc.context_mark is not None and (mark is None or mark.index >= len(text.rstrip())):
        mark = exc.context_mark
    location = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
    problem = exc.problem or "invalid YAML"
    if problem == _LIBYAML_TOO_DEEP:
        return _too_deep(location)
    message = f"YAML syntax error: {exc.context}, {problem}" if exc.context else f"YAML syntax error: {problem}"
    hint = "check indentation and quoting near this position"
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        hint += "; YAML does not allow tabs for indentation, use spaces"
    return Diagnostic(YAML_SYNTAX, Severity.ERROR, location, message, hint)


def _bad_character(text: str, file: str, index: int) -> Diagnostic:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    character = text[index : index + 1] or "?"
    return Diagnostic(
        YAML_SYNTAX,
        Severity.ERROR,
        Location(file, line, column),
        f"the file contains a character YAML does not allow (U+{ord(character):04X})",
        "remove the control character at this position",
    )


def _too_deep(location: Location) -> Diagnostic:
    return Diagnostic(
        UNSUPPORTED_YAML,
        Severity.ERROR,
        location,
        f"the catalog nests more than {MAX_DEPTH} levels deep",
        "a catalog nests about ten levels: look for runaway brackets or indentation here",
    )
