"""`telemetry-gen init`: a starter catalog that builds cleanly, whose editor schema exists at once."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import run_cli


def test_starter_catalog_builds_without_warnings(tmp_path: Path) -> None:
    code, output = run_cli("init", str(tmp_path), "--name", "ledger-line")
    assert code == 0, output
    catalog = tmp_path / "events.yaml"
    text = catalog.read_text("utf-8")
    # The editor line points at a schema that exists before the first build, and the starter obeys it.
    first_line = text.splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=generated/catalog.schema.json"
    schema = json.loads((tmp_path / "generated" / "catalog.schema.json").read_text("utf-8"))
    jsonschema.validate(yaml.safe_load(text), schema)
    for privacy_class in ("technical", "interaction", "pseudonymous", "sensitive"):
        assert f"#   {privacy_class}" in text
    assert "never_collected:" in text
    code, output = run_cli("lint", str(catalog), "--fatal-warnings")
    assert code == 0 and "warning" not in output, output
    code, output = run_cli("build", str(catalog), "--fatal-warnings")
    assert code == 0, output
    assert (tmp_path / "generated" / "python" / "ledger_line_telemetry" / "events.py").is_file()


def test_init_never_overwrites_a_catalog(tmp_path: Path) -> None:
    (tmp_path / "events.yaml").write_text("# mine\n", "utf-8")
    code, output = run_cli("init", str(tmp_path), "--name", "ledger-line")
    assert code == 2 and "exists already" in output
    assert (tmp_path / "events.yaml").read_text("utf-8") == "# mine\n"


@pytest.mark.parametrize("name", ["LedgerLine", "ledger_line", "-ledger", "ledger--line", ""])
def test_init_wants_a_kebab_case_name(tmp_path: Path, name: str) -> None:
    code, output = run_cli("init", str(tmp_path), "--name", name)
    assert code == 2 and "kebab-case" in output
    assert not (tmp_path / "events.yaml").exists()


def test_the_starters_opt_out_block_names_the_apps_own_command_once_uncommented(tmp_path: Path) -> None:
    code, output = run_cli("init", str(tmp_path), "--name", "ledgerline")
    assert code == 0, output
    catalog = tmp_path / "events.yaml"
    lines = catalog.read_text("utf-8").splitlines()
    start = lines.index("  # opt_out:")
    block = [line.replace("  # ", "  ", 1) for line in lines[start : start + 3]]
    catalog.write_text("\n".join([*lines[:start], *block, *lines[start + 3 :]]) + "\n", "utf-8")
    code, output = run_cli("build", str(catalog), "--fatal-warnings", "--only", "docs")
    assert code == 0, output
    docs = (tmp_path / "generated" / "docs" / "index.md").read_text("utf-8")
    assert "`ledgerline telemetry disable`" in docs and "~/.config/ledgerline/config.toml" in docs
