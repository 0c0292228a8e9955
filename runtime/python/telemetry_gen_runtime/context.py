"""The values of the catalog's context fields, from the running process only.

Nothing here reads the hostname, the user name, paths or the environment.
"""

from __future__ import annotations

import platform
import re
import sys
from typing import Any

from .spec import ContextSpec

_UNSAFE = re.compile(r"[^0-9A-Za-z._+-]")
_OS_FAMILIES = (("linux", "linux"), ("darwin", "macos"), ("win32", "windows"), ("freebsd", "freebsd"))


def _token(text: str, longest: int) -> str:
    return _UNSAFE.sub("-", text)[:longest] or "unknown"


def os_family() -> str:
    return next((family for prefix, family in _OS_FAMILIES if sys.platform.startswith(prefix)), "other")


def os_version() -> str:
    if sys.platform == "darwin":
        return _token(platform.mac_ver()[0], 64)
    if sys.platform == "win32":
        return _token(platform.version(), 64)
    return _token(platform.release(), 64)


def package_version(distribution: str) -> str:
    from importlib import metadata  # slow to import; needed only at opt-in

    try:
        return _token(metadata.version(distribution), 64)
    except metadata.PackageNotFoundError:
        return "not-installed"


def context_values(
    fields: tuple[ContextSpec, ...],
    *,
    app_version: str,
    commit: str | None,
    instance_id: str,
    session_id: str,
    app_context: dict[str, Any],
) -> dict[str, Any]:
    """The context of every event: what the runtime reads, and the checked values the app gave
    (`app_context`; a field it left out is left out)."""
    implementation = platform.python_implementation()
    by_source = {
        "app_version": lambda spec: app_version,
        "app_commit": lambda spec: commit or "unknown",
        "python_version": lambda spec: platform.python_version(),
        "python_implementation": lambda spec: implementation if implementation in ("CPython", "PyPy") else "other",
        "os": lambda spec: os_family(),
        "os_version": lambda spec: os_version(),
        "machine_arch": lambda spec: _token(platform.machine(), 32),
        "instance_id": lambda spec: instance_id,
        "session_id": lambda spec: session_id,
        "package_version": lambda spec: package_version(spec.package or ""),
    }
    return {
        spec.name: app_context[spec.name] if spec.source == "app" else by_source[spec.source](spec)
        for spec in fields
        if spec.source != "app" or spec.name in app_context
    }
