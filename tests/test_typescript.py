"""The TypeScript side, with real tools: the runtime's own node:test suites, `tsc --strict` on the
runtime and on generated packages, and the shared corpus, on which the Python and the TypeScript
validators must both give jsonschema's verdict (and the same violations: they render one plan).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from local_collector import bad_rows, start_command, stored
from node import RUNTIME, compile_package, run, runtime
from validator_corpus import CATALOG, build

from conftest import FIXTURES, build_text, import_generated, run_cli

EXAMPLE = FIXTURES.parent.parent / "events.yaml"


def test_the_runtime_passes_its_node_test_suites() -> None:
    runtime()
    tests = sorted(str(path.relative_to(RUNTIME)) for path in (RUNTIME / "test").glob("*.test.js"))
    assert tests, "no node:test files found"
    run(["node", "--test", *tests], RUNTIME)


@pytest.fixture(scope="module")
def example_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example") / "generated"
    build_text(EXAMPLE.read_text("utf-8"), out)
    return compile_package(out / "typescript")


def test_nested_names_and_camel_case_wire_names_compile(tmp_path: Path) -> None:
    """The hardware-wallet catalog: events of three and four segments, lowerCamelCase fields."""
    out = tmp_path / "generated"
    build_text((EXAMPLE.parent / "examples" / "hardware-wallet" / "events.yaml").read_text("utf-8"), out)
    package = compile_package(out / "typescript")
    declarations = (package / "dist" / "events.d.ts").read_text("utf-8")
    assert (
        "export declare function settingsGeneralChangeLanguage(data: SettingsGeneralChangeLanguageData)" in declarations
    )


def test_the_generated_package_is_named_from_the_catalog_and_needs_only_the_runtime(example_package: Path) -> None:
    manifest = json.loads((example_package / "package.json").read_text("utf-8"))
    assert manifest["name"] == "vigilant-trader-telemetry"
    assert manifest["dependencies"] == {"telemetry-gen-runtime": "~0.1.0"}
    assert manifest["type"] == "module"
    assert (example_package / "dist" / "index.d.ts").is_file()


CONSUMER = """
import { configure, enable, disable, status, flush, events, MemorySink, HttpSink, ConsoleSink,
  EventValidationError } from "vigilant-trader-telemetry";
const sink = new MemorySink();
configure({ appVersion: "3.2.0", sinks: [sink, new ConsoleSink()], strict: true });
void [enable, disable, status, flush, HttpSink, EventValidationError];
events.appStarted({ command: "watch", interactive: true });
"""


def _consumer(folder: Path, package: Path, source: str) -> list[str]:
    """Compile `source` as an app using the package; tsc's command line and folder."""
    (folder / "node_modules").mkdir(parents=True, exist_ok=True)
    (folder / "node_modules" / "vigilant-trader-telemetry").symlink_to(package, target_is_directory=True)
    (folder / "node_modules" / "telemetry-gen-runtime").symlink_to(runtime(), target_is_directory=True)
    (folder / "app.ts").write_text(source, "utf-8")
    (folder / "package.json").write_text('{"type": "module"}', "utf-8")
    options = "--strict --noEmit --module nodenext --moduleResolution nodenext --target es2022 --types node"
    return [
        str(RUNTIME / "node_modules" / ".bin" / "tsc"),
        *options.split(),
        "--typeRoots",
        str(RUNTIME / "node_modules" / "@types"),
        "app.ts",
    ]


def test_an_app_using_the_package_is_strict_clean(example_package: Path, tmp_path: Path) -> None:
    run(_consumer(tmp_path, example_package, CONSUMER), tmp_path)


@pytest.mark.parametrize(
    "call, complaint",
    [
        ('events.appStarted({ command: "nope" })', '"nope"'),
        ("events.appStarted({ interactive: true })", "command"),
        ('events.appStarted({ command: "watch", colour: "red" })', "colour"),
    ],
)
def test_tsc_rejects_what_the_catalog_forbids(example_package: Path, tmp_path: Path, call: str, complaint: str) -> None:
    import subprocess

    command = _consumer(tmp_path, example_package, CONSUMER + call + ";\n")
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert complaint in done.stdout


CHECK_CORPUS = """
import { readFileSync } from "node:fs";
const checks = await import(process.argv[2]);
const names = JSON.parse(process.argv[3]);
const corpus = JSON.parse(readFileSync(process.argv[4], "utf-8"));
const results = corpus.map((c) => {
  const found = [];
  checks[names[c.event]](c.data, found);
  return found.map((v) => [v.field, v.code]);
});
process.stdout.write(JSON.stringify(results));
"""


def test_python_and_typescript_validators_give_jsonschemas_verdict_on_the_shared_corpus(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    catalog = build_text(CATALOG.read_text("utf-8"), out)
    corpus = build(catalog, out / "schemas")
    assert sum(case["valid"] for case in corpus) > 50 and sum(not case["valid"] for case in corpus) > 500
    (tmp_path / "corpus.json").write_text(json.dumps(corpus), "utf-8")

    package = import_generated(out, "all_types_telemetry")
    python_checks = {name: spec.check_data for name, spec in package.EVENTS.items()}
    python_checks["context"] = package._catalog.APP.check_context
    python = [[[v.field, v.code] for v in python_checks[case["event"]](case["data"])] for case in corpus]

    compiled = compile_package(out / "typescript")
    names = {event.name: f"check_{event.identifier}" for event in catalog.events} | {"context": "check_context"}
    (tmp_path / "check.mjs").write_text(CHECK_CORPUS, "utf-8")
    checks_module = (compiled / "dist" / "checks.js").as_uri()
    output = run(["node", "check.mjs", checks_module, json.dumps(names), str(tmp_path / "corpus.json")], tmp_path)
    typescript = json.loads(output)

    for case, in_python, in_typescript in zip(corpus, python, typescript, strict=True):
        shown = json.dumps(case, ensure_ascii=False)
        assert (not in_python) == case["valid"], f"Python disagrees with jsonschema on {shown}: {in_python}"
        assert (not in_typescript) == case["valid"], f"TypeScript disagrees with jsonschema on {shown}: {in_typescript}"
        assert sorted(in_python) == sorted(in_typescript), f"the violations differ on {shown}"


COPY = """
import { configure, events, flush, MemorySink } from "all-types-telemetry";
const sink = new MemorySink();
sink.background = true; // handed over after the emitting code has run
configure({ appVersion: "3.2.0", sinks: [sink], consent: "all", strict: true, dataDir: process.argv[2] });
const details = { kind: "a", ok: true, items: [1], names: ["x"], skipped: undefined };
const data = { details, count: 1, [Symbol("local")]: 1 };
events.shapesNested(data);
details.kind = "b";
details.items.push(2);
details.names[0] = "y";
data.count = 3;
data.added = true;
await flush();
const [sent] = sink.events.map((envelope) => envelope.data);
process.stdout.write(JSON.stringify({ sent, symbols: Object.getOwnPropertySymbols(sent).length }));
"""


def run_with_the_corpus_package(tmp_path: Path, script: str) -> Any:
    """What `script` prints (JSON), run as a Node app using the corpus catalog's generated package."""
    out = tmp_path / "generated"
    build_text(CATALOG.read_text("utf-8"), out)
    package = compile_package(out / "typescript")
    app = tmp_path / "app"
    (app / "node_modules").mkdir(parents=True)
    (app / "node_modules" / "all-types-telemetry").symlink_to(package, target_is_directory=True)
    (app / "app.mjs").write_text(script, "utf-8")
    return json.loads(run(["node", "app.mjs", str(tmp_path / "user-data")], app))


def test_what_is_sent_is_what_the_generated_check_read_not_the_apps_later_changes(tmp_path: Path) -> None:
    output = run_with_the_corpus_package(tmp_path, COPY)
    sent = {"details": {"kind": "a", "ok": True, "names": ["x"], "items": [1]}, "count": 1}
    assert output == {"sent": sent, "symbols": 0}


UNDECLARED = """
import { configure, events, EventValidationError, status } from "all-types-telemetry";
const data = { details: { kind: "a", ok: true, items: [1], names: ["x"] }, count: 1 };
for (let index = 0; index < 200000; index++) data[`extra${index}`] = index;
const settings = { appVersion: "3.2.0", sinks: [], consent: "all", dataDir: process.argv[2] };
configure({ ...settings, strict: true });
let thrown = "";
try {
  events.shapesNested(data);
} catch (error) {
  thrown = error instanceof EventValidationError ? "EventValidationError" : String(error);
}
configure({ ...settings, strict: false });
events.shapesNested(data);
process.stdout.write(JSON.stringify({ thrown, dropped: status().dropped }));
"""


def test_an_event_with_more_undeclared_fields_than_a_call_takes_arguments_is_refused_not_crashed_on(
    tmp_path: Path,
) -> None:
    output = run_with_the_corpus_package(tmp_path, UNDECLARED)
    assert output == {"thrown": "EventValidationError", "dropped": {"shapes/nested: undeclared field": 1}}


SEND = """
import { configure, enable, events, flush, HttpSink, status } from "vigilant-trader-telemetry";
const [endpoint, dataDir] = process.argv.slice(2);
configure({ appVersion: "3.2.0", sinks: [new HttpSink(endpoint)], dataDir });
enable();
events.appStarted({ command: "watch", interactive: true });
events.commandInvoked({ command: "evaluate" });
const delivered = await flush(20000);
process.stdout.write(JSON.stringify({ delivered, dropped: status().dropped }));
"""


def _app_folder(folder: Path, package: Path, script: str) -> Path:
    modules = folder / "node_modules"
    modules.mkdir(parents=True)
    (modules / "vigilant-trader-telemetry").symlink_to(package, target_is_directory=True)
    (folder / "send.mjs").write_text(script, "utf-8")
    return folder


def test_a_node_app_sends_through_the_runtime_to_the_collector_and_report_shows_the_events(
    example_package: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "collected"
    process, url = start_command(data_dir)
    try:
        app = _app_folder(tmp_path / "app", example_package, SEND)
        output = run(["node", "send.mjs", url, str(tmp_path / "user-data")], app, timeout=120)
    finally:
        process.terminate()
        process.wait(30)
    assert json.loads(output) == {"delivered": True, "dropped": {}}
    assert sorted(row["event"] for row in stored(data_dir)) == ["app/started", "command/invoked"]
    assert bad_rows(data_dir) == []
    code, report = run_cli("report", "--data-dir", str(data_dir))
    assert code == 0
    assert "app/started" in report and "command/invoked" in report
