#!/usr/bin/python3
"""Combines the JSON of bench_lenet (lenetgrad) and bench/pytorch_lenet.py (PyTorch) runs into one table of
ratios, as scripts/compare_pytorch.sh runs them: same model, batch size and thread count, same machine.

  /usr/bin/python3 bench/compare_report.py OUT_DIR [--peak peak.json] [--fma-peak fma_peak.json]

Reads OUT_DIR/lenetgrad_*.json and OUT_DIR/pytorch_*.json (one file per variant and thread count; with
several repetitions, the best value of each side is kept), prints the table, and writes
OUT_DIR/comparison.json and OUT_DIR/comparison.md.
"""
import argparse
import glob
import json
import os
import sys

# The targets, as ratios lenetgrad / PyTorch for rates, PyTorch / lenetgrad for times and memory.
TARGETS = {("train", 64): 4.0, ("train", 1): 20.0, ("inference", 256): 3.0, ("epoch_peak_rss", 64): 4.0}
# Metrics where lower is better: their ratio is PyTorch's figure over ours.
LOWER_IS_BETTER = {"latency", "epoch", "epoch_peak_rss"}
ORDER = ["train", "inference", "latency", "epoch", "epoch_peak_rss"]


def load(out_dir, engine):
    """Returns {(variant, threads, metric, batch): record with the best value}, peak RSS and loads per run."""
    best, rss, loads = {}, {}, []
    for path in sorted(glob.glob(os.path.join(out_dir, f"{engine}_*.json"))):
        with open(path) as f:
            run = json.load(f)
        loads.append((run.get("load_average_start", -1), run.get("load_average_end", -1)))
        for r in run["records"]:
            key = (r["variant"], r["threads"], r["metric"], r["batch"])
            if key not in best:
                best[key] = r
            elif (r["value"] < best[key]["value"]) if r["metric"] in LOWER_IS_BETTER else (r["value"] > best[key]["value"]):
                best[key] = r
            if run.get("label") != "epoch":  # the speed runs' memory, every batch size in one process
                rkey = (r["variant"], r["threads"])
                rss[rkey] = min(rss.get(rkey, float("inf")), run["peak_rss_mb"])
    return best, rss, loads


def time_to_target_rows(out_dir):
    """The time-to-accuracy rows: train_lenet's summary.json against PyTorch's best setting, when both ran."""
    lines = []
    for variant in ("lecun1998", "modern"):
        summary = os.path.join(out_dir, f"time_to_target_{variant}", "summary.json")
        theirs = os.path.join(out_dir, f"time_to_target_pytorch_{variant}.json")
        if not (os.path.exists(summary) and os.path.exists(theirs)):
            continue
        with open(summary) as f:
            ours = json.load(f)
        with open(theirs) as f:
            torch = json.load(f)
        target = f"time to {100 * ours['target_error']:g} % test error (s)"
        o = ours.get("time_to_target")
        t = (torch.get("best") or {}).get("seconds")
        if o is None or t is None:
            shown = f"{o:.1f}" if o is not None else "not reached"
            lines.append(f"| {variant} | 2 | {target} | {shown} | {t if t is not None else 'not reached'} | | 10x | |  |")
            continue
        best = torch["best"]
        lines.append(f"| {variant} | 2 | {target} | {o:.1f} | {t:.1f} ({best['optimizer']} lr {best['lr']:g}, "
                     f"b{best['batch']}) | {t / o:.1f}x | 10x | {'yes' if t / o >= 10 else '**no**'} |  |")
    return lines


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out_dir")
    p.add_argument("--peak", default="")
    p.add_argument("--fma-peak", default="", help="bench/fma_peak's --json output: the arithmetic peak per thread count")
    a = p.parse_args()
    ours, ours_rss, ours_loads = load(a.out_dir, "lenetgrad")
    torch, torch_rss, torch_loads = load(a.out_dir, "pytorch")
    if not ours or not torch:
        print("compare_report: no results found in " + a.out_dir, file=sys.stderr)
        return 1
    peak = {}
    if a.peak and os.path.exists(a.peak):
        with open(a.peak) as f:
            peak = json.load(f)
    fma = {}
    if a.fma_peak and os.path.exists(a.fma_peak):
        with open(a.fma_peak) as f:
            fma = {str(r["threads"]): r["gflops"] for r in json.load(f)["fma_peak"]}

    rows = []
    for key in sorted(ours, key=lambda k: (k[0], k[1], ORDER.index(k[2]), k[3])):
        if key not in torch:
            continue
        o, t = ours[key], torch[key]
        variant, threads, metric, batch = key
        ratio = t["value"] / o["value"] if metric in LOWER_IS_BETTER else o["value"] / t["value"]
        target = TARGETS.get((metric, batch))
        peak_gflops = peak.get(str(threads))
        fma_gflops = fma.get(str(threads))
        row = {"variant": variant, "threads": threads, "metric": metric, "batch": batch, "unit": o["unit"],
               "lenetgrad": o["value"], "pytorch": t["value"], "ratio": ratio,
               "lenetgrad_gflops": o.get("gflops"), "pytorch_gflops": t.get("gflops"),
               "fraction_of_sgemm_peak": (o["gflops"] / peak_gflops) if o.get("gflops") and peak_gflops else None,
               "fraction_of_fma_peak": (o["gflops"] / fma_gflops) if o.get("gflops") and fma_gflops else None,
               "target": target, "met": (ratio >= target) if target else None}
        rows.append(row)

    def fmt(v, unit):
        return f"{v:,.0f}" if unit not in ("us", "s") and v >= 100 else f"{v:,.1f}"

    share_of = "FMA peak" if fma else "sgemm peak"
    header = ("| variant | threads | metric | lenetgrad | PyTorch | ratio | target | met | lenetgrad GFLOP/s "
              f"(share of {share_of}) |")
    lines = [header, "|---|---|---|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        names = {"epoch": "one epoch, b{}", "epoch_peak_rss": "peak RSS training one epoch, b{}"}
        metric = names.get(r["metric"], r["metric"] + " b{}").format(r["batch"])
        unit = r["unit"]
        gf = ""
        if r.get("lenetgrad_gflops"):
            gf = f"{r['lenetgrad_gflops']:.1f}"
            share = r.get("fraction_of_fma_peak") if fma else r.get("fraction_of_sgemm_peak")
            if share:
                gf += f" ({100 * share:.0f} %)"
        target = f"{r['target']:g}x" if r.get("target") else ""
        met = "" if r.get("met") is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['variant']} | {r['threads']} | {metric} ({unit}) | {fmt(r['lenetgrad'], r['unit'])} | "
                     f"{fmt(r['pytorch'], r['unit'])} | {r['ratio']:.1f}x | {target} | {met} | {gf} |")
    lines += time_to_target_rows(a.out_dir)
    loads = ", ".join(f"{s:.1f}-{e:.1f}" for s, e in ours_loads + torch_loads)
    table = "\n".join(lines)
    notes = [f"Load average (1 min) at the start and end of each run: {loads}."]
    if fma:
        notes.append("Measured float32 FMA peak (bench/fma_peak, register-only multiply-add chains): " +
                     ", ".join(f"{v:.0f} GFLOP/s with {k} thread(s)" for k, v in sorted(fma.items())) +
                     "; GFLOP/s figures are given as shares of it.")
    if peak:
        notes.append("Measured float32 matrix-multiply rate (OpenBLAS sgemm, 4096x4096, via numpy): " +
                     ", ".join(f"{v:.0f} GFLOP/s with {k} thread(s)" for k, v in sorted(peak.items()) if k.isdigit()) +
                     ".")
    notes.append("Ratios: lenetgrad / PyTorch for rates, PyTorch / lenetgrad for times and peak resident memory.")
    notes.append("Peak resident memory of the speed runs (every batch size in one process): " + ", ".join(
        f"{v} {t}T lenetgrad {ours_rss[(v, t)]:.0f} MB, PyTorch {torch_rss[(v, t)]:.0f} MB"
        for (v, t) in sorted(ours_rss) if (v, t) in torch_rss) + ".")
    text = table + "\n\n" + "\n".join(notes) + "\n"
    print(text)
    with open(os.path.join(a.out_dir, "comparison.md"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out_dir, "comparison.json"), "w") as f:
        json.dump({"rows": rows, "sgemm_peak_gflops": peak, "fma_peak_gflops": fma, "loads": ours_loads + torch_loads}, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
