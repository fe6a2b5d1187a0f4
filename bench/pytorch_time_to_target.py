#!/usr/bin/python3
"""PyTorch's time to accuracy on MNIST, the peer of train_lenet's summary.json time_to_target (issue 22).

Trains bench/pytorch_lenet.py's models (the same architectures as models/lenet5.cpp) on the 60,000 training
images, evaluates the 10,000 test images after every epoch, and reports the wall time of training (evaluation
excluded, as train_lenet counts it) until the first evaluation at or under --target. It searches PyTorch's settings
fairly: Adam and SGD with Nesterov momentum 0.9, a few learning rates and batch sizes, each with the schedule that
suits a short run (a linear warm-up over 0.2 epochs, then a cosine to 0 set at every step, as
configs/lenet5_*fast.json use), and keeps the fastest. A setting is abandoned as soon as its training time passes
the best found so far, or after --max-epochs.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch_time_to_target.py --variant modern --target 0.009
        [--threads 2] [--max-epochs 6] [--data data/mnist] [--json FILE]
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_lenet as peer  # noqa: E402  (the models, the MAP loss, the IDX reader)

torch, F, np = peer.torch, peer.F, peer.np

# The search: (optimizer, learning rate, batch size).
SETTINGS = [("adam", lr, b) for lr in (0.001, 0.002, 0.004) for b in (32, 64)] + \
           [("sgd", lr, b) for lr in (0.02, 0.05) for b in (32, 64)]


def load_test(data_dir):
    """The test images [10000,28,28] uint8 and labels int64."""
    with open(os.path.join(data_dir, "t10k-images-idx3-ubyte"), "rb") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    with open(os.path.join(data_dir, "t10k-labels-idx1-ubyte"), "rb") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def to_input(images, paper):
    """uint8 [N,28,28] -> float [N,1,S,S] with the variant's scaling (as fill_batch and pytorch_lenet.Runner)."""
    offset, scale = (-0.1, 1.275) if paper else (-0.1307 / 0.3081, 1.0 / 0.3081)
    side = 32 if paper else 28
    out = torch.full((images.shape[0], 1, side, side), offset)
    m = (side - 28) // 2
    out[:, 0, m:m + 28, m:m + 28] = images.float().mul_(scale / 255.0).add_(offset)
    return out


def test_error(model, paper, test_x, test_y):
    with torch.inference_mode():
        y = model(test_x)
        predicted = y.argmin(1) if paper else y.argmax(1)
        return float((predicted != test_y).float().mean())


def trial(variant, optimizer_name, lr, batch, train, test, target, max_epochs, give_up_after):
    """Trains one setting; returns (seconds of training to the target or None, test errors per epoch)."""
    paper = variant == "lecun1998"
    torch.manual_seed(1)
    model = peer.Lecun1998() if paper else peer.Modern()
    if optimizer_name == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99))
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True)
    images, labels = train
    n = images.shape[0]
    steps_per_epoch = math.ceil(n / batch)
    total = steps_per_epoch * max_epochs
    warmup = 0.2 * steps_per_epoch

    def rate(step):  # warm-up, then a cosine to 0 over the remaining steps, set at every step
        p = step + 0.5
        if p < warmup:
            return p / warmup
        return 0.5 * (1 + math.cos(math.pi * (p - warmup) / (total - warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    trained, errors = 0.0, []
    generator = torch.Generator().manual_seed(2)
    for _ in range(max_epochs):
        order = torch.randperm(n, generator=generator)
        start = time.perf_counter()
        for s in range(steps_per_epoch):
            idx = order[s * batch:(s + 1) * batch]
            x = to_input(images.index_select(0, idx), paper)
            y = model(x)
            t = labels.index_select(0, idx)
            loss = peer.map_loss(y, t) if paper else F.cross_entropy(y, t)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if trained + time.perf_counter() - start > give_up_after:
                return None, errors  # slower than the best setting so far: it cannot win
        trained += time.perf_counter() - start
        errors.append(test_error(model, paper, *test))
        if errors[-1] <= target:
            return trained, errors
    return None, errors


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--variant", required=True, choices=["lecun1998", "modern"])
    p.add_argument("--target", type=float, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-epochs", type=int, default=6)
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--json", default="")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    images, labels, source = peer.load_images(a.data)
    if not source.startswith("mnist"):
        sys.exit("pytorch_time_to_target: needs MNIST in " + a.data)
    test_images, test_labels = load_test(a.data)
    test = (to_input(test_images, a.variant == "lecun1998"), test_labels)
    load_start = peer.load_average()
    best, results = None, []
    for optimizer_name, lr, batch in SETTINGS:
        seconds, errors = trial(a.variant, optimizer_name, lr, batch, (images, labels), test, a.target,
                                a.max_epochs, best["seconds"] if best else float("inf"))
        results.append({"optimizer": optimizer_name, "lr": lr, "batch": batch, "seconds": seconds,
                        "test_errors": errors})
        shown = f"{seconds:.1f} s" if seconds is not None else "not reached (or slower than the best)"
        print(f"{a.variant} {optimizer_name} lr {lr} batch {batch}: {shown}; test errors "
              f"{', '.join(f'{100 * e:.2f} %' for e in errors)}", flush=True)
        if seconds is not None and (best is None or seconds < best["seconds"]):
            best = results[-1]
    summary = {"engine": "pytorch", "torch_version": torch.__version__, "variant": a.variant, "target": a.target,
               "threads": a.threads, "best": best, "trials": results, "load_average_start": load_start,
               "load_average_end": peer.load_average()}
    print(f"best: {json.dumps(best)}; load average {load_start:.2f} at the start, {peer.load_average():.2f} at the end")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
