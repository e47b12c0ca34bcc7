#!/usr/bin/env bash
# End-to-end tests of the real `aims lsp` binary with pytest-lsp, as
# Neovim and as VS Code. Creates a virtualenv in target/e2e-venv (once),
# installs requirements.txt, builds the release binary unless AIMS_BIN
# names one, and runs pytest; extra arguments go to pytest.
# With AIMS_LSP_TIMING=1, test_timing.py runs too: the latencies on a
# 10,000-line policy, written to target/lsp-timing.json
# (`AIMS_LSP_TIMING=1 run.sh test_timing.py -s`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
venv="$root/target/e2e-venv"

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "the end-to-end tests need Python 3.10 or later ($python)" >&2
  exit 3
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

if [ -z "${AIMS_BIN:-}" ]; then
  (cd "$root" && cargo build --release --quiet --bin aims)
  AIMS_BIN="$root/target/release/aims"
fi
export AIMS_BIN
export PYTHONDONTWRITEBYTECODE=1

cd "$here"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
