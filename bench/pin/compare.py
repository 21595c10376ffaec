"""Helper of bench/pin/run.sh: a timing loop (when hyperfine is missing) and the report.

    compare.py time --runs N --json OUT NAME PREPARE COMMAND [NAME PREPARE COMMAND ...]
    compare.py report --times TIMES.json --mlsupply FILE --uv FILE [--hashin FILE]

`time` writes hyperfine's JSON shape (results[].command/median/min/max/times). `report` prints the
pins and hash counts of each output, every difference between mlsupply-pin's and uv's pins and hash
sets, and the median times with their ratios to mlsupply-pin's. Standard library only.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import time

NAME_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirements(path):
    """{name: (version, {sha256, ...})} from a pinned file: continuations joined, comments dropped."""
    with open(path, encoding="utf-8-sig") as f:
        text = f.read().replace("\r\n", "\n").replace("\\\n", " ")
    pins = {}
    for line in text.split("\n"):
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        if not line or line.startswith("-"):
            continue
        match = NAME_RE.match(line)
        if not match:
            continue
        name = normalize(match.group(1))
        version = re.search(r"===?\s*([^\s;,\\]+)", line)
        hashes = set(re.findall(r"--hash[= ]sha256:([0-9a-fA-F]{64})", line))
        pins[name] = (version.group(1) if version else None, {h.lower() for h in hashes})
    return pins


def time_loop(args):
    triples = args.commands
    if len(triples) % 3:
        sys.exit("time: expected NAME PREPARE COMMAND triples")
    results = []
    for i in range(0, len(triples), 3):
        name, prepare, command = triples[i : i + 3]
        times = []
        for _ in range(args.runs):
            subprocess.run(prepare, shell=True, check=True)
            start = time.perf_counter()
            # Output is discarded as hyperfine does; a failing command still stops the run.
            subprocess.run(
                command,
                shell=True,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - start)
        results.append(
            {
                "command": name,
                "median": statistics.median(times),
                "min": min(times),
                "max": max(times),
                "mean": statistics.mean(times),
                "times": times,
            }
        )
        print(f"{name}: median {results[-1]['median']:.3f} s ({min(times):.3f}–{max(times):.3f})")
    with open(args.json, "w") as f:
        json.dump({"results": results}, f, indent=2)


def report(args):
    outputs = {"mlsupply-pin": args.mlsupply, "uv": args.uv}
    if args.hashin:
        outputs["hashin"] = args.hashin
    parsed = {}
    print("-- outputs (pins / hashes)")
    for tool, path in outputs.items():
        try:
            parsed[tool] = parse_requirements(path)
        except OSError as err:
            print(f"{tool:13} no output ({err})")
            continue
        pins = parsed[tool]
        total = sum(len(h) for _, h in pins.values())
        print(f"{tool:13} {len(pins)} / {total}")

    differences = 0
    mine, theirs = parsed.get("mlsupply-pin"), parsed.get("uv")
    print("-- mlsupply-pin against uv")
    if mine is None or theirs is None:
        print("cannot compare: an output is missing")
        differences += 1
    else:
        for name in sorted(set(mine) | set(theirs)):
            if name not in mine or name not in theirs:
                where = "mlsupply-pin" if name in mine else "uv"
                print(f"{name}: only in {where}")
                differences += 1
                continue
            (mv, mh), (uv, uh) = mine[name], theirs[name]
            if mv != uv:
                print(f"{name}: mlsupply-pin {mv}, uv {uv}")
                differences += 1
            elif mh != uh:
                print(
                    f"{name} {mv}: hash sets differ: {len(mh - uh)} only in mlsupply-pin, "
                    f"{len(uh - mh)} only in uv"
                )
                for h in sorted(mh - uh):
                    print(f"    only mlsupply-pin: {h}")
                for h in sorted(uh - mh):
                    print(f"    only uv:           {h}")
                differences += 1
        if not differences:
            print(f"identical: {len(mine)} pins, same versions, same hash sets")

    with open(args.times) as f:
        results = {r["command"]: r for r in json.load(f)["results"]}
    print("-- cold times (median, min–max)")
    base = results.get("mlsupply-pin")
    for tool, r in results.items():
        ratio = ""
        if base and tool != "mlsupply-pin":
            ratio = r["median"] / base["median"]
            verdict = "faster" if ratio >= 1 else "slower"
            factor = ratio if ratio >= 1 else 1 / ratio
            ratio = f"  {tool}/mlsupply-pin = {ratio:.2f}: mlsupply-pin {factor:.2f}× {verdict}"
        print(f"{tool:13} {r['median']:.3f} s ({r['min']:.3f}–{r['max']:.3f}){ratio}")
    return 1 if differences else 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("time")
    t.add_argument("--runs", type=int, default=5)
    t.add_argument("--json", required=True)
    t.add_argument("commands", nargs="+")
    r = sub.add_parser("report")
    r.add_argument("--times", required=True)
    r.add_argument("--mlsupply", required=True)
    r.add_argument("--uv", required=True)
    r.add_argument("--hashin")
    args = parser.parse_args()
    if args.mode == "time":
        time_loop(args)
        return 0
    return report(args)


if __name__ == "__main__":
    sys.exit(main())
