"""Questions to the user: the first-run consent prompt and the error-report prompt.

They ask only a person at a terminal: never in CI, never when standard input or output is not a
terminal. Anything but a clear answer, including end of input, counts as no.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Literal, TextIO, TypeVar

from .consent import Level, switched_on
from .spec import AppInfo

ErrorReportAnswer = Literal["yes", "no", "always", "never"]
Answer = TypeVar("Answer", bound=str)
# Variables CI services set; with any of them present nobody is there to answer.
_CI_VARIABLES = (
    "CI",
    "CONTINUOUS_INTEGRATION",
    "BUILD_NUMBER",
    "RUN_ID",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "TF_BUILD",
    "JENKINS_URL",
    "BUILDKITE",
    "CIRCLECI",
    "TRAVIS",
)
_CONSENT_ANSWERS: dict[str, Level] = {"y": "all", "yes": "all", "e": "errors", "errors": "errors"}
_CONSENT_ANSWERS.update(dict.fromkeys(("", "n", "no"), "off"))
_REPORT_ANSWERS: dict[str, ErrorReportAnswer] = {
    "y": "yes",
    "yes": "yes",
    "n": "no",
    "no": "no",
    "a": "always",
    "always": "always",
    "never": "never",
}


def running_in_ci() -> bool:
    return any(switched_on(os.environ, name) for name in _CI_VARIABLES)


def _ask(
    question: str, answers: Mapping[str, Answer], otherwise: Answer, stdin: TextIO | None, stdout: TextIO | None
) -> Answer | None:
    """The user's answer (`otherwise` for one not in `answers`), or None when nobody can answer."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    try:
        if running_in_ci() or not (stdin.isatty() and stdout.isatty()):
            return None
        stdout.write(question)
        stdout.flush()
        line = stdin.readline()
    except (OSError, ValueError, KeyboardInterrupt):
        return None
    if not line:  # "" from readline is end of input
        return None
    return answers.get(line.strip().lower(), otherwise)


def _policy(app: AppInfo) -> str:
    return f"What is collected, and what never is: {app.privacy_url}\n" if app.privacy_url else ""


def ask_consent(app: AppInfo, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> Level | None:
    """Ask whether to share usage data and error reports; None when nobody answered."""
    question = (
        f"\nHelp improve {app.title}? With your permission it sends anonymous usage data and error\n"
        "reports. They never hold personal data or anything you typed.\n"
        f"{_policy(app)}"
        f"You can change this at any time (`{app.env_prefix}_TELEMETRY=0` or the telemetry command).\n"
        "Share usage data and error reports? [y]es / [e]rrors only / [N]o: "
    )
    return _ask(question, _CONSENT_ANSWERS, "off", stdin, stdout)


def ask_error_report(
    app: AppInfo, *, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> ErrorReportAnswer | None:
    """Ask whether to send a report of the error that just happened; None when nobody answered."""
    question = (
        f"\n{app.title} ran into an unexpected error. Send an error report to its developers?\n"
        "It holds the error's type and where it happened, the app and Python versions and the OS;\n"
        "never personal data, your files or anything you typed.\n"
        f"{_policy(app)}"
        "[y]es / [n]o / [a]lways (for every error from now on) / never: "
    )
    return _ask(question, _REPORT_ANSWERS, "no", stdin, stdout)
