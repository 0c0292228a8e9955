"""Load step: YAML text → plain data plus the position of every key and value.

PyYAML's composer gives the document as nodes that carry their marks: libyaml's composer where
PyYAML is built with it, PyYAML's pure-Python one otherwise. We construct the data ourselves so
that duplicate keys are reported (PyYAML silently keeps the last one), tags are refused (no YAML
value becomes a Python object) and YAML's implicit dates stay the strings the user wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from ..diagnostics import Diagnostic, Location, Severity

Path = tuple[str | int, ...]
Position = tuple[int, int]  # 0-based line and column, as the composer counts them

# The codes of this stage; documented in docs/catalog-format.md.
YAML_SYNTAX = "CF001"
DUPLICATE_KEY = "CF002"
NON_STRING_KEY = "CF003"
UNSUPPORTED_YAML = "CF004"

# libyaml's composer where PyYAML has it: it reads a large catalog many times faster.
COMPOSER: type[yaml.CSafeLoader] | type[yaml.SafeLoader] = (
    yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
)


@dataclass(eq=False)
class SourceMap:
    """Where each value (and each mapping key) of the loaded document stands.

    It keeps plain positions, not the composer's marks, which would keep a hundred thousand
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
# Catalogs nest about ten levels deep; a document nested deeper is refused before a recursion
# limit (of libyaml, of PyYAML's composer or of Python) decides for it.
MAX_DEPTH = 100


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
    """The data of the composer's nodes, with their positions, the diagnostics and their places.

    What cannot be read is left out and reported; the place of each report is a flaw: a value
    that became None, a mapping that lost keys, or a key written twice (its first value stays).
    """

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.map = SourceMap(file)
        self.diagnostics: list[Diagnostic] = []
        self.flaws = Flaws()
        self._values = 0
        self._max_values = max_values(text)
        # The collections being built: an alias back into one of them is a loop.
        self._open: set[int] = set()
        self._construct_scalar = _ScalarConstructor()

    def error(self, code: str, node: yaml.Node, place: Path, message: str, hint: str) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, _location(self.file, node), message, hint))
        self.flaws.add(place)

    def source_text(self, node: yaml.Node) -> str:
        return " ".join(self.text[node.start_mark.index : node.end_mark.index].split())

    def build(self, node: yaml.Node, path: Path) -> object:
        self._values += 1
        if self._values > self._max_values:
            raise _TooLarge
        if node.tag not in _PLAIN_TAGS:
            self.error(
                UNSUPPORTED_YAML,
                node,
                path,
                f"the YAML tag {node.tag!r} is not supported",
                "remove the tag; the catalog uses plain YAML values only",
            )
            return None
        mark = node.start_mark
        self.map.values[path] = (mark.line, mark.column)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        node_id = id(node)
        if node_id in self._open:
            self.error(
                UNSUPPORTED_YAML,
                node,
                path,
                "a YAML alias refers to a value that contains it",
                "remove the self-referencing alias (*name)",
            )
            return None
        if len(path) >= MAX_DEPTH:
            self.diagnostics.append(_too_deep(_location(self.file, node)))
            self.flaws.add(path)
            return None
        self._open.add(node_id)
        if isinstance(node, yaml.MappingNode):
            result: object = self._mapping(node, path)
        else:
            result = [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        self._open.remove(node_id)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> object:
        try:
            return self._construct_scalar(node)
        except _UNREADABLE_SCALAR:
            kind = node.tag.rsplit(":", 1)[-1]
            self.error(
                UNSUPPORTED_YAML,
                node,
                path,
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
                    path,
                    "YAML merge keys (<<) are not supported",
                    "write the keys out in full so each event stands on its own",
                )
                continue
            key = self._scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.error(
                    NON_STRING_KEY,
                    key_node,
                    path,
                    f"key {self.source_text(key_node)} is not a string",
                    'quote the key, e.g. "on": or "1.0":',
                )
                continue
            key_path = (*path, key)
            if key in result:
                self.error(
                    DUPLICATE_KEY,
                    key_node,
                    key_path,
                    f"duplicate key {key!r} (first defined at line {keys[key_path][0] + 1})",
                    "remove or rename one of them; YAML would silently keep only the last",
                )
                continue
            mark = key_node.start_mark
            keys[key_path] = (mark.line, mark.column)
            result[key] = self.build(value_node, key_path)
        return result


def load_yaml(text: str, file: str) -> tuple[LoadedSource | None, list[Diagnostic]]:
    """Parse `text`: the data with its positions and the diagnostics of what it leaves out, or
    None and the diagnostic that stops the catalog from being read at all."""
    text = text.removeprefix("\ufeff")  # a byte order mark is no column: editors do not show it
    try:
        node = yaml.compose(text, Loader=COMPOSER)
    except RecursionError:  # PyYAML's pure-Python composer recurses once per level of nesting
        return None, [_too_deep(_too_deep_at(text, file))]
    except UnicodeEncodeError as exc:  # libyaml reads UTF-8, which cannot hold a lone surrogate
        return None, [_bad_character(text, file, exc.start)]
    except yaml.reader.ReaderError as exc:
        index = exc.position
        if COMPOSER is yaml.CSafeLoader:  # libyaml counts bytes of UTF-8
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
    builder = _Builder(text, file)
    if node is None:
        return LoadedSource({}, builder.map), []
    try:
        data = builder.build(node, ())
    except _TooLarge:
        return None, [
            Diagnostic(
                UNSUPPORTED_YAML,
                Severity.ERROR,
                _location(file, node),
                f"the catalog expands to more than {max_values(text)} values",
                "write the catalog without YAML aliases (*name) that multiply its size",
            )
        ]
    return LoadedSource(data, builder.map, builder.flaws), builder.diagnostics


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


def _too_deep_at(text: str, file: str) -> Location:
    """Where `text` first nests deeper than `MAX_DEPTH`: the parser, unlike the composer, keeps
    its own stack, so it gets there without recursing."""
    depth = 0
    for event in yaml.parse(text, Loader=COMPOSER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            mark = event.start_mark
            if depth > MAX_DEPTH and mark is not None:
                return Location(file, mark.line + 1, mark.column + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return Location(file, 1, 1)


def _too_deep(location: Location) -> Diagnostic:
    return Diagnostic(
        UNSUPPORTED_YAML,
        Severity.ERROR,
        location,
        f"the catalog nests more than {MAX_DEPTH} levels deep",
        "a catalog nests about ten levels: look for runaway brackets or indentation here",
    )
