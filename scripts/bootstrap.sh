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
  runtime) extras="[native]" ;;
  dev) extras="[dev]" ;;
  *) echo "unknown profile '$profile' (runtime|dev)" >&2; exit 2 ;;
esac

# llama-cpp-python (in the dev extra) has no binary wheel on PyPI: build it once, portable
# (no -march=native), into a cache that later set-ups and fresh clones on this machine reuse.
wheel_cache="${LOGLENS_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/loglens/wheels}"
if [ "$profile" = dev ]; then
  llama_version="$(sed -n 's/.*"llama-cpp-python\[server\]==\([0-9.]*\)".*/\1/p' pyproject.toml)"
  mkdir -p "$wheel_cache"
  if ! ls "$wheel_cache"/llama_cpp_python-"$llama_version"-*.whl >/dev/null 2>&1; then
    echo "==> building llama-cpp-python $llama_version (compiles llama.cpp: about 10 minutes on 2 cores, once per machine)"
    log="$wheel_cache/build-llama-cpp-python.log"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
      "${pip[@]}" wheel --no-deps "llama-cpp-python==$llama_version" -w "$wheel_cache" >"$log" 2>&1 &
    build_pid=$!
    started=$SECONDS
    while kill -0 "$build_pid" 2>/dev/null; do
      sleep 30
      kill -0 "$build_pid" 2>/dev/null && echo "    still compiling ($(( (SECONDS - started) / 60 )) min so far; log: $log)"
    done
    if ! wait "$build_pid"; then
      echo "building llama-cpp-python failed; the last lines of $log:" >&2
      tail -n 30 "$log" >&2
      exit 1
    fi
    echo "    built in $(( SECONDS - started )) s"
  fi
fi

echo "==> installing loglens${extras} into .venv"
"${pip[@]}" install --find-links "$wheel_cache" -e ".${extras}"

# The read/parse hot path compiled with mypyc (about 20 s, skipped when up to date). Without
# a C compiler loglens still works, only slower: this is a warning, not a failure.
if [ "${LOGLENS_NATIVE:-on}" != off ]; then
  echo "==> compiling the hot path with mypyc (LOGLENS_NATIVE=off skips this)"
  .venv/bin/python scripts/build_native.py || echo "    warning: not compiled; loglens runs as pure Python" >&2
fi
