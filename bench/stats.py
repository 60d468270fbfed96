#!/usr/bin/env python3
"""The benchmarks' statistics: what bench/*.sh derive from their raw measurements.

usage: stats.py FIGURES NAME=VALUE...     the derived figures of one measurement, printed as
                                          shell assignments F_name=value (bench/lib.sh
                                          `figures` sets them); FIGURES is one of burst,
                                          trickle_db, scraper1, scraper2, antipattern,
                                          claimer_run, committer_run, target
       stats.py since T0                  seconds since T0 (epoch, fractional), 1 decimal
       stats.py delta REGEX BEFORE... -- AFTER...
                                          sum of the /metrics series matching ^REGEX over the
                                          AFTER pages minus the BEFORE pages
       stats.py hist OUT BEFORE... -- AFTER...
                                          the wf4_db_transaction_seconds histogram between the
                                          two sets of pages ("le count" lines into OUT) and
                                          its p50 and p99 (bucket upper bounds) printed
       stats.py log_rate REGEX LOG...     items per second from service log lines (a group n:
                                          one line per batch of n, the first only starts the
                                          clock; with a group ms: a round of n over ms)
       stats.py trickle DIR               selection-to-claim and claim-to-handoff latencies of
                                          pipeline part B from DIR/rows.B, claims.B, results.B
Values print as Python prints them (the tables' figures are unchanged from bench/README.md).
"""
import datetime
import fileinput
import json
import re
import shlex
import sys
import time


def num(s):
    """A figure as the bench scripts pass it: an integer, a float, or nan/inf."""
    try:
        return int(s)
    except ValueError:
        return float(s)


# ---------------------------------------------------------------- figures of a measurement

def burst(v):
    """Pipeline parts A and S: a burst measured from the deltas of the services' counters."""
    done, secs = v["done"], v["t1"] - v["t0"]
    per = round(v["tx_sum"] * 1000 / done, 4)
    out = {
        "per": per, "per_pass": int(per <= 1),
        "pg_per": round((v["db1"] - v["db0"]) / done, 4),
        "pss_per": round(v["pss_ms"] / done, 4),
        "p99_ms": v["p99"] * 1000, "p99_pass": int(v["p99"] * 1000 <= 50),
        "rate": round(done / secs, 1), "secs": round(secs, 1),
        "per_tx": round(done / max(v["tx_n"], 1), 1), "tx_ms": round(v["tx_sum"] * 1000, 1),
        "db_ms": round(v["db1"] - v["db0"], 1), "idle_ms": round(v["idle1"] - v["idle0"], 1),
        "pss_ms": round(v["pss_ms"], 1),
    }
    if "psi0" in v and "psi1" in v:
        out["cpu_pressure"] = round((v["psi1"] - v["psi0"]) / 1e4 / secs, 1)
    return out


def trickle_db(v):
    """Pipeline part B: database time per domain selected one by one."""
    return {"per": round(v["tx_sum"] * 1000 / v["m"], 4)}


def scraper1(v):
    """Scraper run 1: throughput against Little's bound, CPU, memory, slots kept busy."""
    bound = v["c"] / (v["l_ms"] / 1000)
    return {
        "bound": bound, "pass": int(v["rate"] / bound >= 0.95),
        "cpu_ms": round((v["cpu1"] - v["cpu0"]) * 1000 / v["n"], 3),
        "rss_mb": round(v["hwm_kb"] / 1024, 1),
        "api_bound": round(v["c"] / (v["api"] / 1000), 1),
        "busy_pct": round(v["rate"] * v["api"] / 1000 / v["c"] * 100, 1),
    }


def scraper2(v):
    """Scraper run 2: memory at many calls in flight."""
    return {
        "rss_mb": round(v["hwm_kb"] / 1024, 1),
        "pass": int(v["hwm_kb"] / 1024 < 64 and v["max_in_flight"] >= v["c"] * 0.9),
        "cpu_ms": round((v["cpu1"] - v["cpu0"]) * 1000 / v["n"], 3),
        "bound": v["c"] / (v["l_ms"] / 1000),
    }


def antipattern(v):
    """The incident's anti-pattern behind PgBouncer."""
    done = max(v["done"], 1)
    return {
        "bound": v["pool"] / (v["l_ms"] / 1000),
        "pg_per": round((v["db1"] - v["db0"]) / done, 1),
        "idle_per": round((v["idle1"] - v["idle0"]) / done, 1),
        "fails": v["killed"] + v["wait_timeout"] + v["refused"] + v["other_errors"],
    }


def run_tx(v):
    """A dbthroughput run: mean transaction and the share of the wall time inside them."""
    return {
        "tx_ms": round(v["tx_sum"] * 1000 / max(v["txs"], 1), 1),
        "tx_pct": round(v["tx_sum"] / (v["k"] / v["rate"]) * 100, 0),
    }


def target(v):
    """The best of the runs so far against the target rate."""
    best = max(v["r"], v.get("best", v["r"]))
    return {"best": best, "pass": int(best >= v["target"])}


FIGURES = {"burst": burst, "trickle_db": trickle_db, "scraper1": scraper1, "scraper2": scraper2,
           "antipattern": antipattern, "claimer_run": run_tx, "committer_run": run_tx,
           "target": target}


def print_figures(kind, args):
    values = {}
    for a in args:
        k, _, val = a.partition("=")
        if val != "":
            values[k] = num(val)
    for k, val in FIGURES[kind](values).items():
        print("F_%s=%s" % (k, shlex.quote(str(val))))


# ---------------------------------------------------------------- /metrics pages

def split_pages(args):
    i = args.index("--")
    return args[:i], args[i + 1:]


def prom_sum(files, regex):
    pat, s = re.compile("^" + regex), 0
    for path in files:
        with open(path) as f:
            s += sum(num(line.split()[-1]) for line in f if pat.search(line))
    return s


def histogram(files):
    """le -> cumulative count of wf4_db_transaction_seconds, summed over the pages."""
    counts = {}
    for path in files:
        with open(path) as f:
            for line in f:
                m = re.match(r'wf4_db_transaction_seconds_bucket\{.*le="([^"]*)"', line)
                if m:
                    counts[m.group(1)] = counts.get(m.group(1), 0) + num(line.split()[-1])
    return counts


def quantile(hist, q):
    """The upper bound of the bucket that holds the q-quantile."""
    n = hist[-1][1] if hist else 0
    if n == 0:
        return "nan"
    return next(le for le, c in hist if c >= q * n)


def hist_delta(out, args):
    before, after = map(histogram, split_pages(args))
    if sorted(before) != sorted(after):
        sys.exit("histogram buckets differ between the two scrapes")
    hist = sorted(((le, after[le] - before[le]) for le in after), key=lambda x: float(x[0]))
    with open(out, "w") as f:
        f.writelines("%s %s\n" % h for h in hist)
    print(quantile(hist, 0.50), quantile(hist, 0.99))


# ---------------------------------------------------------------- logs and topics

def log_rate(regex, logs):
    pat, pts = re.compile(regex), []
    for line in fileinput.input(logs):
        try:
            o = json.loads(line)
        except ValueError:
            continue
        m = pat.search(o.get("msg", ""))
        if m:
            t = datetime.datetime.strptime(o["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
            if "ms" in pat.groupindex:  # a round: it started its duration before the stamp
                pts.append((t - int(m.group("ms")) / 1000.0, 0))
            pts.append((t, int(m.group("n"))))
    pts.sort()
    if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
        print("nan")
    else:
        print(round(sum(n for _, n in pts[1:]) / (pts[-1][0] - pts[0][0]), 1))


def trickle(d):
    rows = {}
    for line in open(d + "/rows.B"):
        i, sel, clm, hof, cid = line.split()
        rows[i] = (int(sel), int(clm), int(hof), cid)
    claim_ts = {}
    for line in open(d + "/claims.B"):
        k, ts, cid = line.split("\t")
        if k in rows and rows[k][3] == cid.strip():
            claim_ts[k] = int(ts)
    api = {}
    for line in open(d + "/results.B"):
        cid, ms = line.split("\t")
        api[cid] = int(ms)
    s2c = sorted(claim_ts[k] - rows[k][0] for k in claim_ts)
    s2c_db = sorted(r[1] - r[0] for r in rows.values())
    c2h = sorted(r[2] - r[1] - api[r[3]] for r in rows.values() if r[2] and r[3] in api)
    apis = sorted(api[r[3]] for r in rows.values() if r[3] in api)

    def q(v, p):
        return v[min(len(v) - 1, int(p * len(v)))] if v else -1
    print(len(s2c), q(s2c, .5), q(s2c, .99), q(s2c_db, .5), q(s2c_db, .99), len(c2h), q(c2h, .5),
          q(c2h, .99), q(apis, .5))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd in FIGURES:
        print_figures(cmd, args)
    elif cmd == "since":
        print(round(time.time() - float(args[0]), 1))
    elif cmd == "delta":
        before, after = split_pages(args[1:])
        print(prom_sum(after, args[0]) - prom_sum(before, args[0]))
    elif cmd == "hist":
        hist_delta(args[0], args[1:])
    elif cmd == "log_rate":
        log_rate(args[0], args[1:])
    elif cmd == "trickle":
        trickle(args[0])
    else:
        sys.exit("stats.py: unknown command %s (see its docstring)" % cmd)


if __name__ == "__main__":
    main()
