#!/usr/bin/env bash
# Compile cost of the DSL: generates one crate with 50 workflows and 200 steps written with
# `#[durable_workflow]`/`#[durable_step]`, and the same code written by hand with the builder API
# (`ctx.step(..).name(..)`), then times `cargo build` of each crate alone, its dependencies cached.
#
#   durable-macros/benches/compile_cost.sh [runs]     (default 3 runs; prints the median of each)
#
# Everything is generated under $OUT (default /tmp/durable-compile-cost), with its own target dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${OUT:-/tmp/durable-compile-cost}"
RUNS="${1:-3}"
WORKFLOWS=50
STEPS_PER_WORKFLOW=4

rm -rf "$OUT/dsl" "$OUT/manual"
mkdir -p "$OUT/dsl/src" "$OUT/manual/src"
cp "$ROOT/rust-toolchain.toml" "$OUT/"
cp "$ROOT/Cargo.lock" "$OUT/"
cat > "$OUT/Cargo.toml" <<TOML
[workspace]
resolver = "2"
members = ["dsl", "manual"]

[workspace.dependencies]
durable-runtime = { path = "$ROOT/durable-runtime", default-features = false, features = ["macros"] }
serde = { version = "1", features = ["derive"] }

[profile.dev]
debug = "line-tables-only"
TOML
for kind in dsl manual; do
  cat > "$OUT/$kind/Cargo.toml" <<TOML
[package]
name = "cost-$kind"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
durable-runtime.workspace = true
serde.workspace = true
TOML
done

gen() {
  local kind=$1 file=$2
  {
    echo '#![allow(missing_docs)]'
    echo 'use durable_runtime::{DurableContext, Error, Handler};'
    [ "$kind" = dsl ] && echo 'use durable_runtime::{durable_step, durable_workflow};'
    echo 'use serde::{Deserialize, Serialize};'
    echo 'use std::time::Duration;'
    echo '#[derive(Clone, Serialize, Deserialize)] pub struct Input { pub n: u32 }'
    echo 'fn handler<H: Handler<Input, u32>>(_: H) {}'
    for ((w = 0; w < WORKFLOWS; w++)); do
      for ((k = 0; k < STEPS_PER_WORKFLOW; k++)); do
        s=$((w * STEPS_PER_WORKFLOW + k))
        if [ "$kind" = dsl ]; then
          echo "#[durable_step(retry = exponential(max_attempts = 3, initial = \"1s\"))]"
          echo "pub async fn step_$s(x: u32) -> Result<u32, Error> { Ok(x.wrapping_add($s)) }"
        else
          echo "pub async fn step_$s(x: u32) -> Result<u32, Error> { Ok(x.wrapping_add($s)) }"
        fi
      done
      if [ "$kind" = dsl ]; then
        echo "#[durable_workflow]"
        echo "pub async fn workflow_$w(ctx: DurableContext, input: Input) -> Result<u32, Error> {"
        echo "    let mut x = input.n;"
        for ((k = 0; k < STEPS_PER_WORKFLOW; k++)); do
          echo "    x = step_$((w * STEPS_PER_WORKFLOW + k))(x).await?;"
        done
      else
        echo "pub async fn workflow_$w(ctx: DurableContext, input: Input) -> Result<u32, Error> {"
        echo "    let mut x = input.n;"
        for ((k = 0; k < STEPS_PER_WORKFLOW; k++)); do
          s=$((w * STEPS_PER_WORKFLOW + k))
          echo "    x = ctx.step(move |_| step_$s(x)).name(\"step_$s\")"
          echo "        .retry(durable_runtime::retry::RetryStrategy::exponential().max_attempts(3).initial_delay(Duration::from_secs(1)))"
          echo "        .await?;"
        done
      fi
      echo "    ctx.wait(Duration::from_secs(1)).await?;"
      echo "    Ok(x)"
      echo "}"
    done
    echo 'pub fn register() {'
    for ((w = 0; w < WORKFLOWS; w++)); do echo "    handler(workflow_$w);"; done
    echo '}'
  } > "$file"
}
gen dsl "$OUT/dsl/src/lib.rs"
gen manual "$OUT/manual/src/lib.rs"

export CARGO_TARGET_DIR="$OUT/target"
cd "$OUT"
echo "warming dependencies..." >&2
cargo build -q -p cost-dsl -p cost-manual >&2

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_build() {
  local pkg=$1 dir=$2
  for ((r = 0; r < RUNS; r++)); do
    touch "$dir/src/lib.rs"
    local start end
    start=$(date +%s.%N)
    cargo build -q -p "$pkg" >&2
    end=$(date +%s.%N)
    echo "$end - $start" | bc
  done | median
}
dsl=$(time_build cost-dsl dsl)
manual=$(time_build cost-manual manual)
lines_dsl=$(wc -l < dsl/src/lib.rs)
lines_manual=$(wc -l < manual/src/lib.rs)
printf 'workflows: %d, steps: %d, runs: %d (median)\n' "$WORKFLOWS" $((WORKFLOWS * STEPS_PER_WORKFLOW)) "$RUNS"
printf 'dsl    (%4d lines): %6.2f s\n' "$lines_dsl" "$dsl"
printf 'manual (%4d lines): %6.2f s\n' "$lines_manual" "$manual"
printf 'overhead: %+.2f s (%+.0f%%)\n' "$(echo "$dsl - $manual" | bc)" "$(echo "($dsl - $manual) * 100 / $manual" | bc -l)"
