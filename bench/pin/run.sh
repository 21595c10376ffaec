#!/usr/bin/env bash
# Benchmark of mlsupply-pin against uv and hashin: the top-level pins with hashes of the ML-lite and
# ML-heavy lists (lite.in, heavy.in), against the live index, cold caches, all three in the same run.
#
#   bench/pin/run.sh [--runs N] [--index-url URL] [--sets "lite heavy"] [--pip-check] [--no-hyperfine]
#
#   mlsupply-pin FILE --fix --python-version 3.11
#   uv pip compile --no-deps --generate-hashes --python-version 3.11 --no-cache
#   hashin -r FILE NAME... (hashin cannot pin ranges: it gets the bare names)
#
# Cold: every run starts with an empty cache and no output file (uv reuses an existing output).
# Times come from hyperfine when it is installed (apt-get install hyperfine), else from a timing loop
# in compare.py. Afterwards compare.py checks that mlsupply-pin's pins and hash sets equal uv's,
# prints every difference, and prints the time ratios. --pip-check also runs real
# `pip install --dry-run --require-hashes` on mlsupply-pin's output (it downloads every pinned file).
# Everything is written under bench/out/ (gitignored).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/pin
OUT=$ROOT/bench/out/pin
VENV=$ROOT/bench/out/venv
UV_VERSION=0.13.9
HASHIN_VERSION=1.0.5
TARGET_PYTHON=3.11
RUNS=5
INDEX_URL=https://pypi.org/simple/
SETS="lite heavy"
PIP_CHECK=0
USE_HYPERFINE=1

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --index-url) INDEX_URL=$2; shift 2 ;;
    --sets) SETS=$2; shift 2 ;;
    --pip-check) PIP_CHECK=1; shift ;;
    --no-hyperfine) USE_HYPERFINE=0; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

mkdir -p "$OUT"

echo "== tools"
if ! "$VENV/bin/uv" --version 2>/dev/null | grep -q " $UV_VERSION" \
   || ! "$VENV/bin/python" -m pip show hashin 2>/dev/null | grep -q "^Version: $HASHIN_VERSION\$"; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "uv==$UV_VERSION" "hashin==$HASHIN_VERSION"
fi
(cd "$ROOT" && cargo build --release --locked --quiet --bin mlsupply-pin)
TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps \
  | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
PIN=$TARGET_DIR/release/mlsupply-pin
UV=$VENV/bin/uv
HASHIN=$VENV/bin/hashin
echo "mlsupply-pin: $("$PIN" --version 2>/dev/null || echo unknown)"
echo "uv:           $("$UV" --version)"
echo "hashin:       $HASHIN_VERSION"
if [ "$USE_HYPERFINE" = 1 ] && command -v hyperfine >/dev/null; then
  echo "timing:       $(hyperfine --version)"
else
  echo "timing:       compare.py's timing loop"
fi
echo "index:        $INDEX_URL; target Python $TARGET_PYTHON; $RUNS runs; cold caches"
echo "machine:      $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"

# Nothing from the user's configuration changes what the tools do.
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS UV_INDEX_URL UV_EXTRA_INDEX_URL UV_INDEX \
  UV_DEFAULT_INDEX UV_CACHE_DIR

status=0
for set in $SETS; do
  input=$HERE/$set.in
  work=$OUT/$set
  rm -rf "$work"
  mkdir -p "$work/mlsupply" "$work/uv" "$work/hashin"
  names=$(sed -e 's/[<>=!~;[ ].*//' "$input" | tr '\n' ' ')

  m_out=$work/mlsupply/requirements.txt
  m_prep="rm -rf '$work/mlsupply/home' && mkdir -p '$work/mlsupply/home' && cp '$input' '$m_out'"
  # --fix exits 1 when it changed the file: that is the expected outcome here; 2 is an error.
  m_cmd="HOME='$work/mlsupply/home' XDG_CACHE_HOME='$work/mlsupply/home/cache' PIP_CONFIG_FILE=/dev/null '$PIN' '$m_out' --fix --no-deps --no-config --python-version $TARGET_PYTHON --index-url '$INDEX_URL' >/dev/null || [ \$? -eq 1 ]"

  u_out=$work/uv/requirements.txt
  u_prep="rm -f '$u_out'"
  u_cmd="'$UV' pip compile --quiet --no-config --no-cache --no-deps --generate-hashes --python-version $TARGET_PYTHON --index-url '$INDEX_URL' '$input' -o '$u_out'"

  h_out=$work/hashin/requirements.txt
  h_prep=": > '$h_out'"
  h_cmd="'$HASHIN' -r '$h_out' $names"
  if [ "$INDEX_URL" != "https://pypi.org/simple/" ]; then
    # hashin reads the legacy JSON API at <index>/pypi/<name>/json.
    h_cmd="$h_cmd --index-url '${INDEX_URL%/simple/}'"
  fi

  echo
  echo "== $set ($(wc -l < "$input") top-level requirements)"
  if [ "$USE_HYPERFINE" = 1 ] && command -v hyperfine >/dev/null; then
    hyperfine --runs "$RUNS" --style basic --export-json "$work/times.json" \
      --prepare "$m_prep" -n mlsupply-pin "$m_cmd" \
      --prepare "$u_prep" -n uv "$u_cmd" \
      --prepare "$h_prep" -n hashin "$h_cmd"
  else
    "$VENV/bin/python" "$HERE/compare.py" time --runs "$RUNS" --json "$work/times.json" \
      mlsupply-pin "$m_prep" "$m_cmd" uv "$u_prep" "$u_cmd" hashin "$h_prep" "$h_cmd"
  fi

  "$VENV/bin/python" "$HERE/compare.py" report --times "$work/times.json" \
    --mlsupply "$m_out" --uv "$u_out" --hashin "$h_out" || status=1

  if [ "$PIP_CHECK" = 1 ]; then
    echo "-- pip install --dry-run --require-hashes on mlsupply-pin's $set output"
    PIP_CONFIG_FILE=/dev/null "$VENV/bin/python" -m pip install --quiet --dry-run --no-deps \
      --ignore-installed --require-hashes --python-version "$TARGET_PYTHON" --only-binary=:all: \
      --target "$work/pip-target" \
      --index-url "$INDEX_URL" --no-cache-dir -r "$m_out" && echo "pip: accepted" || status=1
  fi
done
[ "$status" = 0 ] || echo "== differences or failures above" >&2
exit "$status"
