"""Compares mlsupply-pin's closure with uv's: closure_compare.py MLSUPPLY_FILE UV_FILE PYTHON.

uv --universal forks by Python version, so it may list a package twice (`numpy==2.4.6 ;
python_full_version < '3.12'` and `numpy==2.5.5 ; python_full_version >= '3.12'`); mlsupply-pin
resolves one version per package for the target Python. Only uv's entries that apply to the target
on some platform are compared; the others are listed with that reason. Exit 1 on a difference.
Runs with the bench venv's Python (packaging comes vendored in pip).
"""

import re
import sys

from pip._vendor.packaging.markers import Marker

PLATFORMS = [
    ("linux", "Linux", "posix", "x86_64"),
    ("linux", "Linux", "posix", "aarch64"),
    ("win32", "Windows", "nt", "AMD64"),
    ("darwin", "Darwin", "posix", "arm64"),
    ("emscripten", "Emscripten", "posix", "wasm32"),
]
LINE = re.compile(r"([A-Za-z0-9._-]+)(\[[^\]]*\])?\s*==\s*([^\s;]+)\s*(;\s*(.*?))?\s*(--hash|$)")


def environments(target):
    for sys_platform, system, os_name, machine in PLATFORMS:
        yield {
            "sys_platform": sys_platform,
            "platform_system": system,
            "os_name": os_name,
            "platform_machine": machine,
            "python_version": target,
            "python_full_version": target + ".0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
        }


def applies(marker, target):
    return not marker or any(Marker(marker).evaluate(env) for env in environments(target))


def pins(path):
    text = open(path, encoding="utf-8").read().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        m = LINE.match(line)
        if m:
            name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
            yield name, m.group(3), (m.group(5) or "").strip(), line.count("--hash=")


def main():
    mine_path, uv_path, target = sys.argv[1:4]
    mine = {name: (v, mk, h) for name, v, mk, h in pins(mine_path)}
    uv, other = {}, []
    for name, version, marker, hashes in pins(uv_path):
        if applies(marker, target):
            uv[name] = (version, marker, hashes)
        else:
            other.append(f"{name}=={version} ; {marker}")
    print(
        f"packages: mlsupply-pin {len(mine)}, uv {len(uv)} for Python {target}"
        f" (+{len(other)} uv entries for other Pythons)"
    )
    diff = 0
    for name in sorted(set(mine) | set(uv)):
        a, b = mine.get(name), uv.get(name)
        if a is None:
            print(f"  only uv:           {name}=={b[0]} ; {b[1]}")
        elif b is None:
            print(f"  only mlsupply-pin: {name}=={a[0]} ; {a[1]}")
        elif a[0] != b[0]:
            print(f"  version differs:   {name} mlsupply-pin {a[0]}, uv {b[0]}")
        elif a[2] != b[2]:
            print(f"  hash count:        {name}=={a[0]} mlsupply-pin {a[2]}, uv {b[2]}")
        else:
            continue
        diff += 1
    for entry in other:
        print(f"  uv only, not for Python {target} (uv forks by Python version): {entry}")
    print("pins agree" if diff == 0 else f"{diff} difference(s)")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
