#!/usr/bin/env python3
"""The chaos test's scheduler: runs the pipeline's instances, kills and restarts them.

usage: chaos_scheduler.py DIR SEED KILLS DEADLINE_S STANDIN_PID

Starts the instances (claimer1-2, scraper1-3, committer1-2; each logs to DIR/NAME.log, the
environment comes from tests/chaos_test.sh) and writes DIR/chaos.started. Once DIR/chaos.go
exists (it holds "T0 TOTAL": the epoch second the TOTAL domains were selected) it SIGKILLs a random instance
of each kind in turn every 3-6 s and restarts it 1-3 s later, until KILLS kills; restarts the
Kafka broker after the 4th kill and PostgreSQL after the 8th (scripts/stack.sh); starts again
an instance that exited by itself (a crash); and stops when TOTAL domains are terminal, every
fault happened and nothing waits for a restart, or DEADLINE_S after the selection. Then it
writes DIR/chaos.done (JSON: kills, kills by kind, restarts, crashes, elapsed; "late" when
the deadline passed, "fatal" when the run could not go on: the stand-in died, a restart failed) and
keeps the instances running for the checks until DIR/chaos.stop exists; then stops each with
SIGTERM (30 s) and writes DIR/chaos.stopped (JSON: clean and unclean stops). Every exit goes
to DIR/exits as "NAME STATUS WHY" (a signal N as status 128 + N, as bash reports it).
SIGTERM or SIGINT: every instance is killed, nothing more is written.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

INSTANCES = ["claimer1", "claimer2", "scraper1", "scraper2", "scraper3", "committer1", "committer2"]
KINDS = ["scraper", "committer", "claimer"]
BIN = os.environ["WF4_BIN"]
SRC = os.environ["WF4_SRC"]


def say(msg):
    print("[%s %s] %s" % (os.environ.get("TEST_NAME", "chaos"), time.strftime("%H:%M:%S"), msg), flush=True)


def status_of(proc):
    """The exit status as bash's wait reports it."""
    rc = proc.returncode
    return 128 - rc if rc < 0 else rc


def pid_alive(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in f)
    except OSError:
        return False


class Chaos:
    def __init__(self, d, seed, kills, deadline_s, standin_pid):
        self.d, self.kills_wanted, self.deadline_s, self.total = d, kills, deadline_s, 0
        self.standin_pid = standin_pid
        self.rng = random.Random(seed)
        self.procs, self.restart_at = {}, {}
        self.kills, self.crashes, self.kafka_restarts, self.pg_restarts = 0, 0, 0, 0
        self.kills_by = {k: 0 for k in KINDS}
        self.crashed = []

    def start(self, name):
        env = dict(os.environ, WF4_INSTANCE_ID=name)
        exe = name.rstrip("0123456789")
        if exe == "scraper":  # 3 x 20 calls in flight against a plan of 40: 429s past it
            env["WF4_SCRAPER_CONCURRENCY"] = "20"
        with open(os.path.join(self.d, name + ".log"), "ab") as log:
            self.procs[name] = subprocess.Popen([os.path.join(BIN, exe)], env=env, stdin=subprocess.DEVNULL,
                                                stdout=log, stderr=subprocess.STDOUT)
        say("started %s (pid %d)" % (name, self.procs[name].pid))

    def exit_note(self, name, status, why):
        with open(os.path.join(self.d, "exits"), "a") as f:
            f.write("%s %d %s\n" % (name, status, why))

    def kill_one(self):
        kind = KINDS[self.kills % 3]
        cands = [n for n in INSTANCES if n.startswith(kind) and n not in self.restart_at
                 and self.procs[n].poll() is None]
        if not cands:
            return
        name = cands[(self.rng.getrandbits(15) >> 5) % len(cands)]
        self.procs[name].kill()
        status = status_of_wait(self.procs[name], 20)
        self.exit_note(name, status, "SIGKILL")
        self.kills += 1
        self.kills_by[kind] += 1
        delay = 1 + self.rng.randrange(3)
        self.restart_at[name] = time.monotonic() + delay
        say("chaos: kill #%d: SIGKILL %s (status %d), restart in %d s" % (self.kills, name, status, delay))

    def watch_crashes(self):
        """An instance gone although nobody killed it crashed: noted, started again."""
        if not pid_alive(self.standin_pid):
            raise ChaosError("the stand-in died")
        for name in INSTANCES:
            if name in self.restart_at or self.procs[name].poll() is None:
                continue
            status = status_of(self.procs[name])
            self.crashes += 1
            self.crashed.append("%s exited by itself (status %d)" % (name, status))
            self.exit_note(name, status, "CRASH")
            say("chaos: %s exited by itself (status %d): started again" % (name, status))
            self.start(name)

    def restart_due(self):
        for name, at in list(self.restart_at.items()):
            if time.monotonic() >= at:
                del self.restart_at[name]
                self.start(name)

    def restart_part(self, what):
        say("chaos: restarting %s" % what)
        # A broker restarting on a loaded shared machine was seen to need over 60 s.
        env = dict(os.environ, WF4_STACK_KAFKA_WAIT_S=os.environ.get("WF4_STACK_KAFKA_WAIT_S", "180"))
        with open(os.path.join(self.d, "stack.log"), "ab") as log:
            rc = subprocess.run([os.path.join(SRC, "scripts/stack.sh"), "restart-" + what], env=env,
                                stdout=log, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            raise ChaosError("restart-%s failed (see stack.log)" % what)
        say("chaos: %s is back" % what)

    def faults(self):
        self.kill_one()
        if self.kills == 4 and not self.kafka_restarts:
            self.restart_part("kafka")
            self.kafka_restarts = 1
        elif self.kills == 8 and not self.pg_restarts:
            self.restart_part("pg")
            self.pg_restarts = 1

    def finished(self, done):
        return (done >= self.total and self.kills >= self.kills_wanted and self.kafka_restarts
                and self.pg_restarts and not self.restart_at)

    def run(self, t0):
        """The loop, once a second; returns what is missing at the deadline, or None."""
        next_kill, last_report = time.monotonic() + 4, 0
        while True:
            self.watch_crashes()
            self.restart_due()
            if time.monotonic() >= next_kill and self.kills < self.kills_wanted:
                self.faults()
                next_kill = time.monotonic() + 3 + self.rng.randrange(4)
            done = terminal_count()
            if time.time() - last_report >= 15:
                last_report = time.time()
                say("progress: %d of %d terminal after %d s, %d kills" % (done, self.total, time.time() - t0, self.kills))
            if self.finished(done):
                return None
            if time.time() - t0 > self.deadline_s:
                return "not every domain terminal after %d s: %s" % (self.deadline_s, status_counts())
            time.sleep(1)

    def stop_all(self):
        """SIGTERM to every instance in turn; the counts of clean (status 0) and other stops."""
        clean = unclean = 0
        for name in INSTANCES:
            self.procs[name].terminate()
            status = status_of_wait(self.procs[name], 30)
            self.exit_note(name, status, "SIGTERM")
            clean, unclean = (clean + 1, unclean) if status == 0 else (clean, unclean + 1)
        return clean, unclean

    def kill_all(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()


class ChaosError(Exception):
    pass


def status_of_wait(proc, timeout_s):
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return status_of(proc)


def psql(sql):
    out = subprocess.run([os.path.join(os.environ["WF4_PG_BIN"], "psql"), "-X", "-qAt",
                          os.environ["WF4_ADMIN_DATABASE_URL"], "-c", sql],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def terminal_count():
    n = psql("SELECT count(*) FROM domains WHERE status IN ('completed', 'error')")
    return int(n) if n else 0


def status_counts():
    return (psql("SELECT status, count(*) FROM domains GROUP BY 1") or "").replace("\n", " ")


def write_json(path, obj):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f)
    os.rename(path + ".tmp", path)


def wait_for_file(path):
    while not os.path.exists(path):
        time.sleep(0.2)


def main():
    d, seed, kills, deadline_s, standin_pid = sys.argv[1], *map(int, sys.argv[2:6])
    chaos = Chaos(d, seed, kills, deadline_s, standin_pid)

    def on_signal(signum, _frame):
        chaos.kill_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for name in INSTANCES:
        chaos.start(name)
    write_json(os.path.join(d, "chaos.started"), {})
    wait_for_file(os.path.join(d, "chaos.go"))
    with open(os.path.join(d, "chaos.go")) as f:
        t0, chaos.total = map(int, f.read().split())
    late = fatal = None
    try:
        late = chaos.run(t0)
    except ChaosError as e:
        fatal = str(e)
    write_json(os.path.join(d, "chaos.done"), {
        "late": late, "fatal": fatal, "elapsed": int(time.time() - t0), "kills": chaos.kills, "kills_by": chaos.kills_by,
        "kafka_restarts": chaos.kafka_restarts, "pg_restarts": chaos.pg_restarts,
        "crashes": chaos.crashes, "crashed": chaos.crashed})
    wait_for_file(os.path.join(d, "chaos.stop"))
    clean, unclean = chaos.stop_all()
    write_json(os.path.join(d, "chaos.stopped"), {"clean": clean, "unclean": unclean})


if __name__ == "__main__":
    main()
