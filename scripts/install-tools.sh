#!/usr/bin/env bash
# Installs the non-npm, non-Python tools the tests use into .tools/bin, pinned, idempotently: a tool already at
# its pinned version is left alone, so re-running costs one version check.
#   actionlint — lints .github/workflows (test/delivery/workflows.test.ts); a Go program, built from the Go
#                module proxy with `go install` (needs Go 1.22+; actions/setup-go in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONLINT_VERSION=v1.7.12
bin="$PWD/.tools/bin"

installed_version() { # tool : prints the version the installed binary reports, or nothing
  [ -x "$bin/$1" ] && "$bin/$1" -version 2>/dev/null | head -n1 || true
}

if [ "$(installed_version actionlint)" != "$ACTIONLINT_VERSION" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "install-tools: Go is needed to build actionlint $ACTIONLINT_VERSION (https://go.dev/dl/, or actions/setup-go in CI)" >&2
    exit 1
  fi
  mkdir -p "$bin"
  echo "install-tools: building actionlint $ACTIONLINT_VERSION into .tools/bin" >&2
  GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  if [ "$(installed_version actionlint)" != "$ACTIONLINT_VERSION" ]; then
    echo "install-tools: .tools/bin/actionlint reports '$(installed_version actionlint)', expected $ACTIONLINT_VERSION" >&2
    exit 1
  fi
fi
