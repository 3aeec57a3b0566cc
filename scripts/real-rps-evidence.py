#!/usr/bin/env python3
"""Checks that docs/real-rps.md explains every fail, wrong-code and error of a table.

    scripts/real-rps-evidence.py TABLE.md [docs/real-rps.md]

TABLE is the matrix Markdown (README.md, whose table is between its real-rps markers, or
reports/real-rps/matrix.md). Each
library's section of the page has a line `Columns: `...` `...`` naming its columns as the
table heads them; every scenario that one of those columns fails (or gets wrong-code or
error) must be named in that section, in backticks (`suite/id` or `id`). Exit 1, listing
what is missing, when one is not.
"""

import re
import sys


def table(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    begin = [i for i, l in enumerate(lines) if l.startswith("<!-- real-rps:begin")]
    if begin:
        end = next(i for i, l in enumerate(lines) if l.startswith("<!-- real-rps:end"))
        lines = lines[begin[0] + 1 : end]
    rows = [l for l in lines if l.startswith("| ")]
    head = [c.strip() for c in rows[0].strip().strip("|").split("|")]
    out = []
    for r in rows[2:]:
        cells = [c.strip() for c in r.strip().strip("|").split("|")]
        scenario = cells[0].strip("`")
        if scenario.startswith("**"):
            continue
        for col, cell in zip(head[1:], cells[1:]):
            for verdict in ("fail", "wrong-code", "error"):
                if re.search(rf"\b{verdict}\b", cell):
                    out.append((col, scenario, verdict))
    return head[1:], out


def sections(path):
    text = open(path, encoding="utf-8").read()
    out = {}
    for part in re.split(r"\n(?=## )", text):
        m = re.search(r"^Columns: (.+)$", part, re.M)
        if not m:
            continue
        for col in re.findall(r"`([^`]+)`", m.group(1)):
            out[col] = part
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    page = sys.argv[2] if len(sys.argv) > 2 else "docs/real-rps.md"
    cols, bad = table(sys.argv[1])
    docs = sections(page)
    missing = [c for c in cols if c not in docs]
    for c in missing:
        print(f"error: {page} has no section whose `Columns:` line names `{c}`", file=sys.stderr)
    unexplained = []
    for col, scenario, verdict in bad:
        section = docs.get(col)
        if section is None:
            continue
        short = scenario.split("/")[-1]
        if f"`{scenario}`" not in section and f"`{short}`" not in section:
            unexplained.append((col, scenario, verdict))
    for col, scenario, verdict in unexplained:
        print(f"error: {page}: `{col}` {verdict}s `{scenario}`, and its section does not say why", file=sys.stderr)
    if missing or unexplained:
        return 1
    print(f"{page} explains all {len(bad)} fail, wrong-code and error verdicts of the table", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
