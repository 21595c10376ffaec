#!/usr/bin/env python3
"""Build benign-long-tail.txt: real PyPI projects outside the popular list.

Deterministic: from a PyPI name listing (tab-separated, columns name, version, month, rank,
summary; header first) keep projects released in 2024 or later whose PEP 503 name is neither in
the popular list nor in the positive set, then take every k-th so that about N remain.

usage: build_benign.py PYPI_TSV TOP_TSV POSITIVES_TSV N > benign-long-tail.txt
"""
import re
import sys


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def names(path, column):
    out = set()
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        out.add(normalize(line.rstrip("\n").split("\t")[column]))
    return out


def main():
    pypi, top, positives, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    exclude = names(top, 1) | names(positives, 0)
    pool = []
    with open(pypi, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 4 or cols[3] or cols[2] < "2024-01":
                continue
            if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", cols[0]):
                continue
            if normalize(cols[0]) not in exclude:
                pool.append(cols[0])
    step = max(1, len(pool) // count)
    picked = pool[::step][:count]
    print(f"# {len(picked)} real PyPI projects outside the top-15k list (benign long tail).")
    print(f"# Built by build_benign.py: from the PyPI name listing of November 2026, projects released in")
    print(f"# 2024 or later whose PEP 503 name is neither in src/data/top-pypi-15k.tsv nor in")
    print(f"# historic-typosquats.tsv ({len(pool)} names), every {step}th name in listing order.")
    print("# A few may themselves be undiscovered squats; the alarm rate is an upper bound on false alarms.")
    for name in picked:
        print(name)


if __name__ == "__main__":
    main()
