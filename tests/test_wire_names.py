"""Field names as the wire has them: the hardware-wallet catalog names its fields as its backend
expects (`outputsCount`, `isCoinControlEnabled`); Python code passes them in snake_case, and
everything that leaves the app, or describes what does, keeps the catalog's name."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import jsonschema
import pydantic
import pytest
from local_collector import collector, stored
from local_endpoint import FAST

from conftest import HARDWARE_WALLET, arguments, import_generated, run_cli
from telemetry_gen.catalog.model import EVENT_NAME, FIELD_NAME, Catalog, Category, python_name
from telemetry_gen.catalog.validate import catalog_meta_schema
from telemetry_gen.collector.schemas import load_earlier, registry

PACKAGE = "hardware_wallet_telemetry"
# What the app gives at start-up: the context fields with `source: app`.
CONTEXT = {"platform": "web"}

# A transaction as the send form reports it, in the emitter's keywords.
TRANSACTION = {
    "action": "sent",
    "symbol": "btc",
    "outputs_count": 2,
    "broadcast": True,
    "bitcoin_lock_time": False,
    "ethereum_data": False,
    "ripple_destination_tag": False,
    "selected_fee": "normal",
    "is_coin_control_enabled": True,
    "has_coin_control_been_opened": True,
}
TRANSACTION_WIRE_KEYS = {
    "action",
    "symbol",
    "outputsCount",
    "broadcast",
    "bitcoinLockTime",
    "ethereumData",
    "rippleDestinationTag",
    "selectedFee",
    "isCoinControlEnabled",
    "hasCoinControlBeenOpened",
}


@pytest.fixture(scope="module")
def catalog(hardware_wallet: Catalog) -> Catalog:
    return hardware_wallet


@pytest.fixture(scope="module")
def built(hardware_wallet_build: Path) -> Path:
    return hardware_wallet_build


@pytest.fixture
def package(built: Path) -> ModuleType:
    return import_generated(built, PACKAGE)


def test_emitters_take_snake_case_keywords_and_send_the_wire_keys(
    catalog: Catalog, built: Path, package: ModuleType, tmp_path: Path
) -> None:
    sink = package.MemorySink()
    package.configure(
        app_version="24.4.1", sinks=[sink], strict=True, data_dir=tmp_path, consent="all", context=CONTEXT
    )
    package.events.send_transaction_created(**TRANSACTION)
    assert set(sink.events[0]["data"]) == TRANSACTION_WIRE_KEYS
    assert sink.events[0]["data"]["outputsCount"] == 2
    assert "is_coin_control_enabled" in inspect.signature(package.events.send_transaction_created).parameters

    emitted = [e for e in catalog.events if e.category in (Category.USAGE, Category.ERRORS)]
    for event in emitted:  # every emitter, every field given: the data holds exactly the wire names
        getattr(package.events, event.identifier)(**arguments(event.fields))
    for envelope, event in zip(sink.events[1:], emitted, strict=True):
        assert set(envelope["data"]) == {f.name for f in event.fields}, event.name
        schema = json.loads((built / "schemas" / f"{event.name}.v1.schema.json").read_text("utf-8"))
        jsonschema.validate(json.loads(json.dumps(envelope)), schema)
    setup = next(e for e in sink.events if e["event"] == "device/setup-completed")
    assert "seedType" in setup["data"]["onboarding"]  # a nested object is passed, and sent, with its wire keys


def test_the_backend_receives_the_wire_keys_over_http(catalog: Catalog, package: ModuleType, tmp_path: Path) -> None:
    """A real collector on 127.0.0.1, serving this catalog, validates and stores what the emitters send."""
    schemas, problems = registry(catalog)
    assert problems == []
    with collector(tmp_path / "collected", schemas=schemas) as running:
        sink = package.HttpSink(running.url, **FAST)
        package.configure(app_version="24.4.1", sinks=[sink], data_dir=tmp_path / "app", consent="all", context=CONTEXT)
        package.events.send_transaction_created(**TRANSACTION)
        package.events.settings_general_change_language(
            previous_language="en", previous_autodetect_language=True, language="cs", autodetect_language=False
        )
        assert package.flush(10.0)
        assert running.app.counts.accepted == 2
    events = {e["event"]: e for e in stored(tmp_path / "collected")}
    assert set(events["send/transaction/created"]["data"]) == TRANSACTION_WIRE_KEYS
    assert events["settings/general/change-language"]["data"] == {
        "previousLanguage": "en",
        "previousAutodetectLanguage": True,
        "language": "cs",
        "autodetectLanguage": False,
    }
    assert set(events["send/transaction/created"]["context"]) == {
        "suiteVersion",
        "osName",
        "osVersion",
        "instanceId",
        "sessionId",
        "platform",
    }
    assert events["send/transaction/created"]["context"]["platform"] == "web"
    assert not (tmp_path / "collected" / "bad").exists()


def test_a_violation_names_the_field_as_the_wire_has_it(package: ModuleType, tmp_path: Path) -> None:
    package.configure(
        app_version="24.4.1",
        sinks=[package.MemorySink()],
        strict=True,
        data_dir=tmp_path,
        consent="all",
        context=CONTEXT,
    )
    with pytest.raises(package.EventValidationError) as raised:
        package.events.send_transaction_created(**{**TRANSACTION, "outputs_count": 0})
    assert [(v.field, v.code) for v in raised.value.violations] == [("outputsCount", "minimum")]
    with pytest.raises(package.EventValidationError) as raised:
        package.events.device_setup_completed(
            duration=300, model="T3T1", onboarding={"firmware": "skip", "seed": "create", "seedType": "7-words"}
        )
    assert [(v.field, v.code) for v in raised.value.violations] == [("onboarding.seedType", "enum")]


def test_schemas_and_docs_keep_the_wire_names(catalog: Catalog, built: Path) -> None:
    schema = json.loads((built / "schemas/send/transaction/created.v1.schema.json").read_text("utf-8"))
    assert set(schema["properties"]["data"]["properties"]) == TRANSACTION_WIRE_KEYS
    assert schema["properties"]["data"]["required"] == sorted(TRANSACTION_WIRE_KEYS)
    assert set(schema["$defs"]["context"]["properties"]) == {c.name for c in catalog.context}
    page = (built / "docs/events/send.md").read_text("utf-8")
    html = (built / "docs/one-page.html").read_text("utf-8")
    for event in catalog.events:
        for field in event.fields:
            assert f"`{field.name}`" in (built / f"docs/events/{event.domain}.md").read_text("utf-8")
            assert f"<code>{field.name}</code>" in html
    assert "`outputsCount`" in page and "outputs_count" not in page and "outputs_count" not in html


def test_the_package_passes_mypy_strict_and_mypy_holds_apps_to_the_keywords(built: Path, tmp_path: Path) -> None:
    python_dir = built / "python"
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache")]
    result = subprocess.run([*mypy, PACKAGE], cwd=python_dir, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    usage = tmp_path / "app_code.py"
    call = ", ".join(f"{keyword}={value!r}" for keyword, value in TRANSACTION.items())
    usage.write_text(
        f"from {PACKAGE} import events\n\n"
        f"events.send_transaction_created({call})\n"
        "events.send_raw_transaction(networkSymbol='btc')  # the wire name is no keyword: mypy must reject it\n",
        "utf-8",
    )
    result = subprocess.run(
        [*mypy, str(usage)], cwd=python_dir, capture_output=True, text=True, env={"MYPYPATH": str(python_dir)}
    )
    assert result.returncode == 1 and 'Unexpected keyword argument "networkSymbol"' in result.stdout, result.stdout
    assert result.stdout.count("error:") == 1, result.stdout


def test_fields_with_one_python_name_are_a_located_error(tmp_path: Path) -> None:
    text = HARDWARE_WALLET.read_text("utf-8").replace(
        "      outputsCount:\n",
        "      outputs_count:\n        type: boolean\n        description: The same key, in the other style.\n"
        "        privacy: technical\n      outputsCount:\n",
    )
    catalog = tmp_path / "events.yaml"
    catalog.write_text(text, "utf-8")
    code, output = run_cli("build", str(catalog), "--out", str(tmp_path / "out"))
    assert code == 1 and not (tmp_path / "out").exists()
    line = text.splitlines().index("      outputsCount:") + 1
    assert f"events.yaml:{line}:7: error CF034: fields 'outputs_count' and 'outputsCount' of event " in output, output
    assert "both become the Python name 'outputs_count'" in output


@pytest.mark.parametrize(
    ("name", "python"),
    [
        ("outputsCount", "outputs_count"),
        ("isCoinControlEnabled", "is_coin_control_enabled"),
        ("isHTTPEnabled", "is_http_enabled"),
        ("utxo2Count", "utxo2_count"),
        ("outputs_count", "outputs_count"),
        ("tor", "tor"),
    ],
)
def test_python_name(name: str, python: str) -> None:
    assert python_name(name) == python


# ---------------------------------------------------------------------------------- consumer models


@pytest.fixture(scope="module")
def models(built: Path) -> Iterator[ModuleType]:
    name = f"{PACKAGE}_models"
    spec = importlib.util.spec_from_file_location(name, built / f"models/{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves generic models through sys.modules
    spec.loader.exec_module(module)
    yield module
    del sys.modules[name]


def test_models_read_the_wire_json_into_snake_case_attributes(
    catalog: Catalog, models: ModuleType, package: ModuleType, tmp_path: Path
) -> None:
    sink = package.MemorySink()
    package.configure(
        app_version="24.4.1", sinks=[sink], strict=True, data_dir=tmp_path, consent="all", context=CONTEXT
    )
    package.events.send_transaction_created(**TRANSACTION)
    package.events.device_setup_completed(
        duration=300, model="T3T1", onboarding={"firmware": "skip", "seed": "create", "seedType": "24-words"}
    )
    transaction, setup = (json.loads(json.dumps(e)) for e in sink.events)

    parsed = models.SendTransactionCreated.model_validate_json(json.dumps(transaction))
    assert parsed.data.outputs_count == 2 and parsed.data.is_coin_control_enabled is True
    assert parsed.context.instance_id == transaction["context"]["instanceId"]
    assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == transaction
    assert models.DeviceSetupCompleted.model_validate(setup).data.onboarding.seed_type == "24-words"

    snake = {**transaction, "data": {python_name(key): value for key, value in transaction["data"].items()}}
    with pytest.raises(pydantic.ValidationError):  # the attribute names are not wire keys
        models.SendTransactionCreated.model_validate(snake)


def test_the_catalog_format_and_the_model_agree_on_names() -> None:
    definitions = catalog_meta_schema()["$defs"]
    assert definitions["field_name"]["pattern"] == FIELD_NAME.pattern
    assert definitions["event"]["properties"]["renamed_from"]["pattern"] == EVENT_NAME.pattern


def test_the_collector_refuses_an_earlier_schema_whose_fields_share_a_python_name(built: Path, tmp_path: Path) -> None:
    """Their checks would share constants; a build never writes such a schema, so it was edited."""
    schema = json.loads((built / "schemas/send/transaction/created.v1.schema.json").read_text("utf-8"))
    data = schema["properties"]["data"]["properties"]
    data["outputs_count"] = data["outputsCount"]
    (tmp_path / "created.v1.schema.json").write_text(json.dumps(schema), "utf-8")
    schemas, problems = load_earlier(tmp_path)
    assert schemas == []
    assert [(d.code, d.location.file) for d in problems] == [
        ("CL001", (tmp_path / "created.v1.schema.json").as_posix())
    ]
    assert "'outputsCount' and 'outputs_count' have one Python name" in problems[0].message


def test_history_names_fields_as_the_catalog_does(tmp_path: Path) -> None:
    text = HARDWARE_WALLET.read_text("utf-8").replace('  version: "1.0"\n', '  version: "1.1"\n', 1)
    text += (
        "\nhistory:\n"
        '  "1.1":\n'
        "    - change: field-removed\n"
        "      event: send/transaction/created\n"
        "      field: ethereumNonce\n"
        "    - change: field-privacy-raised\n"
        "      event: device/setup-completed\n"
        "      field: onboarding.seedType\n"
    )
    catalog = tmp_path / "events.yaml"
    catalog.write_text(text, "utf-8")
    code, output = run_cli("lint", str(catalog), "--fatal-warnings")
    assert code == 0, output
