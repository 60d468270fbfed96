#!/usr/bin/env python3
"""Benchmark report: merges the rows of each benchmark (OUT/*.rows, JSON lines) into
bench/results/latest.json and prints the table (Markdown) that bench/RESULTS.md holds."""
import json
import sys

TITLES = {
    "scraper": "1. Scraper against Little's law",
    "pipeline": "2 + 4. Whole pipeline: database time per domain, latencies",
    "dbthroughput": "3. Database-side throughput (no API)",
    "antipattern": "5. The anti-pattern (incident AP-20250730-002) beside the pipeline",
}
ORDER = ["scraper", "pipeline", "dbthroughput", "antipattern"]


def fmt(v):
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def title(b):
    base, _, rf = b.partition(".rf")
    if rf:
        return f"{TITLES.get(base, base)}: on {rf} brokers, replication 3"
    return TITLES.get(b, b)


def replication(data):
    """The figures of each benchmark run on both stacks (NAME and NAME.rfN), side by side."""
    lines = []
    for b in [b for b in data if ".rf" in b]:
        base, _, n = b.partition(".rf")
        if base not in data:
            continue
        if not lines:
            lines.append(f"\n### Replication: 1 broker beside {n} brokers (replication 3, "
                         f"min.insync.replicas 2), same run\n")
            lines.append(f"| figure | 1 broker | {n} brokers | unit | {n} brokers / 1 broker |")
            lines.append("|---|---:|---:|---|---:|")
        one = {r["key"]: r for r in data[base]["rows"]}
        for r in data[b]["rows"]:
            o = one.get(r["key"])
            if not o or not isinstance(r["value"], (int, float)) or not isinstance(o["value"], (int, float)):
                continue
            ratio = fmt(round(r["value"] / o["value"], 3)) if o["value"] else ""
            lines.append(f"| {o['figure']} | {fmt(o['value'])} | {fmt(r['value'])} | {r['unit']} | {ratio} |")
    return "\n".join(lines) + ("\n" if lines else "")


def table(data):
    lines = []
    for b in [b for b in ORDER if b in data] + [b for b in data if b not in ORDER]:
        lines.append(f"\n### {title(b)}\n")
        lines.append("| figure | value | unit | bound (same run) | ratio | target | result |")
        lines.append("|---|---:|---|---|---:|---|---|")
        for r in data[b]["rows"]:
            bound = fmt(r["bound"]) + (f" ({r['bound_what']})" if r["bound_what"] else "")
            res = {True: "PASS", False: "**FAIL**", None: ""}[r["pass"]]
            lines.append(f"| {r['figure']} | {fmt(r['value'])} | {r['unit']} | {bound.strip()} "
                         f"| {fmt(r['ratio'])} | {r['target']} | {res} |")
        for n in data[b]["notes"]:
            lines.append(f"\n- {n}")
    return "\n".join(lines) + "\n"


def main():
    out, machine_json, json_path = sys.argv[1], sys.argv[2], sys.argv[3]
    names = sys.argv[4:]
    data = {}
    for name in names:
        rows, notes = [], []
        try:
            with open(f"{out}/{name}.rows") as f:
                for line in f:
                    o = json.loads(line)
                    (notes.append(o["note"]) if "note" in o else rows.append(o))
        except FileNotFoundError:
            notes.append("did not run to the end (see its log)")
        data[name] = {"rows": rows, "notes": notes}
    with open(machine_json) as f:
        machine = json.load(f)
    verdicts = [r["pass"] for b in data.values() for r in b["rows"] if r["pass"] is not None]
    doc = {"machine": machine, "benchmarks": data,
           "summary": {"targets": len(verdicts), "passed": sum(1 for v in verdicts if v)}}
    with open(json_path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    m = machine
    print(f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram']} RAM, Linux {m['kernel']}, "
          f"{m['postgres']}, Kafka {m['kafka']}; run {m['date']}"
          f"{' (--quick)' if m['quick'] else ''}; {doc['summary']['passed']} of "
          f"{doc['summary']['targets']} targets passed.")
    print(replication(data) + table(data))


if __name__ == "__main__":
    main()
