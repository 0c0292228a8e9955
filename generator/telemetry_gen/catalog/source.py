"""Load step: YAML text → plain data plus the position of every key and value.

PyYAML's composer gives nodes with marks; we construct the data ourselves so that duplicate
keys are reported (PyYAML silently keeps the last one) and so that YAML's implicit dates stay
the strings the user wrote. libyaml's parser (when PyYAML has it) reads a large catalog many
times faster; the pure-Python composer stays the reference: it reads every text the fast path
steps aside for, and every diagnostic of this stage comes from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import yaml

from ..diagnostics import Diagnostic, Location, Severity

Path = tuple[str | int, ...]


class Mark(Protocol):
    """Where the parser (PyYAML's or libyaml's) found a node: 0-based line and column."""

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...


# The codes of this stage; documented in docs/diagnostics.md.
YAML_SYNTAX = "CF001"
DUPLICATE_KEY = "CF002"
NON_STRING_KEY = "CF003"
UNSUPPORTED_YAML = "CF004"


@dataclass(eq=False)
class SourceMap:
    """Where each value (and each mapping key) of the loaded document stands.

    It keeps the parser's marks and makes a Location only of those asked for: a large catalog
    has a hundred thousand values, and few are ever reported.
    """

    file: str
    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

    def value(self, path: Path) -> Location:
        """The closest known position of `path`: itself, else its nearest ancestor."""
        for end in range(len(path), -1, -1):
            mark = self.values.get(path[:end])
            if mark is not None:
                return self._location(mark)
        return Location(self.file, 1, 1)

    def key(self, path: Path) -> Location:
        mark = self.keys.get(path)
        return self.value(path) if mark is None else self._location(mark)

    def _location(self, mark: Mark) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)


@dataclass
class LoadedSource:
    data: object
    source_map: SourceMap


def _location(file: str, node: yaml.Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


_TAG = "tag:yaml.org,2002:"
_STR_TAG = _TAG + "str"
_TIMESTAMP_TAG = _TAG + "timestamp"
_MERGE_TAG = _TAG + "merge"
# Standard tags the catalog may use; any other tag (and so any Python object) is refused.
_PLAIN_TAGS = frozenset(_TAG + name for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp"))
# Stops "billion laughs" alias bombs early: a catalog may hold this many values, or as many as
# it has characters when it is larger (written out, every value takes at least one character).
MAX_VALUES = 200_000
# Catalogs nest about ten levels deep. Deeper documents take the pure-Python path, so that its
# recursion limit alone decides, as it always has, which of them can be read at all.
LIBYAML_MAX_DEPTH = 100


def max_values(text: str) -> int:
    return max(MAX_VALUES, len(text))


class _TooLarge(Exception):
    pass


# What PyYAML's constructors raise for a text their tag cannot read.
_UNREADABLE_SCALAR = (ValueError, KeyError, IndexError, yaml.YAMLError)


class _ScalarConstructor:
    """The value of a scalar node with one of `_PLAIN_TAGS`. Strings, and dates such as 2027-01-31,
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

    def __call__(self, node: yaml.ScalarNode) -> object:
        tag = node.tag
        if tag in (_STR_TAG, _TIMESTAMP_TAG):
            return node.value
        construct = self._construct_plain.get(tag)
        return construct(node) if construct else self._construct_object(node, deep=True)


class _Builder:
    """The data of the pure-Python composer's nodes, with their positions and the diagnostics."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.map = SourceMap(file)
        self.diagnostics: list[Diagnostic] = []
        self._values = 0
        self._max_values = max_values(text)
        # The collections being built: an alias back into one of them is a loop.
        self._open: set[int] = set()
        self._construct_scalar = _ScalarConstructor()

    def error(self, code: str, node: yaml.Node, message: str, hint: str) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, _location(self.file, node), message, hint))

    def source_text(self, node: yaml.Node) -> str:
        return " ".join(self.text[node.start_mark.index : node.end_mark.index].split())

    def build(self, node: yaml.Node, path: Path) -> object:
        self._values += 1
        if self._values > self._max_values:
            raise _TooLarge
        node_id = id(node)
        if node_id in self._open:
            self.error(
                UNSUPPORTED_YAML,
                node,
                "a YAML alias refers to a value that contains it",
                "remove the self-referencing alias (*name)",
            )
            return None
        if node.tag not in _PLAIN_TAGS:
            self.error(
                UNSUPPORTED_YAML,
                node,
                f"the YAML tag {node.tag!r} is not supported",
                "remove the tag; the catalog uses plain YAML values only",
            )
            return None
        self.map.values[path] = node.start_mark
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        self._open.add(node_id)
        if isinstance(node, yaml.MappingNode):
            result: object = self._mapping(node, path)
        else:
            result = [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        self._open.remove(node_id)
        return result

    def _scalar(self, node: yaml.ScalarNode) -> object:
        try:
            return self._construct_scalar(node)
        except _UNREADABLE_SCALAR:
            kind = node.tag.rsplit(":", 1)[-1]
            self.error(
                UNSUPPORTED_YAML,
                node,
                f"{node.value!r} cannot be read as {kind}",
                "remove the explicit tag (!!...) or correct the value",
            )
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, object]:
        result: dict[str, object] = {}
        keys = self.map.keys
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self.error(
                    UNSUPPORTED_YAML,
                    key_node,
                    "YAML merge keys (<<) are not supported",
                    "write the keys out in full so each event stands on its own",
                )
                continue
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.error(
                    NON_STRING_KEY,
                    key_node,
                    f"key {self.source_text(key_node)} is not a string",
                    'quote the key, e.g. "on": or "1.0":',
                )
                continue
            key_path = (*path, key)
            if key in result:
                self.error(
                    DUPLICATE_KEY,
                    key_node,
                    f"duplicate key {key!r} (first defined at line {keys[key_path].line + 1})",
                    "remove or rename one of them; YAML would silently keep only the last",
                )
                continue
            keys[key_path] = key_node.start_mark
            result[key] = self.build(value_node, key_path)
        return result


def _syntax_error(text: str, file: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    # At the end of the stream (an unclosed quote or bracket) the opening position says more.
    if exc.context_mark is not None and (mark is None or mark.index >= len(text.rstrip())):
        mark = exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "invalid YAML"
    message = f"YAML syntax error: {exc.context}, {problem}" if exc.context else f"YAML syntax error: {problem}"
    hint = "check indentation and quoting near this position"
    if "\t" in problem or "tab" in problem:
        hint += "; YAML does not allow tabs for indentation, use spaces"
    return Diagnostic(YAML_SYNTAX, Severity.ERROR, Location(file, line, column), message, hint)


def _reader_error(text: str, file: str, exc: yaml.reader.ReaderError) -> Diagnostic:
    position = exc.position
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
    return Diagnostic(
        YAML_SYNTAX,
        Severity.ERROR,
        Location(file, line, column),
        f"the file contains a character YAML does not allow (U+{code:04X})",
        "remove the control character at this position",
    )


# Where libyaml and PyYAML's pure scanner part ways (found by tests/test_yaml_fast_path.py): libyaml
# accepts tabs, tags and anchors PyYAML refuses and a `#` right after a block scalar's `|` or `>`,
# counts an inner byte order mark as a column where PyYAML does not, and treats the line breaks
# U+0085, U+2028 and U+2029 differently. Texts with any of these, or with a tag (!), anchor (&),
# alias (*) or directive (%) where a token starts, which catalogs do not need, take the pure path.
# The same characters inside prose ("50 % of *all* runs!") do not start a token and keep the fast path.
_LIBYAML_DIFFERS = re.compile(
    "[\t\ufeff\x85\u2028\u2029]|[|>][-+0-9]*#|^%|(?:^ *|[-:?,\\[{] +|[\\[{,])[!&*]", re.MULTILINE
)
# Every match of `_LIBYAML_DIFFERS` lies within one line and holds one of these characters. The
# pattern has no first character that `re` could look for, so searching all of a large catalog with
# it takes a tenth of a second; only the lines that hold one of these need it.
_LIBYAML_DIFFERS_CHARACTERS = "\t\ufeff\x85\u2028\u2029|>%!&*"


def _libyaml_may_differ(text: str, start: int) -> bool:
    """Whether `_LIBYAML_DIFFERS` matches `text` from `start` on."""
    for character in _LIBYAML_DIFFERS_CHARACTERS:
        found = text.find(character, start)
        while found >= 0:
            line_start = max(start, text.rfind("\n", 0, found) + 1)
            line_end = text.find("\n", found)
            if line_end < 0:
                line_end = len(text)
            if _LIBYAML_DIFFERS.search(text, line_start, line_end):
                return True
            found = text.find(character, line_end)
    return False


class _StepAside(Exception):
    """The fast path met something the pure path must judge: it may read it differently, or report it."""


def load_yaml(text: str, file: str) -> tuple[LoadedSource | None, list[Diagnostic]]:
    """Parse `text`; return the data with its positions, or the diagnostics that stop it."""
    loaded = _load_with_libyaml(text, file)
    if loaded is not None:
        return loaded, []
    return _load_pure(text, file)


def _load_with_libyaml(text: str, file: str) -> LoadedSource | None:
    """The fast path: the data and positions from libyaml's parser events.

    None whenever it meets anything to report (a YAML error, or what the pure path's builder
    would report), so that every report comes from the pure path exactly as before; None also
    for texts that libyaml may read differently (see `_LIBYAML_DIFFERS` and `_read_events`).
    """
    after_bom = 1 if text.startswith("\ufeff") else 0  # both read a leading byte order mark alike
    if not yaml.__with_libyaml__ or _libyaml_may_differ(text, after_bom):
        return None
    try:
        loader = yaml.CSafeLoader(text)
    except UnicodeEncodeError:  # a lone surrogate in `text`
        return None
    try:
        return _read_events(loader, text, file)
    except (yaml.YAMLError, _StepAside):
        return None
    finally:
        loader.dispose()


def _read_events(loader: yaml.CSafeLoader, text: str, file: str) -> LoadedSource:
    """What the pure path's `_Builder` makes of the document, read from libyaml's events.

    Reading the events skips the node tree: composing it calls back into Python four times for
    every value, and walking it once more; on a large catalog that was most of the load. Raises
    `_StepAside` wherever the builder would report something or libyaml may read the text
    differently: tags, anchors and aliases, keys that are not strings or repeat, merge keys,
    values their kind cannot read, more values than `max_values`, more than `LIBYAML_MAX_DEPTH`
    levels, and a flow collection ([...] or {...}) holding `?` (libyaml takes it inside a plain
    value where PyYAML ends the value) or a CR (libyaml places an empty value before a CRLF line
    break on the next line), and the other empty values libyaml places elsewhere (marked below).
    """
    next_event = loader.get_event
    next_event()  # the stream's start
    if isinstance(next_event(), yaml.StreamEndEvent):  # else the document's start
        return LoadedSource({}, SourceMap(file))
    read_plain = _PlainScalarReader(loader)
    plain_values: dict[str, object] = {}  # each plain scalar's value, by its text: most recur
    values: dict[Path, Mark] = {}
    keys: dict[Path, Mark] = {}
    bom = 1 if text.startswith("\ufeff") else 0  # libyaml's marks count characters from after it
    document: list[object] = []
    # The collection being read (a mapping or a sequence), where it stands and where it starts if
    # it is in flow style (else -1), with the same of each enclosing collection on the stack; in a
    # mapping, the key whose value comes next (None while a key comes next) and that value's path.
    mapping: dict[str, object] | None = None
    sequence: list[object] | None = document
    path: Path = ()
    flow_start = -1
    enclosing: list[tuple[dict[str, object] | None, list[object] | None, Path, int]] = []
    key: str | None = None
    key_path: Path = ()
    value: object
    while True:
        event = next_event()
        if isinstance(event, yaml.ScalarEvent):
            if event.implicit[0]:  # plain, so its kind is told by its text
                if flow_start >= 0 and not event.value:
                    raise _StepAside  # an empty value in [...] or {...}: libyaml places it at the next token
                value = plain_values.get(event.value, plain_values)
                if value is plain_values:
                    value = plain_values[event.value] = read_plain(event.value)
            else:
                value = event.value
        elif isinstance(event, yaml.CollectionStartEvent):
            value = {} if isinstance(event, yaml.MappingStartEvent) else []
        elif isinstance(event, yaml.CollectionEndEvent):
            if flow_start >= 0:
                end = event.end_mark
                assert end is not None
                span = text[flow_start + bom : end.index + bom]
                if "?" in span or "\r" in span:
                    raise _StepAside
            mapping, sequence, path, flow_start = enclosing.pop()
            continue
        else:
            break
        if event.tag is not None or event.anchor is not None:
            raise _StepAside
        mark = event.start_mark
        assert mark is not None
        if mapping is not None:
            if key is None:
                if not isinstance(value, str) or value in mapping:
                    raise _StepAside
                key = value
                key_path = (*path, key)
                keys[key_path] = mark
                continue
            here = key_path
            mapping[key] = value
            key = None
        else:
            assert sequence is not None
            here = () if sequence is document else (*path, len(sequence))
            sequence.append(value)
        values[here] = mark
        if isinstance(event, yaml.CollectionStartEvent):
            if len(here) >= LIBYAML_MAX_DEPTH:
                raise _StepAside
            enclosing.append((mapping, sequence, path, flow_start))
            mapping = value if isinstance(value, dict) else None
            sequence = value if isinstance(value, list) else None
            path = here
            flow_start = mark.index if event.flow_style else -1
    # Past the document's end only the stream's end may come (not an alias, not another document).
    if not isinstance(event, yaml.DocumentEndEvent) or not isinstance(next_event(), yaml.StreamEndEvent):
        raise _StepAside
    # An empty value at the very end of a text without a final line break: libyaml may place it on
    # a line after the last (`? key`, `---` then spaces), where PyYAML places it on the last.
    assert mark is not None  # the start of the document's last value: a document has at least one
    if mark.index + bom >= len(text) and not text.endswith("\n"):
        raise _StepAside
    if len(values) > max_values(text):
        raise _StepAside
    return LoadedSource(document[0], SourceMap(file, values, keys))


class _PlainScalarReader:
    """The value of a plain scalar's text, resolved and constructed as the pure path does."""

    def __init__(self, loader: yaml.CSafeLoader) -> None:
        self._resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = loader.resolve
        self._construct = _ScalarConstructor()

    def __call__(self, text: str) -> object:
        tag = self._resolve(yaml.ScalarNode, text, (True, False))  # (plain, not quoted)
        if tag not in _PLAIN_TAGS:  # `<<` (a merge key) and `=`
            raise _StepAside
        try:
            return self._construct(yaml.ScalarNode(tag, text))
        except _UNREADABLE_SCALAR as exc:
            raise _StepAside from exc


def _load_pure(text: str, file: str) -> tuple[LoadedSource | None, list[Diagnostic]]:
    """PyYAML's pure-Python composer; its errors and marks are the ones the diagnostics describe."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:  # the composer recurses once per level of nesting
        return None, [_too_large(text, _too_deep_at(text, file))]
    except yaml.reader.ReaderError as exc:
        return None, [_reader_error(text, file, exc)]
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
    builder = _Builder(text, file)
    if node is None:
        return LoadedSource({}, builder.map), []
    try:
        data = builder.build(node, ())
    except (_TooLarge, RecursionError):
        return None, [_too_large(text, _location(file, node))]
    return LoadedSource(data, builder.map), builder.diagnostics


def _too_deep_at(text: str, file: str) -> Location:
    """Where `text` first nests deeper than the fast path reads: the parser, unlike the composer,
    keeps its own stack, so it gets there without recursing."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            mark = event.start_mark
            if depth > LIBYAML_MAX_DEPTH and mark is not None:
                return Location(file, mark.line + 1, mark.column + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return Location(file, 1, 1)


def _too_large(text: str, location: Location) -> Diagnostic:
    return Diagnostic(
        UNSUPPORTED_YAML,
        Severity.ERROR,
        location,
        f"the catalog expands to more than {max_values(text)} values, or nests too deeply",
        "write the catalog without YAML aliases (*name) that multiply its size, nested a few levels deep",
    )
