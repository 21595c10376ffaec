#!/usr/bin/env python3
"""Label reported malicious PyPI names with the popular project each one imitates.

Independent of the Rust detector on purpose: a brute-force optimal-string-alignment search
(distance <= 2, separators ignored, `py`/`python` affixes ignored) over the popular list, the
most popular closest name winning. Its output is reviewed by hand before it is committed to
historic-typosquats.tsv; names with no sensible target are dropped there, not here.

usage: label_targets.py TOP_TSV NAMES_FILE SOURCE > candidates.tsv
"""
import re
import sys
from itertools import combinations


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def osa(a, b, limit):
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2 = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def deletes(word, depth):
    out = {word}
    for d in range(1, depth + 1):
        for idx in combinations(range(len(word)), d):
            out.add("".join(c for k, c in enumerate(word) if k not in idx))
    return out


def core(name):
    flat = name.replace("-", "")
    for prefix in ("python", "py"):
        if flat.startswith(prefix) and len(flat) > len(prefix) + 2:
            flat = flat[len(prefix):]
            break
    for suffix in ("python", "py"):
        if flat.endswith(suffix) and len(flat) > len(suffix) + 2:
            flat = flat[: -len(suffix)]
            break
    return flat


def main():
    top_path, names_path, source = sys.argv[1:4]
    ranks = {}
    for line in open(top_path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        rank, name = line.rstrip("\n").split("\t")[:2]
        ranks.setdefault(normalize(name), int(rank))
    index = {}
    for name in ranks:
        for key in deletes(name.replace("-", ""), 2):
            index.setdefault(key, set()).add(name)
        index.setdefault("core:" + core(name), set()).add(name)
    for raw in open(names_path, encoding="utf-8").read().split():
        name = normalize(raw)
        if name in ranks:
            continue
        flat = name.replace("-", "")
        limit = 1 if len(flat) < 6 else 2
        cands = set()
        for key in deletes(flat, 2):
            cands |= index.get(key, set())
        best = None
        for cand in cands:
            dist = osa(flat, cand.replace("-", ""), limit)
            if dist <= limit:
                score = (dist, ranks[cand])
                if best is None or score < best[0]:
                    best = (score, cand)
        for cand in index.get("core:" + core(name), set()):
            score = (0, ranks[cand])
            if best is None or score < best[0]:
                best = (score, cand)
        if best:
            print(f"{raw}\t{best[1]}\t{source}\t{best[0][0]}\t{best[0][1]}")


if __name__ == "__main__":
    main()
