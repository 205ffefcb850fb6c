#!/usr/bin/env bash
# Installs what the project needs, idempotently: npm packages and the Python environment (.venv) for the
# Glue jobs, their tests and the AWS API emulator. Re-running it is cheap: each step is skipped while the
# lock/requirements file it was made from is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=false
extra=()
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=true ;;
    --bench) extra+=(glue/requirements-bench.txt) ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
say() { $quiet || echo "setup: $*"; }

stamp_ok() { # stamp file, inputs... : true when the stamp records the inputs' current checksum
  local stamp=$1; shift
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(cat "$@" | sha256sum)" ]
}
write_stamp() { local stamp=$1; shift; cat "$@" | sha256sum > "$stamp"; }

if ! stamp_ok node_modules/.setup-stamp package-lock.json; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  write_stamp node_modules/.setup-stamp package-lock.json
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$python" -m venv .venv
fi
reqs=(glue/requirements.txt "${extra[@]}")
if ! stamp_ok ".venv/.setup-stamp-$(basename "${reqs[-1]}")" "${reqs[@]}"; then
  say "installing Python packages from ${reqs[*]}"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  for r in "${reqs[@]}"; do .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$r"; done
  write_stamp ".venv/.setup-stamp-$(basename "${reqs[-1]}")" "${reqs[@]}"
fi

# Pinned non-npm tools the tests use (actionlint, built with Go from the Go module proxy).
bash scripts/install-tools.sh

if ! command -v java >/dev/null 2>&1; then
  echo "setup: Java 17 is needed by local Spark; install a JDK 17 (e.g. apt-get install openjdk-17-jre-headless)" >&2
  exit 1
fi
