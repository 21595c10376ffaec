#!/usr/bin/env python3
"""Write the 10,000 benchmark names: the benign long tail, the historic typosquats, and
popular names drawn at random (seeded) from the built-in list to fill up.

usage: make_names.py REPO_ROOT OUT_FILE [COUNT]
"""
import random
import sys
from pathlib import Path


def names(path, column=0):
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(line.split("\t")[column].strip())
    return out


def main():
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    data = root / "tests/data/typo"
    picked = names(data / "benign-long-tail.txt") + names(data / "historic-typosquats.tsv")
    popular = names(root / "src/data/top-pypi-15k.tsv", 1)
    picked += random.Random(20261127).sample(popular, count - len(picked))
    out.write_text("\n".join(picked) + "\n", encoding="utf-8")
    print(f"{len(picked)} names -> {out}")


if __name__ == "__main__":
    main()
