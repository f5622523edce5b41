# loglens tasks. `just` comes from the PyPI package rust-just (installed by scripts/bootstrap.sh dev).
# Run `just --list` for the recipes.

set shell := ["bash", "-euo", "pipefail", "-c"]

venv := justfile_directory() / ".venv/bin"
py := venv / "python"

# List the recipes.
default:
    @just --list

# Create .venv and install loglens with the test, lint and benchmark tools.
setup:
    bash scripts/bootstrap.sh dev

# Generate the demo cluster's logs and analyse them (extra args go to `loglens demo`).
demo *ARGS:
    {{venv}}/loglens demo {{ARGS}}

# Fast unit tests.
test *ARGS:
    {{py}} -m pytest -m "not integration and not browser" {{ARGS}}

# Slower integration tests (several stages, real backends, the golden-set floor).
test-int *ARGS:
    {{py}} -m pytest -m "integration" {{ARGS}}

# Lint, then every test: what CI runs.
test-all *ARGS: lint
    {{py}} -m pytest {{ARGS}}

# Analyse a namespace live from Loki over a duration (needs LOGLENS_LOKI_URL).
test-stream namespace="default" duration="15m":
    #!/usr/bin/env bash
    set -euo pipefail
    if [ -z "${LOGLENS_LOKI_URL:-}" ]; then
      echo "test-stream reads from Loki: set LOGLENS_LOKI_URL (e.g. http://localhost:3100, via kubectl port-forward svc/loki 3100)" >&2
      exit 1
    fi
    {{venv}}/loglens analyze --namespace "{{namespace}}" --since "{{duration}}"

# Validate the Kubernetes manifests offline (kustomize build + schema validation).
test-k8s:
    #!/usr/bin/env bash
    if [ ! -d deploy/base ]; then
      echo "test-k8s validates deploy/ (kustomize base + homelab overlay, Flux CRDs): the manifests arrive with the deployment issue" >&2
      exit 1
    fi
    {{py}} -m pytest -m k8s

# Render the homelab overlay locally and validate it against the vendored schemas.
test-k8s-local:
    #!/usr/bin/env bash
    if [ ! -d deploy/overlays/homelab ]; then
      echo "test-k8s-local renders deploy/overlays/homelab: the manifests arrive with the deployment issue" >&2
      exit 1
    fi
    {{py}} -m pytest -m k8s -k local

# Run the HTTP API with reload for development.
dev:
    #!/usr/bin/env bash
    if ! {{py}} -c "import loglens.api.app" 2>/dev/null; then
      echo "dev serves the FastAPI app (loglens.api.app:create_app), which arrives with the API issue" >&2
      exit 1
    fi
    mkdir -p .cache
    {{venv}}/uvicorn --factory loglens.api.app:create_app --reload --port 8080 & echo $! > .cache/dev.pid
    wait

# Stop what `just dev` started.
stop:
    #!/usr/bin/env bash
    if [ ! -f .cache/dev.pid ]; then echo "nothing to stop (no .cache/dev.pid)" >&2; exit 1; fi
    kill "$(cat .cache/dev.pid)" && rm -f .cache/dev.pid

# Benchmarks that print figures: read, patterns, analyze, llm, retrieval.
bench what="read" *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -f "bench/{{what}}.py" ]; then
      echo "no benchmark '{{what}}'; available: $(ls bench/*.py 2>/dev/null | xargs -n1 basename | sed 's/\.py$//' | tr '\n' ' ')" >&2
      exit 1
    fi
    {{py}} "bench/{{what}}.py" {{ARGS}}

# Compile the read/parse hot path with mypyc (scripts/build_native.py; --force, --clean).
native *ARGS:
    {{py}} scripts/build_native.py {{ARGS}}

# Evaluate on the golden dataset (extra args go to `loglens eval`).
eval *ARGS:
    {{venv}}/loglens eval {{ARGS}}

# Lint and type-check.
lint:
    {{venv}}/ruff check src tests bench eval scripts
    {{venv}}/ruff format --check src tests bench eval scripts
    {{venv}}/mypy
