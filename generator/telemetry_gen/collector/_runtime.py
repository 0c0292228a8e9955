"""The runtime, under the name the generated checks import it by (`from ._runtime import ...`), so
the checks rendered in memory (see `checks.py`) run against the runtime itself."""

from ..runtime import *  # noqa: F403
