#!/usr/bin/env bash
# Offline checks of deploy/: the example built as a Lambda bootstrap by `cargo lambda build`, the CDK
# app (type check, assertions on the synthesized template, `cdk synth`), and cfn-lint on the CDK
# output and the SAM template. Nothing here talks to AWS.
#
# Tools are installed under $CARGO_TARGET_DIR (kept between CI runs, outside the clone), pinned:
# cargo-lambda and cfn-lint in venvs, npm's cache for `npm ci` of deploy/cdk's lockfile.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${CARGO_TARGET_DIR:?set CARGO_TARGET_DIR (.ci/run does)}"
CARGO_LAMBDA_VERSION=1.9.2
CFN_LINT_VERSION=1.51.0
tools="$CARGO_TARGET_DIR/deploy-tools"
mkdir -p "$tools"

step() { echo "-- $1"; step_start=$SECONDS; }
took() { echo "   ($((SECONDS - step_start)) s)"; }

venv_tool() { # venv_tool PACKAGE VERSION: a pinned Python tool in its own venv, reused while it matches
  local venv="$tools/$1-venv"
  if [ "$("$venv/bin/pip" show "$1" 2>/dev/null | sed -n 's/^Version: //p')" != "$2" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$1==$2"
  fi
}

step "cargo lambda build (x86_64; the docs give the --arm64 command)"
venv_tool cargo-lambda "$CARGO_LAMBDA_VERSION"
export PATH="$tools/cargo-lambda-venv/bin:$PATH"
cargo lambda --version
lambda_dir="$CARGO_TARGET_DIR/lambda-ci"
rm -rf "$lambda_dir"
cargo lambda build --release --locked -p durable-examples --bin order-workflow --output-format zip \
  --lambda-dir "$lambda_dir"
zip="$lambda_dir/order-workflow/bootstrap.zip"
python3 - "$zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = z.namelist()
    if names != ["bootstrap"]:
        sys.exit(f"bootstrap.zip should hold exactly `bootstrap`, holds {names}")
    info = z.getinfo("bootstrap")
    head = z.read("bootstrap")[:20]
    if head[:4] != b"\x7fELF" or int.from_bytes(head[18:20], "little") != 0x3E:
        sys.exit("bootstrap is not an x86-64 ELF executable")
    if not (info.external_attr >> 16) & 0o111:
        sys.exit("bootstrap is not executable in the zip")
    print(f"bootstrap.zip: {info.file_size / 1e6:.1f} MB unpacked, executable x86-64 ELF")
PY
took

step "the cargo-lambda bootstrap as a durable function on durable serve: invoke, callback, result"
cargo build --locked -q -p durable-local --bin durable
durable="$CARGO_TARGET_DIR/debug/durable"
work=$(mktemp -d /tmp/durable-deploy-check.XXXXXX)
server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap stop_server EXIT
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$work/fn"
chmod +x "$work/fn/bootstrap"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$durable" --db "$work/store/durable.db" serve --port "$port" --skip-time \
  --function "order-workflow=$work/fn/bootstrap" > "$work/serve.log" 2>&1 &
server_pid=$!
export DURABLE_ENDPOINT="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -sf "$DURABLE_ENDPOINT/health" >/dev/null 2>&1 && break
  sleep 0.1
done
eval "$("$durable" --db "$work/store/durable.db" env)"
durable_cli() { "$durable" --db "$work/store/durable.db" "$@"; }
arn=$(durable_cli invoke order-workflow '{"order_id":"ci-1","amount":1700}' --async)
callback=
for _ in $(seq 1 150); do
  callback=$(durable_cli history "$arn" | sed -n 's/.*durable callback succeed \([^ ]*\) PAYLOAD.*/\1/p' | head -1)
  [ -n "$callback" ] && break
  sleep 0.2
done
if [ -z "$callback" ]; then
  echo "the execution never waited for its approval callback"; durable_cli history "$arn"; cat "$work/serve.log"; exit 1
fi
durable_cli callback succeed "$callback" '{"approved_by":"ci@example.com"}'
status=
for _ in $(seq 1 150); do
  status=$(durable_cli get "$arn" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["Status"])')
  [ "$status" != RUNNING ] && break
  sleep 0.2
done
case "$status" in
  SUCCEEDED) echo "order-workflow (cargo lambda build) succeeded on durable serve";;
  *) echo "order-workflow ended $status, not SUCCEEDED"; durable_cli get "$arn"; cat "$work/serve.log"; exit 1;;
esac
stop_server
server_pid=
trap - EXIT
took

step "cfn-lint $CFN_LINT_VERSION"
if command -v cfn-lint >/dev/null 2>&1 && [ "$(cfn-lint --version | awk '{print $2}')" = "$CFN_LINT_VERSION" ]; then
  lint=cfn-lint
else
  venv_tool cfn-lint "$CFN_LINT_VERSION"
  lint="$tools/cfn-lint-venv/bin/cfn-lint"
fi
"$lint" --version
took

step "deploy/cdk: npm ci (lockfile), type check, template assertions"
cd deploy/cdk
npm ci --no-audit --no-fund --prefer-offline --cache "$tools/npm-cache" --loglevel=error
npx tsc --noEmit
npm test --silent
took

step "deploy/cdk: cdk synth (bundling skipped: the code asset is a placeholder)"
out="$tools/cdk.out"
rm -rf "$out"
DURABLE_CDK_SKIP_BUNDLING=1 CDK_DISABLE_CLI_TELEMETRY=true npx cdk synth --quiet --no-notices --no-version-reporting \
  -o "$out" >/dev/null
cd ../..
took

step "cfn-lint: the synthesized CDK template and the SAM template"
# W3005: CDK adds DependsOn on the role next to the GetAtt of its ARN; harmless.
"$lint" --ignore-checks W3005 -- "$out/OrderWorkflow.template.json"
"$lint" -- deploy/sam/template.yaml
took
echo "deploy checks passed"
