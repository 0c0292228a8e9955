"""`telemetry-gen collect`, loaded only when it runs (or the commands are listed).

Its option defaults are the collector's limits, and the collector's modules import the catalog
model and the check generator: kept apart, they cost nothing to the other commands (see
`cli._Commands`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import ipaddress
import json
import logging
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from .cli import CatalogArgument, EarlierSchemas, StoreUrl, checked_registry, opened_store
from .collector.app import EVENTS_PATH, Collector, Cors, manifest
from .collector.clickhouse import ClickHouseStore
from .collector.server import listen, make_server, run
from .collector.store import DEDUP_WINDOW, FileStore
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
    store_url: StoreUrl,
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
        int,
        typer.Option(
            "--dedup-window",
            min=0,
            help="File store: how many recent event ids each process remembers to drop repeats "
            "(ClickHouse collapses repeats itself).",
        ),
    ] = DEDUP_WINDOW,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Processes serving the port together; each validates on a core of its own. "
            "With the file store each keeps its own files and --dedup-window.",
        ),
    ] = 1,
) -> None:
    """Receive events from the runtime over HTTP, validate them, and store them (partitioned JSONL or ClickHouse)."""
    catalog, schemas = checked_registry(catalog_path, earlier)
    limits = Limits(max_body_bytes=max_body_bytes, max_events=max_events, max_field_chars=max_field_chars)

    views = ""
    try:
        store = opened_store("collect", store_url, window=dedup_window)
        if isinstance(store, ClickHouseStore):
            store.create_tables(schemas.context_fields())
            created = store.create_views(schemas.by_id.values())
            views = f", a view per event version ({len(created) or 'none'} new or replaced)"
        store.write_manifest(manifest(catalog, schemas))
        sock = listen(host, port)
    except OSError as exc:
        where = exc.filename or (host if exc.errno else store_url)
        typer.echo(f"telemetry-gen collect: cannot start: {exc.strerror or exc} ({where})", err=True)
        raise typer.Exit(1) from None
    origins = tuple(cors_origin) if cors_origin else ("*",)
    cors = Cors(() if origins == ("none",) else origins)
    logging.basicConfig(level=logging.WARNING, format="telemetry-gen collect: %(message)s")
    # What is loaded by now (the catalog's checks above all) lives as long as the process: kept out
    # of the garbage collector's full passes, which each request's objects would otherwise trigger,
    # and untouched by it in forked workers, whose memory then stays shared.
    gc.freeze()
    children, counts_pipe = _fork(workers - 1)
    if counts_pipe is not None:  # a worker: its own store (its own files, connections and window)
        try:
            own_store = opened_store("collect", store_url, window=dedup_window)
            if isinstance(own_store, ClickHouseStore):  # the tables and views are there: made above
                own_store.load_columns()
            collector = Collector(schemas, own_store, limits, token, cors)
            run(make_server(collector), sock)
            os.write(counts_pipe, json.dumps(dataclasses.asdict(collector.counts)).encode())
        except BaseException:
            logging.getLogger("telemetry_gen.collector").exception("a worker process stopped")
            os._exit(1)
        os._exit(0)
    collector = Collector(schemas, store, limits, token, cors)
    bound = sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    typer.echo(f"collecting {catalog.app.title} events at http://{url_host}:{bound}{EVENTS_PATH} into {store.url}")
    remembered = f", {store.remembered} recent event ids remembered" if isinstance(store, FileStore) else ""
    processes = f", {workers} worker processes" if workers > 1 else ""
    typer.echo(f"  {len(schemas.by_id)} event schemas{remembered}{views}{processes}; Ctrl-C stops")
    if not _is_loopback(host) and token is None:
        typer.echo("warning: listening beyond this machine without --token: anyone who can reach it can send", err=True)
    run(make_server(collector), sock)
    counts = collector.counts
    for pid, pipe in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        with os.fdopen(pipe, "rb") as answer:
            told = answer.read()
        os.waitpid(pid, 0)
        if told:  # a worker that was killed tells nothing
            for name, value in json.loads(told).items():
                setattr(counts, name, getattr(counts, name) + value)
    typer.echo(
        f"collector stopped. Events stored: {counts.accepted}, duplicates dropped: {counts.duplicates}, "
        f"bad rows: {counts.bad}, requests refused: {counts.refused}"
    )


def _fork(count: int) -> tuple[list[tuple[int, int]], int | None]:
    """`count` copies of this process, serving the same listening socket. In the parent: each
    child's pid and the pipe it sends its counts back through; in a child: no children, and its
    end of that pipe."""
    children: list[tuple[int, int]] = []
    for _ in range(count):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            for _, pipe in [*children, (0, read_end)]:
                os.close(pipe)
            return [], write_end
        os.close(write_end)
        children.append((pid, read_end))
    return children, None


# A one-command app makes a single command, which `cli._Commands` hands to the command line.
command = typer.main.get_command(collect_app)
