#!/usr/bin/env bash
# AWS's conformance runner (PyPI aws-durable-execution-conformance-tests, pinned in
# requirements.txt, unmodified) against `durable serve` hosting the conformance handlers as a real
# Lambda bootstrap (`conformance-lambda`) through the Runtime API. Closes with
# `conformance-runner: N passed, M failed`.
#
# Usage: .ci/conformance/run.sh [requirement id ...]   (default: every vendored requirement)
# Env: CARGO_TARGET_DIR (default ./target), CONFORMANCE_WORKERS (default 4),
#      CONFORMANCE_VENV (default $CARGO_TARGET_DIR/conformance-venv, reused between runs).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
venv=${CONFORMANCE_VENV:-$target/conformance-venv}
work=$(mktemp -d /tmp/durable-conformance.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "--- building durable and the conformance bootstrap"
# Built as `cargo test --workspace` builds them (the integration tests run both), so after the
# tests this builds nothing.
if ! cargo test --workspace --locked --no-run -q > "$work/build.log" 2>&1; then
  cat "$work/build.log"
  exit 1
fi
durable=$target/debug/durable
bootstrap=$target/debug/conformance-lambda

echo "--- installing the conformance runner"
if ! "$venv/bin/python" -c 'import aws_durable_execution_conformance_tests' 2>/dev/null; then
  python3 -m venv "$venv"
  # The package declares Python >= 3.14; its code runs on the machine's 3.11.
  "$venv/bin/pip" install -q --disable-pip-version-check --ignore-requires-python -r .ci/conformance/requirements.txt
fi

# One hosted function per requirement (`conformance-<id>`) plus the chained-invoke targets.
mkdir -p "$work/crash" "$work/logs"
{
  for file in tests/conformance/requirements/*/*.yaml; do
    id=$(basename "$file" .yaml)
    printf '[[function]]\nname = "conformance-%s"\ncommand = "%s"\ntimeout = 120\nmax_processes = 2\n' "$id" "$bootstrap"
    printf '[function.env]\nCONFORMANCE_CRASH_DIR = "%s"\n\n' "$work/crash"
  done
  for name in conformance-target-echo conformance-target-fail conformance-target-tenant-echo; do
    printf '[[function]]\nname = "%s"\ncommand = "%s"\ntimeout = 120\nmax_processes = 4\n\n' "$name" "$bootstrap"
  done
} > "$work/durable.toml"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint=http://127.0.0.1:$port
echo "--- durable serve on $endpoint"
"$durable" --db "$work/store/durable.db" serve --port "$port" --config "$work/durable.toml" \
  --log-dir "$work/logs" > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "$endpoint/health" > /dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/serve.err"; echo "durable serve exited"; exit 1; fi
  sleep 0.1
done
eval "$("$durable" --db "$work/store/durable.db" --endpoint "$endpoint" env)"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

echo "--- the conformance runner"
status=0
"$venv/bin/python" .ci/conformance/drive.py --requirements tests/conformance/requirements --logs "$work/logs" \
  --workers "${CONFORMANCE_WORKERS:-4}" --report "$target/conformance-report.json" ${1:+--only "$@"} \
  | tee "$work/runner.out" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- last lines of durable serve's output"
  grep -v '^\[conformance-' "$work/serve.err" | tail -n 40 | cut -c1-400
  # The closing line stays last.
  tail -n 1 "$work/runner.out"
fi
exit "$status"
