#!/usr/bin/env python3
"""The pairwise experiment as a typical researcher writes it in SimPy.

One target sends a heartbeat to one monitor every 100 ms; each heartbeat
takes a lognormal one-way delay (median 2 ms, sigma 0.5) and is lost with
probability 1 %; the target crash-loops (first crash at 5 min, one every
10 min plus a uniform jitter of up to 5 min, down 20 s). The monitor scores
four fixed timeouts (150, 200, 300, 500 ms) exactly, arrival by arrival:
detection times of crashes and mistakes (false suspicions) while the target
is up. This is benches/data/simpy-pair.toml, which fdsim runs for the same
experiment (benches/compare-simpy.sh runs both and prints the ratio).

The random streams differ from fdsim's, so the numbers agree in
distribution, not to the bit; the point is the cost per virtual hour.

    pip install simpy
    python3 benches/simpy/pair.py --hours 1
"""

import argparse
import math
import random
import time

import simpy

INTERVAL = 0.100
MEDIAN, SIGMA = 0.002, 0.5
LOSS = 0.01
TIMEOUTS = [0.150, 0.200, 0.300, 0.500]
FIRST, EVERY, DOWN, JITTER = 300.0, 600.0, 20.0, 300.0
WARMUP = 60.0


class Monitor:
    """Scores every timeout on the arrival stream, exactly."""

    def __init__(self, env):
        self.env = env
        self.last = None  # arrival time of the newest heartbeat
        self.up = True
        self.crash_at = None
        self.mistakes = [0] * len(TIMEOUTS)
        self.detections = [[] for _ in TIMEOUTS]
        self.arrivals = 0

    def heartbeat(self):
        now = self.env.now
        self.arrivals += 1
        if self.last is not None and self.up and now > WARMUP:
            gap = now - self.last
            for i, tmo in enumerate(TIMEOUTS):
                if gap > tmo:
                    self.mistakes[i] += 1
        self.last = now

    def crashed(self):
        self.up = False
        self.crash_at = self.env.now

    def restarted(self):
        # A crash is detected when the silence after the last heartbeat
        # reaches the timeout before the restart.
        for i, tmo in enumerate(TIMEOUTS):
            suspect = (self.last or 0.0) + tmo
            if suspect < self.env.now:
                self.detections[i].append(max(suspect, self.crash_at) - self.crash_at)
        self.up = True


def deliver(env, monitor, delay):
    yield env.timeout(delay)
    monitor.heartbeat()


def sender(env, monitor, state, rng):
    while True:
        if state["up"]:
            if rng.random() >= LOSS:
                delay = MEDIAN * math.exp(SIGMA * rng.gauss(0.0, 1.0))
                env.process(deliver(env, monitor, delay))
        yield env.timeout(INTERVAL)


def crash_loop(env, monitor, state, rng):
    k = 0
    while True:
        at = FIRST + k * EVERY + rng.uniform(0.0, JITTER)
        yield env.timeout(max(0.0, at - env.now))
        state["up"] = False
        monitor.crashed()
        yield env.timeout(DOWN)
        state["up"] = True
        monitor.restarted()
        k += 1


def run(hours, seed):
    rng = random.Random(seed)
    env = simpy.Environment()
    monitor = Monitor(env)
    state = {"up": True}
    env.process(sender(env, monitor, state, rng))
    env.process(crash_loop(env, monitor, state, rng))
    env.run(until=hours * 3600.0)
    return monitor


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=1.0, help="virtual hours")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    start, cpu = time.perf_counter(), time.process_time()
    m = run(args.hours, args.seed)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    # CPU time is what compares across loads: on a shared machine the wall
    # time includes waiting for a core.
    print(f"simpy: {args.hours:g} virtual h, {m.arrivals} arrivals, "
          f"{wall:.3f} s wall, {cpu:.3f} s CPU, {cpu / args.hours:.5f} CPU s per virtual hour, "
          f"{cpu / max(m.arrivals, 1) * 1e9:.0f} CPU ns per arrival")
    print(f"simpy: mistakes per timeout {m.mistakes}, "
          f"crashes detected {[len(d) for d in m.detections]}")


if __name__ == "__main__":
    main()
