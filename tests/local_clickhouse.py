"""A real ClickHouse server (Debian's `clickhouse-server`) in a folder of its own, listening on a free
loopback port for HTTP only; for the tests and the benchmark. Standard library only."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from local_endpoint import unused_port

MISSING = (
    "clickhouse-server is not installed: the ClickHouse store is tested against a real server. "
    "Install Debian's package (`apt-get install clickhouse-server`; scripts/test does it as root)."
)
START_SECONDS = 120  # a first start on a loaded machine can take a while
ATTEMPTS = 3  # a free port picked may be taken by someone else before the server binds it

CONFIG = """<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>{folder}/server.log</log><errorlog>{folder}/error.log</errorlog></logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>{port}</http_port>
    <path>{folder}/data/</path>
    <tmp_path>{folder}/tmp/</tmp_path>
    <user_files_path>{folder}/user_files/</user_files_path>
    <format_schema_path>{folder}/format_schemas/</format_schema_path>
    <users_config>{folder}/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mark_cache_size>67108864</mark_cache_size>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
"""
USERS = """<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
    <users>
        <default><password></password><networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile><quota>default</quota></default>
        <writer><password>s3cret</password><networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile><quota>default</quota></writer>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval>
    </default></quotas>
</yandex>
"""


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5) as answer:
            return bool(answer.read() == b"Ok.\n")
    except OSError:
        return False


@dataclass
class ClickHouse:
    folder: Path
    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, folder: Path, port: int = 0) -> ClickHouse:
        """A server whose files are all under `folder`, on `port` (0: a free one); fails (with its
        log) if it does not start."""
        program = shutil.which("clickhouse-server")
        if program is None:
            raise RuntimeError(MISSING)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "users.xml").write_text(USERS, "utf-8")
        problem = ""
        for _ in range(ATTEMPTS if port == 0 else 1):
            port = port or unused_port()
            (folder / "config.xml").write_text(CONFIG.format(folder=folder, port=port), "utf-8")
            with (folder / "console.log").open("ab") as console:
                process = subprocess.Popen(
                    [program, f"--config-file={folder / 'config.xml'}"],
                    stdout=console,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            deadline = time.monotonic() + START_SECONDS
            while process.poll() is None and time.monotonic() < deadline:
                if _answers(port):
                    return cls(folder, port, process)
                time.sleep(0.1)
            problem = cls(folder, port, process).stop() or "it did not answer in time"
        raise RuntimeError(f"clickhouse-server did not start in {folder}: {problem}")

    def restart(self) -> ClickHouse:
        """The same server (folder and port) started again once stopped."""
        return ClickHouse.start(self.folder, self.port)

    def url(self, database: str, credentials: str = "") -> str:
        """The collector's `--store` URL for `database` on this server."""
        return f"clickhouse://{credentials}{'@' if credentials else ''}127.0.0.1:{self.port}/{database}"

    def query(self, sql: str) -> str:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/", data=sql.encode("utf-8"))
        with urllib.request.urlopen(request, timeout=60) as answer:
            return str(answer.read().decode("utf-8"))

    def stop(self) -> str:
        """Stop the server (gracefully, then not); the end of its error log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        errors = self.folder / "error.log"
        return errors.read_text("utf-8", "replace")[-2000:] if errors.exists() else ""
