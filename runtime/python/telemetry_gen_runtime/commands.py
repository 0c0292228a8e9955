"""A ready `telemetry` command for the app's own CLI: `enable [--errors-only]`, `disable`, `status`.

For argparse apps `add_argparse_command`, for typer apps `typer_app` (typer is imported only
when it is called). Both print the status afterwards, so the user sees what now holds and why.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any, Literal, TextIO

from .client import Telemetry
from .consent import level_from_environment, saved_decision
from .identity import read_id
from .spool import waiting_below
from .storage import SPOOL_FOLDER

if TYPE_CHECKING:
    import argparse

Action = Literal["enable", "disable", "status"]
_HELP = {
    "enable": "Share anonymous usage data and error reports (or only error reports with --errors-only).",
    "disable": "Stop sharing; deletes the anonymous id and anything waiting to be sent.",
    "status": "Show whether telemetry is on, what decided it, what was sent this run, and what is stored: "
    "the saved decision, the anonymous id and the events waiting to be sent.",
}
_ERRORS_ONLY_HELP = "Share error reports only, no usage data."


def run_command(client: Telemetry, action: Action, *, errors_only: bool = False, out: TextIO | None = None) -> int:
    """Carry out one telemetry sub-command and print the resulting status; the exit code."""
    out = out or sys.stdout
    if action == "enable":
        client.enable("errors" if errors_only else "all")
    elif action == "disable":
        client.disable()
    status = client.status()
    out.write(status.describe() + "\n")
    if action == "status":
        out.write("".join(line + "\n" for line in stored_state(client)))
    environment = level_from_environment(os.environ, client.app.env_prefix)
    if action != "status" and environment is not None and environment[0] != status.level:
        out.write(f"note: {environment[1]} is set, so other runs stay at '{environment[0]}' while it is.\n")
    return 0


def stored_state(client: Telemetry) -> list[str]:
    """What earlier runs left in the user-data folder, read without starting, sending or storing
    anything: so a fresh process, configured or not, shows it too."""
    folder = client.data_dir
    batches, events, size = waiting_below(folder / SPOOL_FOLDER)
    waiting = f"{batches} batch(es), {events} event(s), {size} bytes" if batches else "nothing"
    return [
        "stored in the data folder:",
        f"  saved decision: {saved_decision(folder) or 'none'}",
        f"  instance id: {read_id(folder) or 'none'}",
        f"  waiting in the spool: {waiting}",
    ]


def add_argparse_command(subparsers: Any, client: Telemetry, name: str = "telemetry") -> argparse.ArgumentParser:
    """Add `<name> enable|disable|status` to an argparse `add_subparsers()` object.

    Dispatch with `args.telemetry_handler(args)`, which returns the exit code.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help="Show or change what telemetry is shared.", description=_HELP["status"]
    )
    actions = parser.add_subparsers(dest="telemetry_action", required=True, metavar="{enable,disable,status}")
    enable = actions.add_parser("enable", help=_HELP["enable"], description=_HELP["enable"])
    enable.add_argument("--errors-only", action="store_true", help=_ERRORS_ONLY_HELP)
    actions.add_parser("disable", help=_HELP["disable"], description=_HELP["disable"])
    actions.add_parser("status", help=_HELP["status"], description=_HELP["status"])

    def handle(args: argparse.Namespace) -> int:
        return run_command(client, args.telemetry_action, errors_only=getattr(args, "errors_only", False))

    parser.set_defaults(telemetry_handler=handle)
    return parser


def typer_app(client: Telemetry) -> Any:
    """A typer app with `enable`, `disable` and `status`; add it with `app.add_typer(..., name="telemetry")`."""
    typer: Any = importlib.import_module("typer")
    app = typer.Typer(help="Show or change what telemetry is shared.", no_args_is_help=True)

    def enable(errors_only: bool = typer.Option(False, "--errors-only", help=_ERRORS_ONLY_HELP)) -> None:
        raise typer.Exit(run_command(client, "enable", errors_only=errors_only))

    def disable() -> None:
        raise typer.Exit(run_command(client, "disable"))

    def status() -> None:
        raise typer.Exit(run_command(client, "status"))

    for command in (enable, disable, status):
        app.command(help=_HELP[command.__name__])(command)
    return app
