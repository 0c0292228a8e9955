"""`telemetry-gen collect`, loaded only when it runs (or the commands are listed).

Its option defaults are the collector's limits, and the collector's modules import the catalog
model and the check generator: kept apart, they cost nothing to the other commands (see
`cli._Commands`).
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import Annotated

import typer

from .cli import CatalogArgument, DataDir, EarlierSchemas, checked_registry
from .collector.app import EVENTS_PATH, Collector, Cors, manifest
from .collector.server import listen, make_server, run
from .collector.store import DEDUP_WINDOW, Store
from .collector.wire import Limits

collect_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@collect_app.command()
def collect(
    catalog_path: CatalogArgument = Path("events.yaml"),
    *,
    data_dir: DataDir,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")] = 8787,
    earlier: EarlierSchemas = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="TELEMETRY_GEN_COLLECT_TOKEN",
            help="Require `Authorization: Bearer TOKEN` (prefer the variable: arguments are visible to others).",
            show_default=False,
        ),
    ] = None,
    max_body_bytes: Annotated[int, typer.Option("--max-body-bytes", min=1, help="Largest body as sent.")] = (
        Limits.max_body_bytes
    ),
    max_events: Annotated[int, typer.Option("--max-events", min=1, help="Most events in one batch.")] = (
        Limits.max_events
    ),
    max_field_chars: Annotated[
        int, typer.Option("--max-field-chars", min=1, help="Longest string or key (never below the catalog's).")
    ] = Limits.max_field_chars,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help="Web page origin allowed to send from a browser (repeat for more); default *, any page; "
            "`none`: no browser sends from another origin.",
            show_default=False,
        ),
    ] = None,
    dedup_window: Annotated[
        int, typer.Option("--dedup-window", min=0, help="How many recent event ids are remembered to drop repeats.")
    ] = DEDUP_WINDOW,
) -> None:
    """Receive events from the runtime over HTTP, validate them, and store them as partitioned JSONL."""
    catalog, schemas = checked_registry(catalog_path, earlier)
    limits = Limits(max_body_bytes=max_body_bytes, max_events=max_events, max_field_chars=max_field_chars)
    try:
        store = Store(data_dir, dedup_window)
        store.write_manifest(manifest(catalog, schemas))
        sock = listen(host, port)
    except OSError as exc:
        typer.echo(f"telemetry-gen collect: cannot start: {exc.strerror or exc} ({exc.filename or host})", err=True)
        raise typer.Exit(1) from None
    origins = tuple(cors_origin) if cors_origin else ("*",)
    collector = Collector(schemas, store, limits, token, Cors(() if origins == ("none",) else origins))
    bound = sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    typer.echo(f"collecting {catalog.app.title} events at http://{url_host}:{bound}{EVENTS_PATH} into {data_dir}")
    typer.echo(f"  {len(schemas.by_id)} event schemas, {store.remembered} recent event ids remembered; Ctrl-C stops")
    if not _is_loopback(host) and token is None:
        typer.echo("warning: listening beyond this machine without --token: anyone who can reach it can send", err=True)
    logging.basicConfig(level=logging.WARNING, format="telemetry-gen collect: %(message)s")
    run(make_server(collector), sock)
    counts = collector.counts
    typer.echo(
        f"collector stopped. Events stored: {counts.accepted}, duplicates dropped: {counts.duplicates}, "
        f"bad rows: {counts.bad}, requests refused: {counts.refused}"
    )


# A one-command app makes a single command, which `cli._Commands` hands to the command line.
command = typer.main.get_command(collect_app)
