"""Speed of course_lib against the built-ins it teaches, as ratios measured in one run.

Run with `make bench`. Each pair is timed alternately (so both see the same
machine load) and the median of the repeats is compared; only ratios are
meaningful across machines.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.dropout import InvertedDropout, dropout_forward

REPEATS = 15


def median_seconds_alternating(first: Callable[[], object], second: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float]:
    first(), second()  # warm-up: allocator, lazy initialisation
    times_first, times_second = [], []
    for _ in range(repeats):
        for fn, times in ((first, times_first), (second, times_second)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times_first), statistics.median(times_second)


def bench_inverted_dropout_module(p: float = 0.5) -> tuple[float, float]:
    x = torch.randn(4096, 4096, requires_grad=True)
    upstream = torch.randn(4096, 4096)
    ours = InvertedDropout(p)

    def step(layer: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            x.grad = None
            layer(x).backward(upstream)
        return run

    return median_seconds_alternating(step(ours), step(lambda t: F.dropout(t, p, training=True)))


def bench_numpy_dropout_forward(p: float = 0.5) -> tuple[float, float]:
    x = np.random.default_rng(0).standard_normal((2048, 2048))
    rng_ours, rng_baseline = np.random.default_rng(1), np.random.default_rng(1)

    def baseline() -> np.ndarray:  # the two-line vectorised version, with no argument checks
        keep = rng_baseline.random(x.shape) >= p
        return x * keep / (1.0 - p)

    return median_seconds_alternating(lambda: dropout_forward(x, p, rng=rng_ours), baseline)


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, numpy {np.__version__}; median of {REPEATS} alternating runs")
    rows = [
        ("InvertedDropout fwd+bwd vs F.dropout, 4096x4096 float32", bench_inverted_dropout_module(), 1.5),
        ("NumPy dropout_forward vs vectorised baseline, 2048x2048 float64", bench_numpy_dropout_forward(), 1.5),
    ]
    for name, (ours, reference), target in rows:
        ratio = ours / reference
        verdict = "ok" if ratio <= target else "SLOWER THAN TARGET"
        print(f"{ratio:5.2f}x (target <= {target}x, {verdict})  {name}")


if __name__ == "__main__":
    main()
