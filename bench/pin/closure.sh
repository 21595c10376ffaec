#!/usr/bin/env bash
# Full dependency closure (issue 4): mlsupply-pin --fix against uv pip compile --universal, on the
# ML-lite and ML-heavy lists (lite.in, heavy.in), live index, cold then warm caches, same run.
#
#   bench/pin/closure.sh [--runs N] [--sets "lite heavy"] [--index-url URL] [--pip-check]
#
#   mlsupply-pin FILE --fix --python-version 3.11            (universal is its default)
#   uv pip compile --universal --generate-hashes --python-version 3.11 FILE -o OUT
#
# Cold: an empty cache directory and the input file copied afresh before every run (uv: an empty
# --cache-dir and no output file). Warm: the cache of a previous run kept, the input copied
# afresh, so both tools redo the whole resolution from their caches. Afterwards the pins are
# compared (name, version) and every difference is listed. --pip-check runs real
# `pip install --dry-run --ignore-installed --require-hashes` WITHOUT --no-deps on mlsupply-pin's
# output for Python 3.11 and 3.12 (it downloads what pip needs to resolve).
# uv is installed by bench/pin/run.sh's venv recipe into bench/out/venv (gitignored).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/pin
OUT=$ROOT/bench/out/closure
VENV=$ROOT/bench/out/venv
UV_VERSION=0.13.9
TARGET_PYTHON=3.11
RUNS=3
INDEX_URL=https://pypi.org/simple/
SETS="lite heavy"
PIP_CHECK=0

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --sets) SETS=$2; shift 2 ;;
    --index-url) INDEX_URL=$2; shift 2 ;;
    --pip-check) PIP_CHECK=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

mkdir -p "$OUT"
if ! "$VENV/bin/uv" --version 2>/dev/null | grep -q " $UV_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
(cd "$ROOT" && cargo build --release --locked --quiet --bin mlsupply-pin)
TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
PIN=$TARGET_DIR/release/mlsupply-pin
UV=$VENV/bin/uv
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS UV_INDEX_URL UV_EXTRA_INDEX_URL UV_INDEX \
  UV_DEFAULT_INDEX UV_CACHE_DIR MLSUPPLY_CACHE_DIR
echo "mlsupply-pin: $("$PIN" --version)  uv: $("$UV" --version)  Python $TARGET_PYTHON  $RUNS runs"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"

# Prints the median wall time of RUNS runs of "$2" (each after "$1").
median() {
  local prep=$1 cmd=$2 times=()
  for _ in $(seq "$RUNS"); do
    eval "$prep"
    local start end
    start=$(date +%s.%N)
    eval "$cmd" >/dev/null 2>"$OUT/last.err" || { echo "FAILED: $cmd" >&2; cat "$OUT/last.err" >&2; return 1; }
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f s (min %.3f, max %.3f)", a[int((NR+1)/2)], a[1], a[NR]}'
}

status=0
for set in $SETS; do
  input=$HERE/$set.in
  work=$OUT/$set
  rm -rf "$work"
  mkdir -p "$work"
  m_out=$work/mlsupply.txt
  u_out=$work/uv.txt
  # --fix exits 1 when findings remain (a warning about a dynamic sdist, say); 2 is an error.
  m_cmd="PIP_CONFIG_FILE=/dev/null MLSUPPLY_CACHE_DIR='$work/m-cache' '$PIN' '$m_out' --fix --no-config --python-version $TARGET_PYTHON --index-url '$INDEX_URL' || [ \$? -eq 1 ]"
  u_cmd="'$UV' pip compile --quiet --no-config --cache-dir '$work/u-cache' --universal --generate-hashes --python-version $TARGET_PYTHON --index-url '$INDEX_URL' '$input' -o '$u_out'"
  echo
  echo "== $set ($(grep -c . "$input") top-level requirements)"
  echo "mlsupply-pin cold: $(median "rm -rf '$work/m-cache'; cp '$input' '$m_out'" "$m_cmd")"
  echo "mlsupply-pin warm: $(median "cp '$input' '$m_out'" "$m_cmd")"
  echo "uv cold:           $(median "rm -rf '$work/u-cache' '$u_out'" "$u_cmd")"
  echo "uv warm:           $(median "rm -f '$u_out'" "$u_cmd")"

  "$VENV/bin/python" "$HERE/closure_compare.py" "$m_out" "$u_out" "$TARGET_PYTHON" || status=1

  if [ "$PIP_CHECK" = 1 ]; then
    for py in 3.11 3.12; do
      if PIP_CONFIG_FILE=/dev/null "$VENV/bin/python" -m pip install --quiet --dry-run \
          --ignore-installed --require-hashes --python-version "$py" --only-binary=:all: \
          --target "$work/pip-target-$py" --index-url "$INDEX_URL" --no-cache-dir -r "$m_out" \
          >"$work/pip-$py.log" 2>&1; then
        echo "pip $py (with dependencies, hash mode): accepted"
      else
        echo "pip $py: REFUSED (see $work/pip-$py.log)"; tail -3 "$work/pip-$py.log"; status=1
      fi
    done
  fi
done
exit $status
