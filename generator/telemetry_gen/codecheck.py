"""`telemetry-gen code-check`: where an app's Python code uses the emitters of its catalog.

The app's source is read with `ast`, never imported. In each file, the imports that reach the
generated `events` module (`<app.package>.events`) are followed, with their aliases, so that
`ev.app_started(...)`, `started(...)` after `from <package>.events import app_started as
started`, and `<package>.events.app_started(...)` all name the emitter `app_started`. A name
that is used but not called (passed to `functools.partial`, put in a dict, given to a decorator
or a registry) counts as a reference: the event is used, just not called on that line.

Resolution is per file: an import anywhere in the file binds its name for the whole file, except
inside a function whose parameters or assignments bind the same name; a module-level assignment
to that name is not followed. A relative import is resolved
from the file's package: the folders above it that hold an `__init__.py`, as Python resolves a
regular package (so `src/` layouts work whichever folder is given as SRC; namespace packages
without `__init__.py` are not resolved). `from <package>.events import *` binds every public name
of the module, so the emitters used after it are found, but a misspelt one is not (it is an
undefined name, for pyflakes). Names beginning with `_` are the module's internals and are not
checked.
"""

from __future__ import annotations

import ast
import difflib
import io
import os
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from .catalog import display_path
from .catalog.lint import Now, expiry_reached
from .catalog.model import Catalog, Event, emitter_name
from .diagnostics import Diagnostic, Location, Severity, sorted_diagnostics
from .targets.python import emitter_modules

UNUSED = "CC001"
UNKNOWN_NAME = "CC002"
DEPRECATED_USED = "CC003"
EXPIRED_USED = "CC004"
UNREADABLE_SOURCE = "CC005"

# Folders that hold no source of the app's own (virtual environments are found by their pyvenv.cfg).
_SKIPPED_FOLDERS = frozenset({"__pycache__", "node_modules", "site-packages"})


@dataclass(frozen=True)
class Use:
    """A name looked up on a module of emitters (`events`, `feedback`): called there, or only referenced."""

    name: str
    location: Location
    called: bool


@dataclass(frozen=True)
class CodeCheck:
    """What code-check found: every use of each declared event's emitter, and the findings."""

    files: int
    emitter_of: dict[str, str]  # event name → its emitter, with its module: `events.app_started`
    uses: dict[str, list[Use]]  # by event name, every declared event, in file and line order
    diagnostics: list[Diagnostic]

    def summary(self) -> str:
        """One line per event with its call sites and references, then the totals."""
        lines = []
        for event, uses in self.uses.items():
            calls = [_line_of(u.location) for u in uses if u.called]
            references = [_line_of(u.location) for u in uses if not u.called]
            parts = [f"{len(calls)} call(s): " + ", ".join(calls)] if calls else []
            if references:
                parts.append(f"{len(references)} reference(s): " + ", ".join(references))
            lines.append(f"{event} ({self.emitter_of[event]}): " + ("; ".join(parts) or "not used"))
        used = sum(bool(uses) for uses in self.uses.values())
        sites = sum(u.called for uses in self.uses.values() for u in uses)
        lines.append(f"{self.files} file(s) checked: {used} of {len(self.uses)} events used, {sites} call site(s)")
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, object]:
        """What `--format json` adds to the diagnostics: the files checked and each event's uses."""
        return {
            "files": self.files,
            "events": {
                event: {
                    "emitter": self.emitter_of[event],
                    "calls": [str(u.location) for u in uses if u.called],
                    "references": [str(u.location) for u in uses if not u.called],
                }
                for event, uses in self.uses.items()
            },
        }


def _line_of(location: Location) -> str:
    return f"{location.file}:{location.line}"


def _package_of(folder: Path) -> str:
    """The dotted package a folder is, by the `__init__.py` files in it and above it ("" for none)."""
    parts: list[str] = []
    folder = folder.resolve()
    while (folder / "__init__.py").is_file() and folder.name:
        parts.append(folder.name)
        folder = folder.parent
    return ".".join(reversed(parts))


def _source_files(paths: Iterable[Path], generated_package: str) -> list[Path]:
    """The Python files to check: files given as they are, and every `*.py` below each folder given,
    leaving out hidden folders, caches, virtual environments and the generated package itself."""
    found: dict[Path, Path] = {}
    for path in paths:
        if not path.is_dir():
            found.setdefault(path.resolve(), path)
            continue
        for folder, subfolders, files in os.walk(path):
            subfolders[:] = sorted(
                name
                for name in subfolders
                if not name.startswith(".")
                and name not in _SKIPPED_FOLDERS
                and not (Path(folder, name) / "pyvenv.cfg").is_file()
                and _package_of(Path(folder, name)) != generated_package
            )
            for name in sorted(files):
                if name.endswith(".py"):
                    file = Path(folder, name)
                    found.setdefault(file.resolve(), file)
    return list(found.values())


class _FileScan:
    """The uses of one module of emitters (`<package>.events`, `<package>.feedback`) in one parsed file."""

    def __init__(self, source: _Source, emitters_module: str, public_names: Iterable[str]) -> None:
        self.lines = source.lines
        self.file = source.file
        self.emitters_module = emitters_module
        self.public_names = public_names
        self.bindings: dict[str, str] = {}  # local name → the dotted name it stands for
        self.uses: list[Use] = []
        self.imported: dict[str, Use] = {}  # local name of an imported emitter → its import
        tree, package = source.tree, source.package
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                self.bind_import(node)
            elif isinstance(node, ast.ImportFrom):
                self.bind_import_from(node, package)
        called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        used_locally: set[str] = set()
        for node, hidden in _walk_with_local_names(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                continue
            if isinstance(node, (ast.Name, ast.Attribute)):
                name = self.events_attribute(self.qualified(node, hidden))
                if name is not None:
                    self.uses.append(Use(name, self.location(node), id(node) in called))
                    if isinstance(node, ast.Name):
                        used_locally.add(node.id)
            elif (lookup := _getattr_lookup(node)) and self.qualified(lookup[0], hidden) == emitters_module:
                self.uses.append(Use(lookup[2], self.location(lookup[1]), id(node) in called))
        # An emitter imported by name and not used in its file is re-exported: the import is its use.
        self.uses += [use for local, use in self.imported.items() if local not in used_locally]

    def relevant(self, dotted: str) -> bool:
        """Whether a dotted name is the emitters module, inside it, or a package on the way to it."""
        return (dotted + ".").startswith(self.emitters_module + ".") or self.emitters_module.startswith(dotted + ".")

    def bind(self, local: str, dotted: str) -> None:
        if self.relevant(dotted):
            self.bindings[local] = dotted

    def bind_import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname is not None:
                self.bind(alias.asname, alias.name)
            else:  # `import a.b.c` binds `a`
                top = alias.name.split(".", 1)[0]
                self.bind(top, top)

    def bind_import_from(self, node: ast.ImportFrom, package: str) -> None:
        source = _absolute(node, package)
        if source is None:
            return
        for alias in node.names:
            if alias.name == "*":
                for name in self.star_names(source):
                    self.bind(name, f"{source}.{name}")
                continue
            local = alias.asname or alias.name
            self.bind(local, f"{source}.{alias.name}")
            if source == self.emitters_module:
                self.imported[local] = Use(alias.name, self.location(node), called=False)

    def star_names(self, source: str) -> Iterable[str]:
        """The names `from <source> import *` binds that matter here."""
        if source == self.emitters_module:
            return self.public_names
        package, _, module = self.emitters_module.rpartition(".")
        if source == package:
            return (module,)  # the generated package's __all__ has it
        return ()

    def qualified(self, node: ast.expr, hidden: frozenset[str]) -> str | None:
        """The dotted name an expression such as `ev.app_started` stands for, when it starts from a
        binding that no local name of its function hides."""
        attributes: list[str] = []
        while isinstance(node, ast.Attribute):
            attributes.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.bindings or node.id in hidden:
            return None
        return ".".join([self.bindings[node.id], *reversed(attributes)])

    def events_attribute(self, dotted: str | None) -> str | None:
        """The name looked up on the emitters module, when `dotted` is exactly `<module>.<name>`."""
        if dotted is None or not dotted.startswith(self.emitters_module + "."):
            return None
        name = dotted[len(self.emitters_module) + 1 :]
        return None if "." in name else name

    def location(self, node: ast.expr | ast.stmt) -> Location:
        """Where a node starts, its column counted in characters (`ast` counts UTF-8 bytes)."""
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""
        column = len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")) + 1
        return Location(self.file, node.lineno, column)


@dataclass(frozen=True)
class _Source:
    """A parsed source file, with its lines (to count columns) and its package (for relative imports)."""

    file: str
    lines: list[str]
    tree: ast.Module
    package: str


def _read(path: Path) -> _Source | Diagnostic:
    file = display_path(path)
    hint = "fix the file, or leave it out of the SRC given to code-check"
    try:
        data = path.read_bytes()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
        tree = ast.parse(text, filename=file)
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
        return Diagnostic(UNREADABLE_SOURCE, Severity.ERROR, Location(file), message, hint)
    except SyntaxError as exc:
        where = Location(file, exc.lineno or 0, (exc.offset or 0) if exc.lineno else 0)
        return Diagnostic(UNREADABLE_SOURCE, Severity.ERROR, where, f"not valid Python: {exc.msg}", hint)
    except UnicodeDecodeError as exc:
        message = f"not {exc.encoding} text (byte {exc.start})"
        return Diagnostic(UNREADABLE_SOURCE, Severity.ERROR, Location(file), message, hint)
    except (ValueError, RecursionError) as exc:  # a null byte; nesting too deep for the parser
        return Diagnostic(UNREADABLE_SOURCE, Severity.ERROR, Location(file), f"cannot be parsed: {exc}", hint)
    # Lines as the parser counts them: \f and other separators of str.splitlines do not end one.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return _Source(file, lines, tree, _package_of(path.parent))


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    """The module a `from ... import` reads, a relative one resolved from the file's package."""
    if node.level == 0:
        return node.module
    parts = package.split(".") if package else []
    if node.level > len(parts):
        return None  # above the top-level package: Python refuses it too
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def _walk_with_local_names(tree: ast.Module) -> Iterator[tuple[ast.AST, frozenset[str]]]:
    """Every node, with the names the functions around it bind themselves (parameters, assignments):
    there they hide the file's imports. Decorators, defaults and annotations belong to the outer scope."""
    stack: list[tuple[ast.AST, frozenset[str]]] = [(tree, frozenset())]
    while stack:
        node, hidden = stack.pop()
        yield node, hidden
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack += [(child, hidden) for child in ast.iter_child_nodes(node)]
            continue
        body = node.body if isinstance(node.body, list) else [node.body]
        arguments = node.args
        parameters = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        parameters += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        assigned = {
            n.id for part in body for n in ast.walk(part) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
        inner = hidden | {a.arg for a in parameters} | assigned
        stack += [(child, hidden) for child in ast.iter_child_nodes(node) if child not in body]
        stack += [(part, inner) for part in body]


def _getattr_lookup(node: ast.AST) -> tuple[ast.expr, ast.Constant, str] | None:
    """(object, the name's node, name) of `getattr(object, "name"[, default])`."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"):
        return None
    if len(node.args) < 2 or not isinstance(node.args[1], ast.Constant) or not isinstance(node.args[1].value, str):
        return None
    return node.args[0], node.args[1], node.args[1].value


def check_code(catalog: Catalog, paths: Iterable[Path], now: Now, *, allow_unused: bool) -> CodeCheck:
    """Find every use of the catalog's `events` module in the Python files at `paths`.

    `now` decides which events are expired, as the lints decide it; `allow_unused` makes an
    event that is never used an info rather than an error.
    """
    modules = emitter_modules(catalog)
    emitter_of = {
        event.name: f"{module}.{name}" for module, names in modules.items() for name, event in names.items() if event
    }
    files = _source_files(paths, catalog.app.package)
    diagnostics: list[Diagnostic] = []
    # Every event the app emits itself; the runtime sends the opt-out record, which has no emitter.
    uses: dict[str, list[Use]] = {event.name: [] for event in catalog.events if event.name in emitter_of}
    for path in files:
        source = _read(path)
        if isinstance(source, Diagnostic):
            diagnostics.append(source)
            continue
        for module, names in modules.items():
            for use in _FileScan(source, f"{catalog.app.package}.{module}", names).uses:
                if use.name.startswith("_"):
                    continue
                qualified = replace(use, name=f"{module}.{use.name}")
                if use.name not in names:
                    diagnostics.append(_unknown(qualified, catalog, emitter_of))
                elif (event := names[use.name]) is not None:
                    uses[event.name].append(qualified)
                    diagnostics += _retired(event, qualified, now)
    for event in catalog.events:
        if event.name not in uses:
            continue
        uses[event.name].sort(key=lambda use: use.location)
        if not uses[event.name] and event.deprecated is None and expiry_reached(event, now) is None:
            diagnostics.append(_unused(event, emitter_of[event.name], allow_unused))
    return CodeCheck(len(files), emitter_of, uses, sorted_diagnostics(diagnostics))


def _unknown(use: Use, catalog: Catalog, emitter_of: dict[str, str]) -> Diagnostic:
    module, name = use.name.split(".", 1)
    renamed = next(
        (e for e in catalog.events if e.renamed_from and emitter_name(e.renamed_from) == name),
        None,
    )
    close = difflib.get_close_matches(use.name, emitter_of.values(), n=1)
    if renamed is not None and renamed.name in emitter_of:
        hint = f"event {renamed.renamed_from!r} is renamed {renamed.name!r}: use {emitter_of[renamed.name]}"
    elif close:
        hint = f"did you mean {close[0]}?"
    else:
        hint = "declare the event in the catalog and build, or remove this use"
    verb = "called" if use.called else "used"
    message = f"{use.name} is {verb}, but the {module} module of {catalog.app.package} has no such name"
    return Diagnostic(UNKNOWN_NAME, Severity.ERROR, use.location, message, hint)


def _retired(event: Event, use: Use, now: Now) -> Iterator[Diagnostic]:
    """A finding when the used event is expired (an error) or deprecated (a warning)."""
    verb = "called" if use.called else "referenced"
    if (reached := expiry_reached(event, now)) is not None:
        yield Diagnostic(
            EXPIRED_USED,
            Severity.ERROR,
            use.location,
            f"{use.name} is {verb}, but event {event.name!r} {reached}; its emitter sends nothing",
            "remove this use, or move `expires` later in the catalog if the event is still needed",
        )
    elif event.deprecated is not None:
        until = "" if event.expires.never else f" before it expires ({event.expires})"
        yield Diagnostic(
            DEPRECATED_USED,
            Severity.WARNING,
            use.location,
            f"{use.name} is {verb}, but event {event.name!r} is deprecated: {event.deprecated.strip()}",
            f"follow the deprecation note and remove this use{until}",
        )


def _unused(event: Event, emitter: str, allow_unused: bool) -> Diagnostic:
    return Diagnostic(
        UNUSED,
        Severity.INFO if allow_unused else Severity.ERROR,
        event.location,
        f"event {event.name!r} is declared, but {emitter} is never called nor referenced in the code checked",
        "call it where the event happens, or remove the event from the catalog "
        "(--allow-unused accepts events not used yet)",
    )
