#!/usr/bin/env bash
# Benchmark: mlsupply's typosquat check against DataDog guarddog's, on the same 10,000 names
# (benign long tail + historic typosquats + popular names) and the same popular list.
#
# usage: bench/typo/run.sh [--eval]    (from anywhere; writes to bench/out/, which is ignored)
#   --eval  also score guarddog on the evaluation sets of tests/typo_eval.rs
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/bench/out"
mkdir -p "$out"

python3 "$root/bench/typo/make_names.py" "$root" "$out/names.txt"

if [[ ! -x "$out/venv/bin/python" ]]; then
    python3 -m venv "$out/venv"
fi
if ! "$out/venv/bin/python" -c "import guarddog" 2>/dev/null; then
    "$out/venv/bin/pip" install --quiet guarddog
fi
guarddog_version="$("$out/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("guarddog"))')"

echo "== mlsupply (release build, built-in list of 15k)"
(cd "$root" && cargo build --quiet --release --example typo_bench)
"$root/target/release/examples/typo_bench" "$out/names.txt" | tee "$out/mlsupply.txt"

echo "== guarddog $guarddog_version (PypiTyposquatDetector, same list)"
"$out/venv/bin/python" "$root/bench/typo/guarddog_bench.py" "$root" "$out/names.txt" "$@" \
    | tee "$out/guarddog.txt"

ours="$(sed -n 's/^check_ms=//p' "$out/mlsupply.txt")"
ours_total="$(sed -n 's/^total_ms=//p' "$out/mlsupply.txt")"
theirs="$(sed -n 's/^check_ms=//p' "$out/guarddog.txt")"
python3 - "$ours" "$ours_total" "$theirs" <<'PY'
import sys
ours, ours_total, theirs = (float(a) for a in sys.argv[1:])
print(f"== check loop: mlsupply {ours:.1f} ms, guarddog {theirs:.1f} ms, ratio {theirs / ours:.0f}x")
print(f"== with mlsupply's index build: {ours_total:.1f} ms, ratio {theirs / ours_total:.0f}x")
PY
