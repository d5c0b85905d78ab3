#!/usr/bin/env bash
# The load, crash and outage checks of the reference server (tools/loadgen), in their
# short forms: builds callhook-load in release, then runs
#   bench --short                    every store flat out and at half that rate (figures;
#                                    fails only if a request is refused or unanswered)
#   crash --short --store sqlite     3 SIGKILLs under load, then nothing acknowledged lost
#   crash --short --store postgres   the same on PostgreSQL          } only with
#   outage --short                   PostgreSQL stopped and restarted } CALLHOOK_TEST_POSTGRES_URL
# Each exits non-zero when its check fails. About 1.5 minutes after the build.
# LOADGEN_OUTAGE_FLAGS adds flags to the outage test (e.g. `--stop-mode immediate`).
set -euo pipefail
cd "$(dirname "$0")/../.."

step() { printf '\n== loadgen: %s ==\n' "$*"; }

step "build (release)"
cargo build --release -p callhook-loadgen
load() { cargo run --quiet --release -p callhook-loadgen -- "$@"; }

step "bench --short"
load bench --short

step "crash --short --store sqlite"
load crash --short --store sqlite

if [ -n "${CALLHOOK_TEST_POSTGRES_URL:-}" ]; then
  step "crash --short --store postgres"
  load crash --short --store postgres
  step "outage --short (a throwaway PostgreSQL cluster of its own)"
  # shellcheck disable=SC2086 # the flags are meant to split
  load outage --short ${LOADGEN_OUTAGE_FLAGS:-}
else
  echo "CALLHOOK_TEST_POSTGRES_URL is not set: the PostgreSQL crash and outage tests did not run"
fi
