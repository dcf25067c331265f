#!/usr/bin/env python3
"""Fails when a dependency of the workspace carries a license outside the permissive allow-list.

Reads `cargo metadata` (no network needed once dependencies are fetched). A license expression
passes when one of its alternatives (split on OR) is made only of allowed licenses (split on AND/WITH).
"""
import json
import re
import subprocess
import sys

ALLOWED = {
    "MIT", "MIT-0", "Apache-2.0", "Apache-2.0 WITH LLVM-exception", "BSD-2-Clause", "BSD-3-Clause",
    "ISC", "Zlib", "Unicode-3.0", "Unicode-DFS-2016", "CC0-1.0", "Unlicense", "BSL-1.0", "0BSD",
    "MPL-2.0", "bzip2-1.0.6", "CDLA-Permissive-2.0", "LLVM-exception",
}


def alternative_ok(alt: str) -> bool:
    terms = [t.strip(" ()") for t in re.split(r"\bAND\b", alt)]
    return all(t in ALLOWED or t.split(" WITH ")[0].strip() in ALLOWED for t in terms if t)


def expression_ok(expr: str) -> bool:
    expr = expr.replace("/", " OR ")
    return any(alternative_ok(a.strip(" ()")) for a in re.split(r"\bOR\b", expr))


def main() -> int:
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked"], text=True))
    workspace = set(meta["workspace_members"])
    bad = []
    for pkg in meta["packages"]:
        if pkg["id"] in workspace:
            continue
        lic = pkg.get("license")
        if not lic or not expression_ok(lic):
            bad.append(f'{pkg["name"]} {pkg["version"]}: {lic or "no license field"}')
    if bad:
        print("dependencies with a license outside the allow-list:", *bad, sep="\n  ")
        return 1
    print(f"licenses ok ({len(meta['packages']) - len(workspace)} dependencies checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
