#!/usr/bin/env python3
"""Does train_lenet deliver the engine's speed? For each variant, thread count and batch size, trains with
train_lenet for EPOCHS epochs of full MNIST and takes its best epoch's training samples/s (metrics.jsonl's
samples_per_second: training only, the evaluation apart), and measures bench_lenet's train rate at the same batch
and threads; prints both and the ratio (issue 22's target: at least 0.90). Alternates the two programs ROUNDS
times, each keeping its best, so that neither always runs on a busier machine.

    python3 scripts/app_vs_bench.py BUILD [--rounds 2] [--epochs 2] [--batches 32,64,256] [--threads 1,2]
        [--variants lecun1998,modern] [--data data/mnist] [--json FILE]

BUILD is a build folder holding apps/train_lenet and bench/bench_lenet."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

CONFIGS = {"lecun1998": "configs/lenet5.json", "modern": "configs/lenet5_modern.json"}


def app_rate(build, variant, threads, batch, epochs, data, tmp):
    """Returns train_lenet's best epoch rate (samples/s of training) for one setting."""
    out = os.path.join(tmp, f"run_{variant}_{threads}_{batch}")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = [os.path.join(build, "apps", "train_lenet"), "--config", os.path.join(root, CONFIGS[variant]),
            "--overwrite", "--set", f"train.epochs={epochs}", "--set", f"train.batch_size={batch}",
            "--set", f"train.threads={threads}", "--set", f"data.dir={data}", "--set", f"output.dir={out}"]
    subprocess.run(args, stdout=subprocess.DEVNULL, check=True)
    with open(os.path.join(out, "metrics.jsonl")) as f:
        return max(json.loads(line)["samples_per_second"] for line in f if line.strip())


def bench_rate(build, variant, threads, batch, data, tmp):
    """Returns bench_lenet's train rate (samples/s) for one setting."""
    out = os.path.join(tmp, "bench.json")
    args = [os.path.join(build, "bench", "bench_lenet"), "--variant", variant, "--threads", str(threads),
            "--batches", str(batch), "--inference-batches", "256", "--seconds", "1", "--data", data, "--json", out]
    subprocess.run(args, stdout=subprocess.DEVNULL, check=True)
    with open(out) as f:
        records = json.load(f)["records"]
    return next(r["value"] for r in records if r["metric"] == "train" and r["batch"] == batch)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("build")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batches", default="32,64,256")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--variants", default="lecun1998,modern")
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--json", default="")
    a = p.parse_args()
    data = os.path.abspath(a.data)
    keys = [(v, int(t), int(b)) for v in a.variants.split(",") for t in a.threads.split(",")
            for b in a.batches.split(",")]
    best = {"app": {}, "bench": {}}
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            for key in keys:
                order = ["app", "bench"] if r % 2 == 0 else ["bench", "app"]
                for side in order:
                    value = (app_rate(a.build, *key, a.epochs, data, tmp) if side == "app"
                             else bench_rate(a.build, *key, data, tmp))
                    best[side][key] = max(best[side].get(key, 0.0), value)
            print(f"app_vs_bench: round {r + 1} of {a.rounds} done, load average {os.getloadavg()[0]:.2f}",
                  file=sys.stderr)
    load_end = os.getloadavg()[0]
    lines = ["| variant | threads | batch | train_lenet (samples/s) | bench_lenet (samples/s) | ratio | >= 0.90 |",
             "|---|---:|---:|---:|---:|---:|---|"]
    rows = []
    for key in keys:
        app, bench = best["app"][key], best["bench"][key]
        rows.append({"variant": key[0], "threads": key[1], "batch": key[2], "train_lenet": app, "bench_lenet": bench,
                     "ratio": app / bench})
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {app:,.0f} | {bench:,.0f} | {app / bench:.2f} | "
                     f"{'yes' if app / bench >= 0.9 else '**no**'} |")
    print("\n".join(lines))
    print(f"\nLoad average (1 min): {load_start:.2f} at the start, {load_end:.2f} at the end; best of {a.rounds} "
          f"rounds each; train_lenet's best epoch of {a.epochs}.")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "load_average": [load_start, load_end]}, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
