# Sourced by the other scripts: make ./.venv with telemetry-gen and its dev tools installed, at the
# exact versions of requirements.lock (refresh it with scripts/lock). Only Python 3.10+ with pip and
# venv is needed on the machine.
python_bin=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
.venv/bin/python -m pip install -qq --disable-pip-version-check -c requirements.lock pip
.venv/bin/python -m pip install -qq --disable-pip-version-check -c requirements.lock -e '.[dev]'
