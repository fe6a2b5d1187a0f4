#!/usr/bin/env python3
"""Compares two builds' bench_lenet side by side: runs OLD and NEW alternately ROUNDS times (the order swapped
every round, so that neither always runs on a warmer or a busier machine), keeps each one's best value per
(variant, threads, metric, batch), and prints both with the ratio (above 1: NEW is faster). Each round also
gives a ratio of its own, from two runs a few seconds apart; their median (`median/r`) and range follow, which
a second core that changes speed for a minute moves less than the best of each.

    python3 scripts/side_by_side.py OLD/bench/bench_lenet NEW/bench/bench_lenet 6 --variant both --threads 1,2 \\
        --batches 1,16,64,256 --inference-batches 256,1000 --seconds 1 --data data/mnist

Every argument after ROUNDS goes to both programs."""
import json
import os
import statistics
import subprocess
import sys
import tempfile


def speed_ratio(key, old_value, new_value):
    """new against old, above 1 when new is faster (latency: lower is better)."""
    return old_value / new_value if key[2] == "latency" else new_value / old_value


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    old, new, rounds, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    best = {old: {}, new: {}}
    round_ratios = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.json")
        for r in range(rounds):
            this_round = {old: {}, new: {}}
            for binary in ([old, new] if r % 2 == 0 else [new, old]):
                subprocess.run([binary] + extra + ["--json", out], stdout=subprocess.DEVNULL, check=True)
                with open(out) as f:
                    report = json.load(f)
                for rec in report["records"]:
                    key = (rec["variant"], rec["threads"], rec["metric"], rec["batch"])
                    this_round[binary][key] = rec["value"]
                    lower_is_better = rec["unit"] == "us"
                    cur = best[binary].get(key)
                    if cur is None or (rec["value"] < cur if lower_is_better else rec["value"] > cur):
                        best[binary][key] = rec["value"]
                print(f"round {r} {binary}: load average {report['load_average_start']}", file=sys.stderr)
            for key, o in this_round[old].items():
                if key in this_round[new]:
                    round_ratios.setdefault(key, []).append(speed_ratio(key, o, this_round[new][key]))
    print(f"{'variant':10} {'thr':>3} {'metric':10} {'batch':>5} {'old':>10} {'new':>10} {'new/old':>8} "
          f"{'median/r':>8}  range")
    for key in sorted(best[old]):
        o, n = best[old][key], best[new].get(key)
        if n is None:
            continue
        per_round = round_ratios[key]
        print(f"{key[0]:10} {key[1]:>3} {key[2]:10} {key[3]:>5} {o:10.1f} {n:10.1f} {speed_ratio(key, o, n):8.3f} "
              f"{statistics.median(per_round):8.3f}  {min(per_round):.3f} to {max(per_round):.3f}")


if __name__ == "__main__":
    main()
