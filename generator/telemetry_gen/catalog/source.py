"""Load step: YAML text → plain data plus the position of every key and value.

PyYAML's composer gives nodes with marks; we construct the data ourselves so that duplicate
keys are reported (PyYAML silently keeps the last one) and so that YAML's implicit dates stay
the strings the user wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from ..diagnostics import Diagnostic, Location, Severity

Path = tuple[str | int, ...]

# The codes of this stage; documented in docs/diagnostics.md.
YAML_SYNTAX = "CF001"
DUPLICATE_KEY = "CF002"
NON_STRING_KEY = "CF003"
UNSUPPORTED_YAML = "CF004"


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of the loaded document stands."""

    file: str
    values: dict[Path, Location] = field(default_factory=dict)
    keys: dict[Path, Location] = field(default_factory=dict)

    def value(self, path: Path) -> Location:
        """The closest known position of `path`: itself, else its nearest ancestor."""
        for end in range(len(path), -1, -1):
            location = self.values.get(path[:end])
            if location is not None:
                return location
        return Location(self.file, 1, 1)

    def key(self, path: Path) -> Location:
        return self.keys.get(path) or self.value(path)


@dataclass
class LoadedSource:
    data: object
    source_map: SourceMap


def _location(file: str, node: yaml.Node) -> Location:
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.map = SourceMap(file)
        self.diagnostics: list[Diagnostic] = []
        self._scalars = yaml.SafeLoader("")

    def error(self, code: str, node: yaml.Node, message: str, hint: str) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, _location(self.file, node), message, hint))

    def build(self, node: yaml.Node, path: Path) -> object:
        self.map.values[path] = _location(self.file, node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node)

    def _scalar(self, node: yaml.ScalarNode) -> object:
        if node.tag == "tag:yaml.org,2002:timestamp":
            # A date such as 2027-01-31 stays the text the user wrote.
            return node.value
        return self._scalars.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, object]:
        result: dict[str, object] = {}
        first_seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
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
                    f"key {key_node.value!r} is not a string",
                    'quote the key, e.g. "on": or "1.0":',
                )
                continue
            if key in first_seen:
                first = first_seen[key].start_mark
                self.error(
                    DUPLICATE_KEY,
                    key_node,
                    f"duplicate key {key!r} (first defined at line {first.line + 1})",
                    "remove or rename one of them; YAML would silently keep only the last",
                )
                continue
            first_seen[key] = key_node
            key_path = (*path, key)
            self.map.keys[key_path] = _location(self.file, key_node)
            result[key] = self.build(value_node, key_path)
        return result


def load_yaml(text: str, file: str) -> tuple[LoadedSource | None, list[Diagnostic]]:
    """Parse `text`; return the data with its positions, or the diagnostics that stop it."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        context = f" {exc.context}" if exc.context else ""
        message = f"YAML syntax error: {problem}{context}"
        hint = "check indentation and quoting near this position; tabs are not allowed"
        return None, [Diagnostic(YAML_SYNTAX, Severity.ERROR, Location(file, line, column), message, hint)]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(YAML_SYNTAX, Severity.ERROR, Location(file, 1, 1), f"YAML error: {exc}", "")]
    builder = _Builder(file)
    if node is None:
        return LoadedSource({}, builder.map), []
    try:
        data = builder.build(node, ())
    except yaml.YAMLError as exc:  # e.g. an unknown tag such as !!python/object
        location = _location(file, node)
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            location = Location(file, mark.line + 1, mark.column + 1)
        message = f"unsupported YAML: {getattr(exc, 'problem', None) or exc}"
        diagnostic = Diagnostic(UNSUPPORTED_YAML, Severity.ERROR, location, message, "use plain YAML values only")
        return None, [diagnostic]
    return LoadedSource(data, builder.map), builder.diagnostics
