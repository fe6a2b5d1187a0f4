#!/usr/bin/python3
"""PyTorch side of the LeNet-5 speed comparison (scripts/compare_pytorch.sh runs it next to bench_lenet).

The same two architectures as models/lenet5.cpp, the same measurements, options and JSON records as
bench/bench_lenet.cpp:

  lecun1998  32x32 input; C1 conv 1->6 5x5, f = 1.7159 tanh(2a/3); S2 2x2 sum-pool times a per-map
             coefficient plus a per-map bias, f; C3 conv 6->16 5x5 with Table I's mask (weight * mask), f;
             S4 as S2; C5 conv 16->120 5x5, f; F6 linear 120->84, f; RBF output: squared distances to 10
             fixed +-1 centres of 84 values; MAP loss (eq. 9, j = 1)
  modern     28x28 input; conv 1->6 5x5 pad 2, relu, maxpool 2; conv 6->16 5x5, relu, maxpool 2;
             conv 16->120 5x5, relu; linear 120->84, relu; linear 84->10; cross-entropy

Both trained with Adam. Each step converts a batch from the compact uint8 images (kept as a uint8 tensor)
into a float buffer, as the C++ side does. PyTorch is set up at its best on CPU: torch.set_num_threads(T),
one inter-op thread, OPENBLAS_NUM_THREADS=1 (set by the caller before Python starts: PyTorch's own threads
do the parallel work), inference under torch.inference_mode(), gradients set to None rather than zeroed,
and Adam's multi-tensor (foreach) implementation when it is faster (--adam auto measures both once).

  /usr/bin/python3 bench/pytorch_lenet.py [--variant lecun1998|modern|both] [--threads 1,2]
      [--batches 1,16,64,256] [--inference-batches 256,1000] [--seconds S] [--data DIR] [--json FILE]
      [--label TEXT] [--adam auto|foreach|loop] [--epoch B]

With --epoch B it instead trains one full epoch at batch B (one variant, one thread count) and reports its time
and the peak resident memory of that training run.
"""
import argparse
import json
import os
import resource
import sys
import time


def rss_mb():
    """The process's peak resident memory in MB (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return -1.0


RSS_BEFORE_TORCH = rss_mb()
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

RSS_AFTER_IMPORT = rss_mb()

# Table I of the paper: the S2 maps each C3 map reads.
C3_TABLE = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 0], [5, 0, 1],
            [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 0], [4, 5, 0, 1], [5, 0, 1, 2],
            [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]


def squash(a):
    """The paper's f(a) = 1.7159 tanh(2a/3)."""
    return 1.7159 * torch.tanh(a * (2.0 / 3.0))


class Subsampling(nn.Module):
    """S2/S4: each 2x2 window summed, times a per-map coefficient, plus a per-map bias."""

    def __init__(self, maps):
        super().__init__()
        self.coeff = nn.Parameter(torch.empty(maps).uniform_(-0.6, 0.6))
        self.bias = nn.Parameter(torch.empty(maps).uniform_(-0.6, 0.6))

    def forward(self, x):
        s = F.avg_pool2d(x, 2) * 4.0  # the window sums
        return s * self.coeff.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class MaskedConv(nn.Conv2d):
    """C3: a 6->16 5x5 convolution whose weight is multiplied by Table I's 0/1 mask."""

    def __init__(self):
        super().__init__(6, 16, 5)
        mask = torch.zeros(16, 6, 1, 1)
        for o, reads in enumerate(C3_TABLE):
            for c in reads:
                mask[o, c] = 1.0
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias)


class Lecun1998(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.s2 = Subsampling(6)
        self.c3 = MaskedConv()
        self.s4 = Subsampling(16)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        # Fixed +-1 centres (the values do not change the speed; the C++ side draws digit bitmaps).
        g = torch.Generator().manual_seed(3)
        self.register_buffer("centres", torch.randint(0, 2, (10, 84), generator=g).float() * 2 - 1)

    def forward(self, x):
        x = squash(self.c1(x))
        x = squash(self.s2(x))
        x = squash(self.c3(x))
        x = squash(self.s4(x))
        x = squash(self.c5(x)).flatten(1)
        x = squash(self.f6(x))
        return ((x.unsqueeze(1) - self.centres) ** 2).sum(2)  # [N,10] squared distances


def map_loss(y, target, j=1.0):
    """Eq. 9: mean over samples of y_correct + log(e^-j + sum_i e^-y_i)."""
    rubbish = torch.full((y.shape[0], 1), -j, dtype=y.dtype)
    return (y.gather(1, target.unsqueeze(1)).squeeze(1) + torch.logsumexp(torch.cat([-y, rubbish], 1), 1)).mean()


class Modern(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c3(x)), 2)
        x = F.relu(self.c5(x)).flatten(1)
        return self.out(F.relu(self.f6(x)))


def forward_macs(variant):
    c3 = 100 * 60 * 25 if variant == "lecun1998" else 100 * 16 * 6 * 25
    return 6 * 784 * 25 + c3 + 120 * 400 + 84 * 120 + 10 * 84


def train_flops(variant):
    return 6 * forward_macs(variant) - 2 * (6 * 784 * 25)


def load_images(data_dir):
    """The training images [60000,28,28] as uint8 and the labels as int64: MNIST when data_dir holds it."""
    images_path = os.path.join(data_dir, "train-images-idx3-ubyte")
    labels_path = os.path.join(data_dir, "train-labels-idx1-ubyte")
    if data_dir and os.path.exists(images_path) and os.path.exists(labels_path):
        with open(images_path, "rb") as f:
            images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
        with open(labels_path, "rb") as f:
            labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
        return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)), "mnist:" + data_dir
    g = torch.Generator().manual_seed(7)
    return (torch.randint(0, 256, (60000, 28, 28), dtype=torch.uint8, generator=g),
            torch.randint(0, 10, (60000,), generator=g), "random")


class Runner:
    """One variant's model, loss, optimizer and reused batch buffer, stepping through a shuffled order."""

    def __init__(self, variant, images, labels, adam_foreach):
        torch.manual_seed(1)
        self.variant = variant
        self.images, self.labels = images, labels
        self.paper = variant == "lecun1998"
        self.model = Lecun1998() if self.paper else Modern()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, foreach=adam_foreach)
        self.order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(2))
        self.next = 0
        self.buffer = None
        # x = offset + scale * p / 255 (the paper's [-0.1, 1.175], or (p/255 - mean) / std), as fill_batch.
        self.offset, self.scale = (-0.1, 1.275) if self.paper else (-0.1307 / 0.3081, 1.0 / 0.3081)

    def load(self, batch):
        side = 32 if self.paper else 28
        if self.buffer is None or self.buffer.shape[0] != batch:
            self.buffer = torch.full((batch, 1, side, side), self.offset)  # the margin stays background
        if self.next + batch > self.images.shape[0]:
            self.next = 0
        idx = self.order[self.next:self.next + batch]
        self.next += batch
        m = (side - 28) // 2
        pixels = self.images.index_select(0, idx).float()
        self.buffer[:, 0, m:m + 28, m:m + 28] = pixels.mul_(self.scale / 255.0).add_(self.offset)
        return self.buffer, self.labels.index_select(0, idx)

    def train_step(self, batch):
        x, t = self.load(batch)
        y = self.model(x)
        loss = map_loss(y, t) if self.paper else F.cross_entropy(y, t)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def infer(self, batch):
        with torch.inference_mode():
            x, _ = self.load(batch)
            return float(self.model(x)[0, 0])


def rate(step, batch, seconds):
    """Median over 3 windows of seconds/3 of samples per second of step(), after a warm-up (as bench_lenet)."""
    warm = time.perf_counter()
    i = 0
    while i < 3 or time.perf_counter() - warm < min(0.3, seconds / 6):
        step()
        i += 1
    rates = []
    for _ in range(3):
        steps = 0
        start = time.perf_counter()
        while True:
            step()
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / 3:
                break
        rates.append(steps * batch / elapsed)
    return sorted(rates)[1]


def latency_us(step, seconds):
    for _ in range(20):
        step()
    samples = []
    start = time.perf_counter()
    while len(samples) < 50 or (time.perf_counter() - start < seconds and len(samples) < 200000):
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1e6)
    samples.sort()
    return samples[len(samples) // 2]


def parse_list(text):
    return [] if text in ("", "none") else [int(v) for v in text.split(",")]


def choose_adam(images, labels, variant):
    """Returns True when Adam's foreach implementation trains faster than its loop on this machine."""
    best = {}
    for foreach in (False, True):
        runner = Runner(variant, images, labels, foreach)
        best[foreach] = rate(lambda: runner.train_step(1), 1, 0.6)
    return best[True] > best[False]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--variant", default="both", choices=["lecun1998", "modern", "both"])
    p.add_argument("--threads", default="1,2")
    p.add_argument("--batches", default="1,16,64,256")
    p.add_argument("--inference-batches", default="256,1000")
    p.add_argument("--seconds", type=float, default=1.5)
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--json", default="")
    p.add_argument("--label", default="")
    p.add_argument("--adam", default="auto", choices=["auto", "foreach", "loop"])
    p.add_argument("--epoch", type=int, default=0)
    a = p.parse_args()
    variants = ["lecun1998", "modern"] if a.variant == "both" else [a.variant]
    torch.set_num_interop_threads(1)
    images, labels, source = load_images(a.data)
    load_before = load_average()
    print(f"PyTorch {torch.__version__} LeNet-5 benchmark: {images.shape[0]} training images ({source}), float32, "
          f"Adam; load average {load_before:.2f}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '')}")
    print(f"{'variant':<10} {'thr':>3}  {'metric':<22} {'value':>12} {'GFLOP/s':>9}")
    records = []
    adam_choice = {}

    def emit(variant, threads, metric, batch, value, unit, gflops):
        name = f"{metric} b{batch}" if batch > 0 else metric
        print(f"{variant:<10} {threads:>3}  {name + ' ' + unit:<22} {value:>12.1f} "
              f"{(f'{gflops:.1f}' if gflops > 0 else ''):>9}", flush=True)
        r = {"engine": "pytorch", "variant": variant, "threads": threads, "metric": metric, "batch": batch,
             "value": value, "unit": unit}
        if gflops > 0:
            r["gflops"] = gflops
        records.append(r)

    if a.epoch > 0:
        # One epoch of training at one batch size: its time, and the peak memory of a training run.
        variant, threads = variants[0], (parse_list(a.threads) or [1])[0]
        torch.set_num_threads(threads)
        foreach = a.adam == "foreach"  # auto: the loop, to keep a second model out of the memory figure
        adam_choice[f"{variant}/{threads}"] = "foreach" if foreach else "loop"
        runner = Runner(variant, images, labels, foreach)
        n = images.shape[0]
        start = time.perf_counter()
        for done in range(0, n, a.epoch):
            runner.train_step(min(a.epoch, n - done))
        emit(variant, threads, "epoch", a.epoch, time.perf_counter() - start, "s", 0)
        emit(variant, threads, "epoch_peak_rss", a.epoch, rss_mb(), "MB", 0)
        variants = []
    for variant in variants:
        for threads in parse_list(a.threads):
            torch.set_num_threads(threads)
            if a.adam == "auto":
                foreach = choose_adam(images, labels, variant)
            else:
                foreach = a.adam == "foreach"
            adam_choice[f"{variant}/{threads}"] = "foreach" if foreach else "loop"
            runner = Runner(variant, images, labels, foreach)
            for b in parse_list(a.batches):
                r = rate(lambda: runner.train_step(b), b, a.seconds)
                emit(variant, threads, "train", b, r, "samples/s", r * train_flops(variant) * 1e-9)
            ib = parse_list(a.inference_batches)
            for b in ib:
                r = rate(lambda: runner.infer(b), b, a.seconds)
                emit(variant, threads, "inference", b, r, "samples/s", r * 2 * forward_macs(variant) * 1e-9)
            if ib:
                emit(variant, threads, "latency", 1, latency_us(lambda: runner.infer(1), a.seconds / 2), "us", 0)
    rss = rss_mb()
    print(f"peak resident memory {rss:.1f} MB ({RSS_AFTER_IMPORT - RSS_BEFORE_TORCH:.1f} MB of it importing torch); "
          f"load average {load_before:.2f} at the start, {load_average():.2f} at the end; Adam: {adam_choice}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"engine": "pytorch", "label": a.label, "data": source, "training_images": int(images.shape[0]),
                       "torch_version": torch.__version__, "seconds_per_rate": a.seconds, "clock": "wall",
                       "peak_rss_mb": rss, "import_rss_mb": RSS_AFTER_IMPORT - RSS_BEFORE_TORCH,
                       "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""), "adam": adam_choice,
                       "load_average_start": load_before, "load_average_end": load_average(), "records": records},
                      f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
