"""Optuna peers for bench/sweep/run.mjs: TPE and GP samplers on the same objectives (mirrors functions.mjs).

Usage: optuna_peer.py --sampler tpe|gp --function branin|hartmann6|inner_dim --seeds N --evals N
Prints one JSON line: {"sampler", "function", "runs": [{"seed", "truths": [...], "observed": [...]}], "seconds"}
where truths/observed are per evaluation, in order.
"""
import argparse
import json
import math
import random
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

HA = [1.0, 1.2, 3.0, 3.2]
HA6 = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HP6 = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.665],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]


def branin(t):
    x = t.suggest_float("x", -5, 10)
    y = t.suggest_float("y", 0, 15)
    b = 5.1 / (4 * math.pi ** 2)
    c = 5 / math.pi
    s = 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - s) * math.cos(x) + 10, None


def hartmann6(t):
    x = [t.suggest_float(f"x{i}", 0, 1) for i in range(6)]
    total = 0.0
    for i in range(4):
        e = sum(HA6[i][j] * (x[j] - HP6[i][j]) ** 2 for j in range(6))
        total += HA[i] * math.exp(-e)
    return -total, None


def inner_dim_truth(d):
    return 0.45 + 0.06 * (math.log2(d) - math.log2(176)) ** 2 + 0.012 * math.sin(d / 9)


def make_inner_dim(rng):
    def f(t):
        d = t.suggest_int("inner_dim", 32, 512, step=8)
        v = inner_dim_truth(d)
        return v + rng.gauss(0, 0.02), v

    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sampler", choices=["tpe", "gp"], required=True)
    ap.add_argument("--function", choices=["branin", "hartmann6", "inner_dim"], required=True)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--evals", type=int, default=50)
    a = ap.parse_args()
    if a.sampler == "gp":
        import torch  # one thread: fair to the single-threaded JavaScript optimiser, and kinder to a shared machine

        torch.set_num_threads(1)
    start = time.time()
    runs = []
    for seed in range(a.seeds):
        sampler = optuna.samplers.TPESampler(seed=seed) if a.sampler == "tpe" else optuna.samplers.GPSampler(seed=seed)
        study = optuna.create_study(direction="minimize", sampler=sampler)
        fn = {"branin": branin, "hartmann6": hartmann6}.get(a.function) or make_inner_dim(random.Random(1000 + seed))
        truths, observed = [], []
        for _ in range(a.evals):
            trial = study.ask()
            obs, truth = fn(trial)
            study.tell(trial, obs)
            observed.append(obs)
            truths.append(obs if truth is None else truth)
        runs.append({"seed": seed, "truths": truths, "observed": observed})
    print(json.dumps({"sampler": a.sampler, "function": a.function, "runs": runs, "seconds": time.time() - start}))


if __name__ == "__main__":
    main()
