"""Earlier catalogs, read straight from git (`git show REF:path`): the work tree is never touched."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..catalog import parse_catalog
from ..catalog.model import Catalog
from ..diagnostics import Diagnostic


class GitError(Exception):
    """git is missing, the folder is not in a repository, or a ref or file does not exist."""


def _git(folder: Path, *args: str) -> bytes:
    try:
        result = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"`git {' '.join(args)}` did not finish within 60 seconds") from None
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(reason[-1] if reason else f"`git {' '.join(args)}` failed")
    return result.stdout


def _repository(folder: Path) -> None:
    try:
        _git(folder, "rev-parse", "--git-dir")
    except GitError:
        raise GitError(f"{folder.as_posix()} is not inside a git repository") from None


def _checked_ref(folder: Path, ref: str) -> str:
    _repository(folder)
    if not ref or ref.startswith("-") or ":" in ref:
        raise GitError(f"{ref!r} is not a git ref")
    try:
        _git(folder, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except GitError:
        raise GitError(f"unknown git ref {ref!r} (fetch tags with `git fetch --tags` in CI)") from None
    return ref


def _show(folder: Path, ref: str, name: str) -> str:
    """The text of file `name` of `folder` as committed at `ref`, a ref known to be good."""
    try:
        data = _git(folder, "show", "--end-of-options", f"{ref}:./{name}")
    except GitError:
        raise GitError(f"{name} does not exist at {ref}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise GitError(f"{name} at {ref} is not UTF-8 text") from None


def read_file(ref: str, path: Path) -> str:
    """The text of `path` (a file in the work tree) as it was committed at `ref`, a ref the user gave."""
    _checked_ref(path.parent, ref)
    return _show(path.parent, ref, path.name)


def last_tag(folder: Path) -> str:
    """The newest tag reachable from HEAD."""
    _repository(folder)
    try:
        return _git(folder, "describe", "--tags", "--abbrev=0").decode("utf-8").strip()
    except GitError as exc:
        raise GitError(f"no tag to compare with ({exc}); pass --base REF or --base-file PATH") from None


def tags(folder: Path, pattern: str) -> list[str]:
    """Tags matching `pattern` that HEAD contains, oldest version first."""
    _repository(folder)
    output = _git(folder, "tag", "--list", "--sort=v:refname", "--merged", "HEAD", pattern).decode("utf-8")
    return [line.strip() for line in output.splitlines() if line.strip()]


def catalog_at(ref: str, path: Path) -> tuple[Catalog | None, list[Diagnostic]]:
    """The catalog at `path` as committed at `ref`; its diagnostics name the file `REF:name`."""
    return parse_catalog(read_file(ref, path), f"{ref}:{path.name}")


def catalog_at_tag(tag: str, path: Path) -> tuple[Catalog | None, list[Diagnostic]]:
    """`catalog_at` for a tag `tags()` listed: the repository and the tag are not checked again."""
    return parse_catalog(_show(path.parent, tag, path.name), f"{tag}:{path.name}")
