#!/usr/bin/env python3
"""The plain edit-distance baseline of the reference (OSA <= 1, and OSA <= 1 for names of four
or more characters) on the evaluation sets, for comparison with tests/typo_eval.rs.

usage: osa_baseline.py REPO_ROOT
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests/data/typo"))
from label_targets import deletes, normalize, osa  # noqa: E402


def rows(path, column=0):
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            yield line.split("\t")[column].strip()


def main():
    root = Path(sys.argv[1])
    popular = {normalize(n) for n in rows(root / "src/data/top-pypi-15k.tsv", 1)}
    index = {}
    for name in popular:
        for key in deletes(name, 1):
            index.setdefault(key, set()).add(name)

    def hit(name, min_len):
        name = normalize(name)
        if name in popular or len(name) < min_len:
            return False
        cands = set()
        for key in deletes(name, 1):
            cands |= index.get(key, set())
        return any(osa(name, c, 1) <= 1 for c in cands)

    data = root / "tests/data/typo"
    positives = list(rows(data / "historic-typosquats.tsv"))
    negatives = list(rows(data / "benign-long-tail.txt"))
    for min_len in (1, 4):
        tp = sum(hit(n, min_len) for n in positives)
        fp = sum(hit(n, min_len) for n in negatives)
        print(f"OSA<=1, length>={min_len}: recall {tp}/{len(positives)} = "
              f"{100 * tp / len(positives):.1f} %, alarms {fp}/{len(negatives)} = "
              f"{100 * fp / len(negatives):.2f} %")


if __name__ == "__main__":
    main()
