#!/usr/bin/env python3
"""Merges the two halves of the side-by-side benchmark (standard library only).

    python bench/merge.py OURS_JSON TORCH_JSON OUT_JSON

Reads `[{"workload", "ours_us"}]` (from `candle-dist bench --json`) and
`[{"workload", "torch_us"}]` (from bench/torch_peer.py --json), prints the markdown table
`| workload | torch µs | ours µs | torch/ours |` and writes
`[{"workload", "torch_us", "ours_us", "ratio"}]` to OUT_JSON, with ratio = torch/ours
(above 1: we are faster). Workloads present on one side only get null for the other.
"""

import json
import os
import sys


def fmt_us(us):
    if us is None:
        return "–"
    if us >= 100:
        return f"{us:.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.2f}"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    ours_path, torch_path, out_path = sys.argv[1:]
    with open(ours_path) as f:
        ours = {r["workload"]: r["ours_us"] for r in json.load(f)}
    with open(torch_path) as f:
        theirs = {r["workload"]: r["torch_us"] for r in json.load(f)}

    names = list(ours) + [n for n in theirs if n not in ours]
    rows = []
    for name in names:
        o, t = ours.get(name), theirs.get(name)
        ratio = round(t / o, 3) if o and t is not None else None
        rows.append({"workload": name, "torch_us": t, "ours_us": o, "ratio": ratio})

    print("| workload | torch µs | ours µs | torch/ours |")
    print("|---|---:|---:|---:|")
    for r in rows:
        ratio = "–" if r["ratio"] is None else f"{r['ratio']:.2f}×"
        print(f"| {r['workload']} | {fmt_us(r['torch_us'])} | {fmt_us(r['ours_us'])} | {ratio} |")

    d = os.path.dirname(out_path)
    if d:
        os.makedirs(d, exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(rows, f, indent=2)
        f.write("\n")
    print(f"\nwrote {out_path} (ratio = torch/ours; above 1 means candle-distributions is faster)")


if __name__ == "__main__":
    main()
