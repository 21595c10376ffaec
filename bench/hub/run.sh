#!/usr/bin/env bash
# Benchmark (issue 5): mlsupply-hub against `bandit -t B614,B615` and against `rg` for the loader
# names, side by side with hyperfine on one generated tree (5,000 Python files, 200 notebooks).
# Target: at least 20x faster than bandit, within 3x of rg.
#
# usage: bench/hub/run.sh [RUNS]   (from anywhere; everything it makes goes to bench/out/, ignored)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/bench/out"
runs="${1:-10}"
mkdir -p "$out"

need_apt() {
    # Installs a Debian package when its command is missing (as root, or through sudo).
    local cmd="$1" pkg="$2" sudo=""
    command -v "$cmd" >/dev/null && return
    [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "$pkg"
}
need_apt rg ripgrep
need_apt hyperfine hyperfine

echo "== building mlsupply-hub (release)"
(cd "$root" && cargo build --quiet --release --bin mlsupply-hub --example hub_phases)
hub="$root/target/release/mlsupply-hub"

if [[ ! -x "$out/venv/bin/bandit" ]]; then
    python3 -m venv "$out/venv"
    "$out/venv/bin/pip" install --quiet bandit
fi
bandit="$out/venv/bin/bandit"

tree="$out/hubtree"
python3 "$root/bench/hub/make_tree.py" "$tree"

# Loader names, as a user would grep for them; rg searches .py and .ipynb like mlsupply-hub.
pattern='from_pretrained|from_single_file|hf_hub_download|snapshot_download|load_dataset|torch\.load|torch\.hub\.load|pickle\.load|SentenceTransformer\(|create_model|LLM\(|HF_ENDPOINT'

# Warm the page cache and record what each tool finds, so the report can say the runs did work.
"$hub" --no-config --format json "$tree" >"$out/hub.json" || true
"$bandit" -q -r "$tree" -t B614,B615 -f json -o "$out/bandit.json" || true
rg -c -g '*.py' -g '*.ipynb' -e "$pattern" "$tree" >"$out/rg.txt" || true

# mlsupply-hub and bandit exit 1 when they find something: that is expected, hence -i.
hyperfine -i --warmup 1 --runs "$runs" --export-json "$out/hub_bench.json" \
    -n mlsupply-hub "'$hub' --no-config --format json '$tree'" \
    -n bandit "'$bandit' -q -r '$tree' -t B614,B615 -f json" \
    -n rg "rg -g '*.py' -g '*.ipynb' -e '$pattern' '$tree'"

python3 - "$out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
res = {r["command"]: r for r in json.loads((out / "hub_bench.json").read_text())["results"]}
def cpu(r):
    return r["user"] + r["system"]
h, b, g = res["mlsupply-hub"], res["bandit"], res["rg"]
hub_n = len(json.loads((out / "hub.json").read_text()).get("findings", []))
bandit_n = len(json.loads((out / "bandit.json").read_text())["results"])
rg_files = sum(1 for line in (out / "rg.txt").read_text().splitlines() if line)
print(f"findings: mlsupply-hub {hub_n}, bandit {bandit_n}; rg matched in {rg_files} files")
for name, r in res.items():
    print(f"{name:13} wall {r['mean'] * 1000:8.1f} ms ± {r['stddev'] * 1000:6.1f}   "
          f"median {r['median'] * 1000:8.1f} ms   cpu {cpu(r) * 1000:8.1f} ms")
print(f"bandit / mlsupply-hub: wall {b['mean'] / h['mean']:.1f}x, cpu {cpu(b) / cpu(h):.1f}x  (target >= 20x)")
print(f"mlsupply-hub / rg:     wall {h['mean'] / g['mean']:.2f}x, cpu {cpu(h) / cpu(g):.2f}x  (target <= 3x)")
PY

echo "== mlsupply-hub by phase (the pipeline on every core, then each step on one thread)"
"$root/target/release/examples/hub_phases" "$tree"
