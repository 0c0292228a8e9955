"""Synthetic catalogs of any size, written at run time: `events.yaml` and an equivalent glean `metrics.yaml`.

Every event is the benchmark's reference event (8 fields: two string enums, a bounded integer, a
number, two booleans, a string with a maximum length and a pattern, an optional array of enum
strings) under its own name. Names are pronounceable and far apart (no lint warns about them),
and domains hold 50 events each, as in a large real catalog.

The glean file declares the same events as `event` metrics whose `extra_keys` are the same eight
fields (glean's extra keys are strings, booleans or quantities: it cannot say more).
"""

from __future__ import annotations

import random
from pathlib import Path

EVENTS_PER_DOMAIN = 50
PACKAGE = "bench_telemetry"
REFERENCE_EVENT = "bench/reference"
REFERENCE_EMITTER = "bench_reference"

# The reference event's arguments: valid, and one invalid (the integer is out of bounds).
REFERENCE_ARGUMENTS: dict[str, object] = {
    "command": "watch",
    "run_mode": "terminal",
    "retry_count": 3,
    "duration_seconds": 12.5,
    "interactive": True,
    "is_first_start": False,
    "firmware_version": "2.8.1",
    "enabled_features": ["tor", "dry-run"],
}
INVALID_ARGUMENTS: dict[str, object] = {**REFERENCE_ARGUMENTS, "retry_count": 1000}

_FIELDS = """\
      command:
        type: enum
        description: The CLI command the program was started with.
        privacy: interaction
        required: true
        values: [watch, test-drive, evaluate, configure]
      run_mode:
        type: enum
        description: How the process was launched, from environment markers only.
        privacy: technical
        required: true
        values: [terminal, service, container, scheduler]
      retry_count:
        type: integer
        description: How many times the step was retried before it finished.
        privacy: technical
        required: true
        minimum: 0
        maximum: 100
      duration_seconds:
        type: number
        description: How long the step took, in seconds.
        privacy: technical
        required: true
        minimum: 0
        maximum: 86400
        unit: seconds
      interactive:
        type: boolean
        description: Whether stdin and stdout are a terminal.
        privacy: technical
        required: true
      is_first_start:
        type: boolean
        description: True on the first start after telemetry was enabled.
        privacy: technical
        required: true
      firmware_version:
        type: string
        description: Firmware version reported by the connected device.
        privacy: technical
        required: true
        max_length: 20
        pattern: ^[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}$
        examples: [2.8.1]
      enabled_features:
        type: array
        description: Optional features switched on in the configuration.
        privacy: interaction
        items:
          type: enum
          values: [tor, notifications, device-support, dry-run]
        max_items: 4
        unique: true
"""

_GLEAN_EXTRA_KEYS = (
    ("command", "string", "The CLI command the program was started with."),
    ("run_mode", "string", "How the process was launched, from environment markers only."),
    ("retry_count", "quantity", "How many times the step was retried before it finished."),
    ("duration_seconds", "quantity", "How long the step took, in seconds."),
    ("interactive", "boolean", "Whether stdin and stdout are a terminal."),
    ("is_first_start", "boolean", "True on the first start after telemetry was enabled."),
    ("firmware_version", "string", "Firmware version reported by the connected device."),
    ("enabled_features", "string", "Optional features switched on in the configuration."),
)

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def names(count: int) -> list[tuple[str, str]]:
    """`count` (domain, action) pairs: the reference event first, then distinct pronounceable words."""
    rng = random.Random(count)
    result = [("bench", "reference")]
    seen = {"reference"}
    while len(result) < count:
        action = "-".join("".join(rng.choice(_SYLLABLES) for _ in range(2)) for _ in range(2))
        if action not in seen:
            seen.add(action)
            result.append((f"area{len(result) // EVENTS_PER_DOMAIN:03d}", action))
    return result


def events_yaml(count: int) -> str:
    pairs = names(count)
    domains = sorted({domain for domain, _ in pairs})
    lines = [
        "catalog_format: 1",
        "app:",
        "  name: bench-app",
        "  title: Bench App",
        f"  package: {PACKAGE}",
        '  version: "1.0"',
        f"  domains: [{', '.join(domains)}]",
        "context:",
        "  app_version:",
        "    source: app_version",
        "    description: Version of the app, for adoption charts.",
        "  instance_id:",
        "    source: instance_id",
        "    description: Random id created at opt-in and deleted at opt-out.",
        "  session_id:",
        "    source: session_id",
        "    description: Random id created for every process.",
        "never_collected:",
        "  - Passwords, keys and anything typed by the user.",
        "events:",
    ]
    for domain, action in pairs:
        lines += [
            f"  {domain}/{action}:",
            f"    description: The {action} step of {domain} finished; shows how often it is used.",
            "    trigger: Once per run of the step, when it has finished.",
            "    category: usage",
            "    owner: bench-team",
            '    since: "1.0"',
            "    fields:",
            _FIELDS.rstrip("\n"),
        ]
    return "\n".join(lines) + "\n"


def metrics_yaml(count: int) -> str:
    """The same events for glean_parser: one `event` metric each, its fields as `extra_keys`."""
    lines = ["---", "$schema: moz://mozilla.org/schemas/glean/metrics/2-0-0", ""]
    category = None
    for domain, action in names(count):
        if domain != category:
            lines.append(f"{domain}:")
            category = domain
        lines += [
            f"  {action.replace('-', '_')}:",
            "    type: event",
            f"    description: The {action} step of {domain} finished; shows how often it is used.",
            "    bugs:",
            "      - https://bugs.example.org/1",
            "    data_reviews:",
            "      - https://bugs.example.org/1#review",
            "    notification_emails:",
            "      - bench-team@example.org",
            "    expires: never",
            "    data_sensitivity:",
            "      - interaction",
            "    extra_keys:",
        ]
        for key, kind, description in _GLEAN_EXTRA_KEYS:
            lines += [f"      {key}:", f"        description: {description}", f"        type: {kind}"]
    return "\n".join(lines) + "\n"


def write_catalogs(folder: Path, count: int) -> tuple[Path, Path]:
    """Write `events.yaml` and `metrics.yaml` for `count` events into `folder`; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    events, metrics = folder / "events.yaml", folder / "metrics.yaml"
    events.write_text(events_yaml(count), "utf-8")
    metrics.write_text(metrics_yaml(count), "utf-8")
    return events, metrics
