#!/usr/bin/env bash
# Seeds each fuzz target's corpus (fuzz/corpus/<target>/) with the fixture files it parses, so
# the fixtures are not committed twice. Run from anywhere; safe to run again (it only adds).
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures=tests/fixtures

seed() {
    local target=$1
    shift
    mkdir -p "fuzz/corpus/$target"
    local file
    for file in "$@"; do
        [ -f "$file" ] || continue
        cp "$file" "fuzz/corpus/$target/$(echo "${file#"$fixtures"/}" | tr / _)"
    done
}

shopt -s globstar nullglob
seed requirements $fixtures/requirements/**/*.txt $fixtures/**/requirements*.txt \
    $fixtures/**/requirements/*.txt $fixtures/pin/forms/input.txt
seed hub_focus $fixtures/**/*.py
seed notebook $fixtures/**/*.ipynb
seed shell $fixtures/**/*.sh $fixtures/**/Dockerfile* $fixtures/pin/forms/input.txt
seed makefile $fixtures/**/Makefile
for dir in fuzz/corpus/*/; do
    echo "$dir: $(find "$dir" -type f | wc -l) files"
done
