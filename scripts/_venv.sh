# Sourced by the other scripts: make ./.venv with telemetry-gen and its dev tools installed.
# Only Python 3.10+ with pip and venv is needed on the machine.
python_bin=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
  .venv/bin/python -m pip install -qq --upgrade pip
fi
.venv/bin/python -m pip install -qq --disable-pip-version-check -e '.[dev]'
