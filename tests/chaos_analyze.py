#!/usr/bin/env python3
"""Fencing analysis of a chaos run: did any superseded claim change a row?

usage: chaos_analyze.py CLAIMS.jsonl RESULTS.jsonl HANDOFFS.jsonl ROWS.tsv STALE_OUT
                        [CREDITS.tsv CHARGED]
  *.jsonl  wf4-inspect output of the run's topics
  ROWS.tsv id, domain, status, claim_id, attempts, handoff_event_id (psql -F'\t')
  CREDITS.tsv  id, credits_spent (psql -F'\t'); CHARGED  what the stand-in charged in all
Prints "name value" lines (counts, and violations which must be 0), and writes STALE_OUT:
wf4-resultgen lines carrying superseded claim ids for terminal rows (an older claim of the
domain where there is one, else a claim id that was never issued). With CREDITS.tsv, also
the credits: charged, carried by results, counted by the database, and where they differ.
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
    if len(sys.argv) > 7:
        n.update(credits(sys.argv[6], int(sys.argv[7]), sys.argv[2], rows))
    for k, v in n.items():
        print(k, v)


def credits(credits_tsv, charged, results_path, rows):
    """The database counts a claim's credits once, from the first result the committer
    applies or supersedes; a later result of the same claim (the claim replayed to a
    scraper after a kill, scraped and paid again) adds nothing. So per domain the database
    should equal the sum over its claims of the first result's credits (Kafka order), except
    where two results of one claim met in one committer batch: its successes are applied
    before its failures, so a failure (0 credits) followed by a success (1) counts 1."""
    db = {r[0]: int(r[1]) for r in (l.rstrip("\n").split("\t") for l in open(credits_tsv)) if len(r) == 2}
    first, dup_n, dup_credits, total = {}, 0, 0, 0
    by_domain_first = {}
    for r in sorted(load_full(results_path), key=lambda m: (m["partition"], m["offset"])):
        v = r["value"]
        c = int(v.get("credits") or 0)
        total += c
        if v["claim_id"] in first:
            dup_n += 1
            dup_credits += c
            continue
        first[v["claim_id"]] = c
        by_domain_first[v["domain_id"]] = by_domain_first.get(v["domain_id"], 0) + c
    completed = sum(1 for r in rows if r[2] == "completed")
    db_total = sum(db.values())
    diff = {d: db.get(d, 0) - by_domain_first.get(d, 0)
            for d in set(db) | set(by_domain_first) if db.get(d, 0) != by_domain_first.get(d, 0)}
    for d in sorted(diff)[:5]:
        print("credits_diff_domain %s database %d first_results %d" % (d, db.get(d, 0), by_domain_first.get(d, 0)),
              file=sys.stderr)
    return {"credits_charged": charged, "credits_in_results": total,
            "credits_database": db_total, "credits_completed_domains": completed,
            "credits_per_completed_domain": "%.2f" % (db_total / completed if completed else 0),
            "credits_lost_to_kills": charged - db_total,
            "credits_charged_without_result": charged - total,
            "credits_results_of_replayed_claims": dup_credits, "results_of_replayed_claims": dup_n,
            "credits_first_results": total - dup_credits,
            "credits_domains_database_differs": len(diff),
            "credits_database_minus_first_results": db_total - (total - dup_credits)}


def load_full(path):
    out = []
    with open(path) as f:
        for line in f:
            try:
                m = json.loads(line)
            except ValueError:
                continue
            if (isinstance(m.get("value"), dict) and "claim_id" in m["value"]
                    and not str(m.get("key", "")).startswith("poison-")):
                out.append(m)
    return out


if __name__ == "__main__":
    main()
