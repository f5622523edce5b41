#!/usr/bin/env bash
# Create .venv (if needed) and install loglens into it.
#   scripts/bootstrap.sh          runtime only (enough for `loglens demo`)
#   scripts/bootstrap.sh dev      runtime + test, lint and benchmark tools
# Safe to re-run: pip only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-runtime}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "loglens needs Python 3.11 or newer; $("$python" --version 2>&1) found" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip >/dev/null
case "$profile" in
  runtime) extras="" ;;
  dev) extras="[dev]" ;;
  *) echo "unknown profile '$profile' (runtime|dev)" >&2; exit 2 ;;
esac
echo "==> installing loglens${extras} into .venv"
"${pip[@]}" install -e ".${extras}"
