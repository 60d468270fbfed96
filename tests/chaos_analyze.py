#!/usr/bin/env python3
"""Fencing analysis of a chaos run: did any superseded claim change a row?

usage: chaos_analyze.py CLAIMS.jsonl RESULTS.jsonl HANDOFFS.jsonl ROWS.tsv STALE_OUT
  *.jsonl  wf4-inspect output of the run's topics
  ROWS.tsv id, domain, status, claim_id, attempts, handoff_event_id (psql -F'\t')
Prints "name value" lines (counts, and violations which must be 0), and writes STALE_OUT:
wf4-resultgen lines carrying superseded claim ids for terminal rows (an older claim of the
domain where there is one, else a claim id that was never issued).
"""
import json
import sys
import uuid


def load(path):
    out = []
    with open(path) as f:
        for line in f:
            try:
                v = json.loads(line).get("value")
            except ValueError:
                continue
            if isinstance(v, dict) and "claim_id" in v:
                out.append(v)
    return out


def main():
    claims, results, handoffs = (load(p) for p in sys.argv[1:4])
    rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[4]) if l.strip()]
    by_domain = {}
    for c in claims:
        by_domain.setdefault(c["domain_id"], {})[c["claim_id"]] = c["attempt"]
    success = {(r["domain_id"], r["claim_id"]) for r in results if r.get("outcome") == "SUCCESS"}
    ho_claim = {h["event_id"]: h["claim_id"] for h in handoffs}
    final_claim = {r[0]: r[3] for r in rows}
    n = {"claims_issued": len(claims), "domains_reclaimed": 0, "results": len(results),
         "results_of_older_claims": 0, "completed_checked": 0,
         "violation_completed_by_older_claim": 0, "violation_claim_never_published": 0,
         "violation_completed_without_success_result": 0,
         "violation_handoff_claim_mismatch": 0}
    n["domains_reclaimed"] = sum(1 for v in by_domain.values() if len(v) > 1)
    n["results_of_older_claims"] = sum(
        1 for r in results if final_claim.get(r["domain_id"]) not in (None, r["claim_id"]))
    stale = []
    for rid, domain, status, claim_id, attempts, event_id in rows:
        issued = by_domain.get(rid, {})
        older = [c for c in issued if c != claim_id]
        if status == "completed":
            n["completed_checked"] += 1
            if claim_id not in issued:
                n["violation_claim_never_published"] += 1
            elif issued[claim_id] != max(issued.values()) or str(issued[claim_id]) != attempts:
                n["violation_completed_by_older_claim"] += 1
            if (rid, claim_id) not in success:
                n["violation_completed_without_success_result"] += 1
            if ho_claim.get(event_id) != claim_id:
                n["violation_handoff_claim_mismatch"] += 1
        if status in ("completed", "error"):
            stale_claim = older[0] if older else str(uuid.uuid4())
            # The outcome that would change the row if fencing failed.
            stale.append((not older, "%s %s %s %s" % (
                rid, stale_claim, domain, "fail" if status == "completed" else "success")))
    # Rows with a real older claim first, then never-issued claim ids; 400 at most.
    stale = [s for _, s in sorted(stale, key=lambda t: t[0])][:400]
    with open(sys.argv[5], "w") as f:
        f.write("\n".join(stale) + "\n")
    n["stale_injected"] = len(stale)
    n["stale_with_real_older_claim"] = sum(
        1 for s in stale if s.split()[1] in by_domain.get(s.split()[0], {}))
    for k, v in n.items():
        print(k, v)


if __name__ == "__main__":
    main()
