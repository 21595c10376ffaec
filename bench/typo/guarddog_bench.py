#!/usr/bin/env python3
"""Time DataDog guarddog's PyPI typosquatting check on the benchmark names.

guarddog's detector (guarddog.analyzer.metadata.pypi.typosquatting.PypiTyposquatDetector) is
called directly, on the same popular list as mlsupply (src/data/top-pypi-15k.tsv) instead of
the list it would download, so that no network is used and both tools compare against the same
corpus. Only the check loop is timed. With --eval it also scores guarddog on the evaluation
sets (historic typosquats, benign long tail) for comparison with tests/typo_eval.rs.

usage: guarddog_bench.py REPO_ROOT NAMES_FILE [--limit N] [--eval]
"""
import argparse
import logging
import time
from pathlib import Path

import packaging.utils
import requests


def _offline(*args, **kwargs):
    raise requests.exceptions.ConnectionError("network disabled for the benchmark")


# Importing guarddog instantiates its detectors, which try to refresh their download lists;
# refuse before any connection is attempted (they then fall back to their bundled caches).
requests.get = _offline
logging.getLogger("guarddog").setLevel(logging.CRITICAL)

from guarddog.analyzer.metadata.pypi.typosquatting import PypiTyposquatDetector  # noqa: E402


def read_names(path, column=0):
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(line.split("\t")[column].strip())
    return out


class OfflineDetector(PypiTyposquatDetector):
    """guarddog's detector with the popular list handed in rather than downloaded."""

    def __init__(self, popular):
        self.popular_packages = {packaging.utils.canonicalize_name(n) for n in popular}


def check(detector, name):
    return detector.get_typosquatted_package(packaging.utils.canonicalize_name(name))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("names", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--eval", action="store_true")
    args = parser.parse_args()

    popular = read_names(args.root / "src/data/top-pypi-15k.tsv", 1)
    detector = OfflineDetector(popular)
    names = read_names(args.names)
    if args.limit:
        names = names[: args.limit]

    start, cpu_start = time.perf_counter(), time.process_time()
    flagged = sum(1 for name in names if check(detector, name))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"names={len(names)}")
    print(f"flagged={flagged}")
    print(f"check_ms={elapsed * 1e3:.1f}")
    print(f"check_cpu_ms={cpu * 1e3:.1f}")
    print(f"per_name_us={elapsed * 1e6 / max(1, len(names)):.1f}")

    if args.eval:
        data = args.root / "tests/data/typo"
        text = (data / "historic-typosquats.tsv").read_text(encoding="utf-8")
        rows = [l.split("\t") for l in text.splitlines() if l.strip() and not l.startswith("#")]
        caught = right = 0
        for name, target, *_ in rows:
            hits = check(detector, name)
            if hits:
                caught += 1
                right += packaging.utils.canonicalize_name(target) in hits
        benign = read_names(data / "benign-long-tail.txt")
        alarms = sum(1 for name in benign if check(detector, name))
        print(f"eval_recall={caught}/{len(rows)}={100 * caught / len(rows):.1f}%")
        print(f"eval_target_among_hits={right}/{caught}")
        print(f"eval_alarm_rate={alarms}/{len(benign)}={100 * alarms / len(benign):.2f}%")


if __name__ == "__main__":
    main()
