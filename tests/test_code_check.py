"""`telemetry-gen code-check`: where an app's code calls each emitter, read from real source trees."""

from __future__ import annotations

import datetime
import json
import shutil
import textwrap
from pathlib import Path

import pytest

from conftest import EXPIRING, build_text, run_cli

# Every event of the test catalog, with what is special about it.
CATALOG = (
    EXPIRING
    + """\
  app/mode-shown:
    description: The mode banner was shown; replaced by the mode field of app/started.
    trigger: When the banner appears.
    category: usage
    owner: core-team
    since: "1.0"
    deprecated: Send app/started with its mode field instead.
    expires: "2030-12-31"
  app/settings-saved:
    description: The settings were saved; shows which groups users change.
    trigger: When the user saves the settings dialog.
    category: usage
    owner: core-team
    since: "1.0"
    renamed_from: app/prefs-saved
    fields:
      groups:
        type: object
        description: Which settings groups changed.
        privacy: interaction
        required: true
        fields:
          display:
            type: boolean
            description: Whether the display group changed.
            privacy: interaction
            required: true
"""
)
EVERY_EVENT = """\
from demo_app_telemetry import events

events.app_started(mode="cli")
events.app_legacy_started()
events.app_trial_shown()
events.app_mode_shown()
events.app_settings_saved(groups={"display": True})
"""


def day(year: int, month: int, day: int) -> str:
    """SOURCE_DATE_EPOCH for a day, which the expiry checks take as today."""
    return str(int(datetime.datetime(year, month, day, tzinfo=datetime.timezone.utc).timestamp()))


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", day(2026, 1, 15))


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), "utf-8")
    return root


@pytest.fixture
def project(chdir_tmp: Path) -> Path:
    """A folder with the catalog as events.yaml; the tests write the app's source beside it."""
    (chdir_tmp / "events.yaml").write_text(CATALOG, "utf-8")
    return chdir_tmp


def code_check(*args: str) -> tuple[int, dict[str, object]]:
    code, output = run_cli("code-check", "events.yaml", *args, "--format", "json")
    return code, json.loads(output)


def codes(document: dict[str, object]) -> list[tuple[str, str]]:
    diagnostics = document["diagnostics"]
    assert isinstance(diagnostics, list)
    return [(d["code"], d["location"]) for d in diagnostics]


def uses(document: dict[str, object], event: str) -> dict[str, list[str]]:
    events = document["events"]
    assert isinstance(events, dict)
    found: dict[str, list[str]] = events[event]
    return found


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        ("import demo_app_telemetry.events", "demo_app_telemetry.events.app_started"),
        ("import demo_app_telemetry", "demo_app_telemetry.events.app_started"),
        ("import demo_app_telemetry as tel", "tel.events.app_started"),
        ("import demo_app_telemetry.events as ev", "ev.app_started"),
        ("from demo_app_telemetry import events", "events.app_started"),
        ("from demo_app_telemetry import events as ev", "ev.app_started"),
        ("from demo_app_telemetry.events import app_started", "app_started"),
        ("from demo_app_telemetry.events import app_started as started", "started"),
        ("from demo_app_telemetry.events import *", "app_started"),
        ("from demo_app_telemetry import *", "events.app_started"),
        ("def main():\n    from demo_app_telemetry import events as ev", "    ev.app_started"),
    ],
)
def test_every_import_form_leads_to_the_emitter(project: Path, imports: str, call: str) -> None:
    write_tree(project, {"app/main.py": f'{imports}\n{call}(mode="cli")\n'})
    code, document = code_check("app", "--allow-unused")
    assert code == 0, document
    line = imports.count("\n") + 2
    column = len(call) - len(call.lstrip()) + 1
    assert uses(document, "app/started") == {
        "emitter": "events.app_started",
        "calls": [f"app/main.py:{line}:{column}"],
        "references": [],
    }
    assert codes(document) == [("CC001", f"events.yaml:{n}:3") for n in (24, 31, 46)]


def test_a_passed_or_wrapped_emitter_counts_as_referenced(project: Path) -> None:
    write_tree(
        project,
        {
            "app/hooks.py": """\
                import functools
                from demo_app_telemetry import events as ev
                from demo_app_telemetry.events import app_trial_shown as shown

                started_in_cli = functools.partial(ev.app_started, mode="cli")
                HANDLERS = {"legacy": ev.app_legacy_started}
                register(shown)

                @on_save(ev.app_settings_saved)
                def save():
                    pass

                emit = getattr(ev, "app_mode_shown")
                """,
        },
    )
    code, document = code_check("app", "--allow-unused")
    assert codes(document) == [("CC003", "app/hooks.py:13:20")]  # app/mode-shown is deprecated: a warning
    assert code == 0
    assert uses(document, "app/started")["references"] == ["app/hooks.py:5:36"]
    assert uses(document, "app/legacy-started")["references"] == ["app/hooks.py:6:23"]
    assert uses(document, "app/trial-shown")["references"] == ["app/hooks.py:7:10"]
    assert uses(document, "app/settings-saved")["references"] == ["app/hooks.py:9:10"]
    assert all(not uses(document, event)["calls"] for event in ("app/started", "app/trial-shown"))


def test_an_emitter_imported_by_name_and_not_used_there_is_re_exported(project: Path) -> None:
    write_tree(project, {"app/telemetry.py": "from demo_app_telemetry.events import app_started, app_trial_shown\n"})
    code, document = code_check("app", "--allow-unused")
    assert code == 0
    assert uses(document, "app/started")["references"] == ["app/telemetry.py:1:1"]


def test_names_the_events_module_does_not_have_fail(project: Path) -> None:
    write_tree(
        project,
        {
            "app/main.py": """\
                from demo_app_telemetry import events as ev
                from demo_app_telemetry.events import app_crashed

                ev.app_startd(mode="cli")
                ev.app_prefs_saved(groups={})
                handler = ev.totally_unrelated
                groups: ev.AppSettingsSavedGroups = {"display": True}
                ev.__name__, ev._emit
                """,
            "app/other.py": "import os\nos.path.join('a')\nevents = None\nevents.app_started\n",
        },
    )
    code, output = run_cli("code-check", "events.yaml", "app", "--allow-unused")
    assert code == 1
    assert "app/main.py:4:1: error CC002: events.app_startd is called, but the events module of " in output
    assert "    hint: did you mean events.app_started?" in output
    assert "app/main.py:5:1: error CC002: events.app_prefs_saved is called" in output
    assert "hint: event 'app/prefs-saved' is renamed 'app/settings-saved': use events.app_settings_saved" in output
    assert "app/main.py:6:11: error CC002: events.totally_unrelated is used" in output
    assert "app/main.py:2:1: error CC002: events.app_crashed is used" in output
    # The TypedDict of an object field is a name of the module; private names are not checked.
    assert output.count("CC002") == 4
    assert "app/other.py" not in output


def test_an_event_never_used_fails_unless_allowed(project: Path) -> None:
    write_tree(project, {"app/main.py": EVERY_EVENT.replace("events.app_trial_shown()\n", "")})
    code, output = run_cli("code-check", "events.yaml", "app")
    assert code == 1
    assert (
        "events.yaml:31:3: error CC001: event 'app/trial-shown' is declared, but events.app_trial_shown is " in output
    )
    assert "app/trial-shown (events.app_trial_shown): not used" in output
    code, output = run_cli("code-check", "events.yaml", "app", "--allow-unused")
    assert code == 0
    assert "events.yaml:31:3: info CC001:" in output


def test_deprecated_and_expired_events_are_never_reported_unused(project: Path) -> None:
    write_tree(project, {"app/main.py": 'from demo_app_telemetry import events\nevents.app_started(mode="cli")\n'})
    _, document = code_check("app", "--app-version", "2.0")
    unused = [location for code, location in codes(document) if code == "CC001"]
    # app/legacy-started expired with 2.0 and app/mode-shown is deprecated; both may go unused.
    assert unused == ["events.yaml:31:3", "events.yaml:46:3"]


def test_a_deprecated_event_still_called_warns(project: Path) -> None:
    write_tree(project, {"app/main.py": EVERY_EVENT})
    code, output = run_cli("code-check", "events.yaml", "app")
    assert code == 0, output
    assert (
        "app/main.py:6:1: warning CC003: events.app_mode_shown is called, but event 'app/mode-shown' is deprecated: "
        "Send app/started with its mode field instead." in output
    )
    assert "hint: follow the deprecation note and remove this use before it expires (2030-12-31)" in output
    code, _ = run_cli("code-check", "events.yaml", "app", "--fatal-warnings")
    assert code == 1


def test_an_expired_event_still_called_fails(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(project, {"app/main.py": EVERY_EVENT})
    code, document = code_check("app")
    assert code == 0 and codes(document) == [("CC003", "app/main.py:6:1")]

    code, document = code_check("app", "--app-version", "2.0.1")
    assert code == 1
    assert codes(document) == [("CC004", "app/main.py:4:1"), ("CC003", "app/main.py:6:1")]
    diagnostics = document["diagnostics"]
    assert isinstance(diagnostics, list)
    assert diagnostics[0]["message"] == (
        "events.app_legacy_started is called, but event 'app/legacy-started' expired with app version 2.0 "
        "(this is 2.0.1); its emitter sends nothing"
    )

    monkeypatch.setenv("SOURCE_DATE_EPOCH", day(2031, 1, 1))
    code, document = code_check("app")
    assert code == 1
    # Expired events are errors, and an expired deprecated event is reported as expired.
    assert codes(document) == [("CC004", "app/main.py:5:1"), ("CC004", "app/main.py:6:1")]


def test_json_output_lists_every_event_with_its_calls_and_references(project: Path) -> None:
    write_tree(project, {"app/main.py": EVERY_EVENT + "again = events.app_started\n"})
    code, document = code_check("app")
    assert code == 0
    assert set(document) == {"diagnostics", "errors", "warnings", "catalog", "ok", "files", "events"}
    assert document["ok"] is True and document["errors"] == 0 and document["warnings"] == 1
    assert document["files"] == 1 and document["catalog"] == "events.yaml"
    assert uses(document, "app/started") == {
        "emitter": "events.app_started",
        "calls": ["app/main.py:3:1"],
        "references": ["app/main.py:8:9"],
    }
    events = document["events"]
    assert isinstance(events, dict) and len(events) == 5


def test_text_output_summarises_the_call_sites(project: Path) -> None:
    write_tree(
        project, {"app/main.py": EVERY_EVENT, "app/cli.py": EVERY_EVENT.replace("events.app_mode_shown()\n", "")}
    )
    code, output = run_cli("code-check", "events.yaml", "app")
    assert code == 0
    assert "app/started (events.app_started): 2 call(s): app/cli.py:3, app/main.py:3\n" in output
    assert "2 file(s) checked: 5 of 5 events used, 9 call site(s)" in output


def test_the_catalog_defaults_to_events_yaml(project: Path) -> None:
    write_tree(project, {"app/main.py": EVERY_EVENT})
    code, output = run_cli("code-check", "app/main.py")
    assert code == 0, output
    assert "1 file(s) checked: 5 of 5 events used" in output


def test_a_missing_catalog_or_source_is_a_usage_error(project: Path) -> None:
    write_tree(project, {"app/main.py": EVERY_EVENT})
    code, output = run_cli("code-check", "missing.yaml", "app")
    assert code == 2 and "missing.yaml" in output
    code, output = run_cli("code-check", "events.yaml", "nowhere")
    assert code == 2 and "no such file or folder: nowhere" in output
    code, output = run_cli("code-check", "events.yaml")
    assert code == 2 and "SRC" in output


def test_a_file_that_cannot_be_parsed_is_a_located_finding(project: Path) -> None:
    write_tree(project, {"app/main.py": EVERY_EVENT, "app/broken.py": "def f(:\n    pass\n"})
    (project / "app" / "latin.py").write_bytes(b"# a comment\n\nname = '\xe9t\xe9'\n")
    code, document = code_check("app")
    assert code == 1
    assert codes(document) == [("CC005", "app/broken.py:1:7"), ("CC005", "app/latin.py"), ("CC003", "app/main.py:6:1")]
    diagnostics = document["diagnostics"]
    assert isinstance(diagnostics, list)
    assert diagnostics[0]["message"].startswith("not valid Python: ")
    assert diagnostics[1]["message"] == "not utf-8 text (byte 21)"
    assert document["files"] == 3


def test_folders_that_are_not_the_apps_own_code_are_skipped(project: Path) -> None:
    typo = "from demo_app_telemetry import events\nevents.app_startd()\n"
    build_text(CATALOG, project / "build")
    shutil.copytree(project / "build" / "python", project / "app" / "python")  # the package inside the app
    write_tree(
        project,
        {
            "app/main.py": EVERY_EVENT,
            "app/.hidden/typo.py": typo,
            "app/venv/pyvenv.cfg": "home = /usr/bin\n",
            "app/venv/lib/typo.py": typo,
            "app/__pycache__/typo.py": typo,
            "app/python/demo_app_telemetry/extra.py": typo,
            "app/notes.txt": typo,
        },
    )
    code, document = code_check("app")
    assert code == 0, document
    assert document["files"] == 1


def test_a_dotted_package_inside_the_app_and_relative_imports(project: Path) -> None:
    (project / "events.yaml").write_text(CATALOG.replace("demo_app_telemetry", "ledgerline.telemetry"), "utf-8")
    write_tree(
        project / "src",
        {
            "ledgerline/__init__.py": "",
            "ledgerline/telemetry/__init__.py": "from . import events\nevents.app_startd()\n",
            "ledgerline/cli.py": """\
                from .telemetry import events
                from . import telemetry
                import ledgerline.telemetry.events as ev

                events.app_started(mode="cli")
                telemetry.events.app_legacy_started()
                ev.app_trial_shown()
                """,
            "ledgerline/commands/__init__.py": "",
            "ledgerline/commands/settings.py": """\
                from ..telemetry.events import app_settings_saved as saved
                from ledgerline.telemetry import events
                import ledgerline

                saved(groups={"display": True})
                ledgerline.telemetry.events.app_mode_shown()  # \u00e9\u00e9 a comment after non-ASCII: columns count
                x = "\u00e9\u00e9"; events.app_startd()
                from ...ledgerline.telemetry import events as beyond  # above the top package: an ImportError
                beyond.app_startd()
                """,
            "tools/script.py": "from .. import telemetry\ntelemetry.events.app_startd()\n",
        },
    )
    # Whichever folder is given, a file's package comes from the __init__.py files above it.
    for given in ("src", "src/ledgerline", "src/ledgerline/commands/settings.py"):
        _, document = code_check(given, "--allow-unused")
        events = document["events"]
        assert isinstance(events, dict)
        found = {event: [place.rsplit(":", 2)[1] for place in calls["calls"]] for event, calls in events.items()}
        if given.endswith("settings.py"):
            assert found["app/settings-saved"] == ["5"]
            continue
        assert found == {
            "app/started": ["5"],
            "app/legacy-started": ["6"],
            "app/trial-shown": ["7"],
            "app/mode-shown": ["6"],
            "app/settings-saved": ["5"],
        }
        # The generated package's own folder is skipped; the relative import above the top package is left
        # alone; app/mode-shown is deprecated.
        assert codes(document) == [
            ("CC003", "src/ledgerline/commands/settings.py:6:1"),
            ("CC002", "src/ledgerline/commands/settings.py:7:11"),
        ]


def test_an_event_name_of_three_segments_is_called_by_its_joined_name(project: Path) -> None:
    nested = """\
  app/general/theme-changed:
    description: The user chose another colour theme in the general settings.
    trigger: When the theme setting is saved.
    category: usage
    owner: core-team
    since: "1.0"
"""
    (project / "events.yaml").write_text(CATALOG + nested, "utf-8")
    write_tree(
        project, {"app/main.py": EVERY_EVENT + "events.app_general_theme_changed()\nevents.app_general_theme()\n"}
    )
    code, document = code_check("app")
    assert code == 1
    assert uses(document, "app/general/theme-changed")["calls"] == ["app/main.py:8:1"]
    assert codes(document) == [("CC003", "app/main.py:6:1"), ("CC002", "app/main.py:9:1")]


def test_a_function_s_own_name_hides_the_import(project: Path) -> None:
    write_tree(
        project,
        {
            "app/main.py": """\
                from demo_app_telemetry import events

                def record(events):
                    events.append("a")

                def collect(rows):
                    events = []
                    events.extend(rows)
                    return sorted(rows, key=lambda events: events.count)

                @register(events.app_trial_shown)
                def started(mode=events.app_legacy_started) -> events.AppSettingsSavedGroups:
                    events.app_started(mode="cli")
                """,
        },
    )
    code, document = code_check("app", "--allow-unused")
    assert code == 0, document
    assert uses(document, "app/started")["calls"] == ["app/main.py:13:5"]
    assert uses(document, "app/trial-shown")["references"] == ["app/main.py:11:11"]
    assert uses(document, "app/legacy-started")["references"] == ["app/main.py:12:18"]


def test_feedback_emitters_are_followed_and_the_opt_out_record_needs_none(project: Path) -> None:
    reports = """\
  app/opted-out:
    description: The user switched telemetry off; counts how many installations leave.
    trigger: Sent by the runtime itself when the user opts out while telemetry is on.
    category: opt-out
    owner: core-team
    since: "1.0"
  app/rated:
    description: The user rated the app in the feedback form.
    trigger: When the user presses Send in the feedback form, after seeing what will be sent.
    category: feedback
    owner: core-team
    since: "1.0"
"""
    (project / "events.yaml").write_text(CATALOG + reports, "utf-8")
    app = EVERY_EVENT + "from demo_app_telemetry import feedback as fb\n\nfb.app_rated().send()\nfb.app_rate()\n"
    write_tree(project, {"app/main.py": app})
    code, document = code_check("app")
    assert code == 1
    assert uses(document, "app/rated") == {
        "emitter": "feedback.app_rated",
        "calls": ["app/main.py:10:1"],
        "references": [],
    }
    events = document["events"]
    assert isinstance(events, dict)
    assert "app/opted-out" not in events  # the runtime sends it: nothing to call, never unused
    diagnostics = document["diagnostics"]
    assert isinstance(diagnostics, list)
    unknown = [d for d in diagnostics if d["code"] == "CC002"]
    assert [(d["location"], d["message"], d["hint"]) for d in unknown] == [
        (
            "app/main.py:11:1",
            "feedback.app_rate is called, but the feedback module of demo_app_telemetry has no such name",
            "did you mean feedback.app_rated?",
        )
    ]
    assert "events.yaml" not in {d["location"].split(":")[0] for d in diagnostics}  # nothing unused
