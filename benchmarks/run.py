"""Speed of course_lib against the built-ins it teaches, as ratios measured in one run.

Run with `make bench`. Each pair is timed alternately (so both see the same
machine load) and the median of the repeats is compared; only ratios are
meaningful across machines. The MC dropout rows compare mc_samples' batched
passes with its loop (a speed-up: higher is better), say how much of the
batched time the dropout masks take, and measure the peak memory of one call
in fresh processes (Linux). The dropout-variant rows compare
course_lib.variants with torch's built-ins (or the usual one-liner) on one
thread, and split DropBlock's time into its stages.

`python benchmarks/run.py variants` runs only the dropout-variant rows.
"""

from __future__ import annotations

import copy
import math
import os
import statistics
import subprocess
import sys
import time
import warnings
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.book import load_book
from course_lib.data import load_digits_splits
from course_lib.dropout import InvertedDropout, dropout_forward
from course_lib.linear_models import lasso_fit
from course_lib.losses import label_smoothing_cross_entropy
from course_lib.mc_dropout import mc_samples
from course_lib.models import make_mlp
from course_lib.optim import AdamW
from course_lib.train import fit
from course_lib.variants import _window_max, alpha_dropout, drop_block2d, drop_path, spatial_dropout

REPEATS = 15

# Every ratio the run measures, for the one table printed at the end:
# (chapter, what is compared, measured, target, verdict).
SUMMARY: list[tuple[str, str, str, str, str]] = []


def record(chapter: str, name: str, measured: str, target: str, verdict: str) -> None:
    SUMMARY.append((chapter, name, measured, target, verdict))


def print_summary() -> None:
    """All the run's ratios as one Markdown table, chapter by chapter in book.toml order."""
    order = [chapter.title for chapter in load_book().chapters]
    print("\n| chapter | benchmark | measured | target | verdict |\n|---|---|---|---|---|")
    for row in sorted(SUMMARY, key=lambda row: order.index(row[0]) if row[0] in order else len(order)):
        print("| " + " | ".join(row) + " |")


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


def bench_fit_against_a_hand_written_loop(epochs: int = 4, batch_size: int = 32) -> tuple[float, float]:
    """course_lib.train.fit against the bare loop a student would write, doing the same work.

    Both train a copy of the same MLP on the digits splits (1,078 training
    images, mini-batches of 32 in a seeded random order, SGD with momentum),
    and after every epoch measure loss and accuracy on the training and the
    validation set in eval mode without gradients -- the numbers fit records.
    fit's progress bar is off. One thread, as in the notebooks
    (setup_notebook), so the small matrix products are not dominated by
    thread start-up.
    """
    data = load_digits_splits()
    X_train, y_train, X_val, y_val = data.X_train, data.y_train, data.X_val, data.y_val
    torch.manual_seed(0)
    template = nn.Sequential(
        nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    loss_fn = nn.CrossEntropyLoss()

    def with_fit() -> None:
        model = copy.deepcopy(template)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        fit(model, data, optimizer, loss_fn, epochs, batch_size=batch_size, progress=False, device="cpu")

    def by_hand() -> None:
        model = copy.deepcopy(template)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        generator = torch.Generator().manual_seed(0)
        for _ in range(epochs):
            model.train()
            order = torch.randperm(len(X_train), generator=generator)
            for start in range(0, len(X_train), batch_size):
                rows = order[start : start + batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(X_train[rows]), y_train[rows]).backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                for X, y in ((X_train, y_train), (X_val, y_val)):
                    outputs = model(X)
                    loss_fn(outputs, y).item(), (outputs.argmax(dim=1) == y).float().mean().item()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return median_seconds_alternating(with_fit, by_hand)
    finally:
        torch.set_num_threads(threads)


def bench_lasso_against_sklearn(n: int = 200, d: int = 1000, agreement: float = 1e-6) -> tuple[float, float]:
    """course_lib.linear_models.lasso_fit against sklearn.linear_model.Lasso, both to the same accuracy.

    A fixed 200x1000 problem with standardized columns, 20 non-zero true
    coefficients and noise 0.1; alpha = 0.1 alpha_max gives a sparse solution.
    The reference is sklearn at tol=1e-14. sklearn is timed at the largest tol
    among 1e-4, 1e-6, ... whose answer is within ``agreement`` (max abs) of the
    reference, ours at its default tol, which must reach it too. One BLAS
    thread for both (threadpoolctl), so neither gains from parallel matrix
    products.
    """
    from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
    from sklearn.linear_model import Lasso
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    true_coef = np.zeros(d)
    true_coef[rng.choice(d, size=20, replace=False)] = 2.0 * rng.standard_normal(20)
    y = X @ true_coef + 0.1 * rng.standard_normal(n)
    alpha = 0.1 * np.abs(X.T @ y).max() / n

    def sklearn_coef(tol: float, max_iter: int = 1000) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SklearnConvergenceWarning)
            return Lasso(alpha=alpha, fit_intercept=False, tol=tol, max_iter=max_iter).fit(X, y).coef_

    with threadpool_limits(limits=1):
        reference = sklearn_coef(1e-14, max_iter=10**6)
        ours_error = np.abs(lasso_fit(X, y, alpha).coef - reference).max()
        if ours_error > agreement:
            raise AssertionError(f"lasso_fit is {ours_error:.2g} from the reference, more than {agreement:g}")
        sklearn_tol = next(tol for tol in 10.0 ** -np.arange(4, 15, 2) if np.abs(sklearn_coef(tol) - reference).max() <= agreement)
        print(f"  lasso: {np.count_nonzero(reference)} non-zeros; sklearn needs tol={sklearn_tol:g} for {agreement:g} agreement")
        return median_seconds_alternating(lambda: lasso_fit(X, y, alpha), lambda: sklearn_coef(sklearn_tol))


def bench_adamw_step(seed: int = 0) -> tuple[float, float]:
    """course_lib.optim.AdamW.step against torch.optim.AdamW(foreach=False).step, same model and gradients.

    An MLP 1024 -> 512 -> 512 -> 256 -> 10 (~0.9M parameters, 8 tensors) in
    float32. Random gradients are set once and never change; only ``step()``
    is timed, and each optimizer updates its own copy of the model.
    foreach=False is torch's per-parameter loop, the code path ours mirrors.
    """
    torch.manual_seed(seed)
    template = nn.Sequential(
        nn.Linear(1024, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    ours_model, torch_model = copy.deepcopy(template), copy.deepcopy(template)
    for ours_param, torch_param in zip(ours_model.parameters(), torch_model.parameters()):
        gradient = torch.randn_like(ours_param)
        ours_param.grad, torch_param.grad = gradient.clone(), gradient.clone()
    ours = AdamW(ours_model.parameters(), lr=1e-3, weight_decay=0.1)
    reference = torch.optim.AdamW(torch_model.parameters(), lr=1e-3, weight_decay=0.1, foreach=False)
    return median_seconds_alternating(ours.step, reference.step, repeats=5 * REPEATS)


def bench_label_smoothing_cross_entropy(n: int = 8192, classes: int = 1000, smoothing: float = 0.1) -> tuple[float, float]:
    """label_smoothing_cross_entropy against F.cross_entropy(label_smoothing=0.1), forward + backward.

    (8192, 1000) float32 logits and int64 targets, mean reduction, no weights. Ours validates its
    input on every call (finite logits, targets in range), as a user calls it; the built-in checks
    only the target range inside its kernel.
    """
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(n, classes, generator=generator).requires_grad_(True)
    target = torch.randint(classes, (n,), generator=generator)

    def step(loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            logits.grad = None
            loss(logits, target).backward()
        return run

    return median_seconds_alternating(
        step(lambda z, y: label_smoothing_cross_entropy(z, y, smoothing)), step(lambda z, y: F.cross_entropy(z, y, label_smoothing=smoothing))
    )


# --- MC dropout: one batched forward pass against a loop of passes --------------------------------

MC_LAYER_SIZES = (40, 256, 256, 10)  # the MC dropout chapter's MLP
MC_DROPOUT = 0.3
MC_PASSES = 100
MC_QUERY_SIZES = (1, 10, 100, 1000)
MC_SPEEDUP_TARGET_ONE_QUERY = 20.0  # batched at least this many times faster than the loop for one query point
MC_SPEEDUP_TARGET = 1.0  # and never slower than the loop at any size
MC_MEMORY_CASES = ((1000, 1000, 1024), (1000, 1000, 32768), (100, 1000, 1024))  # (M, N, max_batch)


class _NoMask(nn.Identity):
    """Takes the place of each dropout layer: the same batched passes (chunks, copies) without drawing masks."""


def _mc_model_and_queries(n_queries: int) -> tuple[nn.Sequential, torch.Tensor]:
    model = make_mlp(MC_LAYER_SIZES, dropout=MC_DROPOUT)
    x = torch.tensor(np.random.default_rng(0).standard_normal((n_queries, MC_LAYER_SIZES[0])), dtype=torch.float32)
    return model, x


def _without_masks(model: nn.Sequential) -> nn.Sequential:
    return nn.Sequential(*(_NoMask() if isinstance(layer, nn.Dropout) else copy.deepcopy(layer) for layer in model))


def bench_mc_samples(n_queries: int) -> tuple[float, float, float]:
    """mc_samples(batched=True) against batched=False, M = 100 passes of the chapter's MLP, one thread.

    Returns ``(batched, looped, batched_without_masks)`` seconds. The third is the very same
    batched call on a copy of the network whose dropout layers are identities (counted as the
    dropout through ``dropout_types``): the passes in eval mode. Its difference to ``batched`` is
    the time spent drawing and applying the dropout masks.
    """
    model, x = _mc_model_and_queries(n_queries)
    no_masks = _without_masks(model)
    repeats = REPEATS if n_queries <= 100 else 5
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        batched, looped = median_seconds_alternating(
            lambda: mc_samples(model, x, MC_PASSES), lambda: mc_samples(model, x, MC_PASSES, batched=False), repeats
        )
        with_masks, without_masks = median_seconds_alternating(
            lambda: mc_samples(model, x, MC_PASSES), lambda: mc_samples(no_masks, x, MC_PASSES, dropout_types=_NoMask), repeats
        )
    finally:
        torch.set_num_threads(threads)
    return batched, looped, without_masks * batched / with_masks  # the mask-free time on the scale of this batched median


def _status_bytes(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def peak_memory_of_one_call(n_samples: int, n_queries: int, max_batch: int) -> None:
    """In a fresh process: print the growth of the peak resident memory during one mc_samples call, and the result's size.

    torch's CPU allocations are invisible to tracemalloc, so the kernel's high-water mark
    (VmHWM) is read instead, after resetting it to the current resident size (writing 5 to
    /proc/self/clear_refs, Linux).
    """
    torch.set_num_threads(1)
    model, x = _mc_model_and_queries(n_queries)
    mc_samples(model, x[:2], 2, max_batch=max_batch)  # lazy initialisation outside the measurement
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    before = _status_bytes("VmRSS")
    result = mc_samples(model, x, n_samples, max_batch=max_batch)
    print(_status_bytes("VmHWM") - before, result.numel() * result.element_size())


def measure_peak_memory(n_samples: int, n_queries: int, max_batch: int) -> tuple[int, int] | None:
    """(peak growth, result size) in bytes, measured in a fresh process; None where /proc cannot be used.

    glibc's malloc is told to map every block of 64 KiB or more on its own (a fixed mmap threshold),
    so a freed chunk's memory goes back to the system at once: by default the threshold adapts and
    freed chunks stay in the heap, which adds a few MiB of run-to-run noise to the peak.
    """
    command = [sys.executable, __file__, "--peak-memory", str(n_samples), str(n_queries), str(max_batch)]
    environment = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(64 * 1024)}
    finished = subprocess.run(command, capture_output=True, text=True, env=environment)
    if finished.returncode != 0:
        print(f"  peak memory not measured (needs Linux /proc): {finished.stderr.strip().splitlines()[-1:]}")
        return None
    peak, result = (int(value) for value in finished.stdout.split())
    return peak, result


def report_mc_dropout() -> None:
    print(f"mc_samples, M = {MC_PASSES} passes of make_mlp({MC_LAYER_SIZES}, dropout={MC_DROPOUT}), 1 thread, "
          "speed-up = looped / batched time")
    for n_queries in MC_QUERY_SIZES:
        batched, looped, without_masks = bench_mc_samples(n_queries)
        speedup = looped / batched
        target = MC_SPEEDUP_TARGET_ONE_QUERY if n_queries == 1 else MC_SPEEDUP_TARGET
        verdict = "ok" if speedup >= target else "BELOW TARGET"
        share = 1.0 - without_masks / batched
        print(
            f"{speedup:5.2f}x (target >= {target:g}x, {verdict})  mc_samples batched vs looped, N = {n_queries:,} "
            f"query point{'s' * (n_queries > 1)}; dropout masks take {share:.0%} of the batched time"
        )
        record("Monte-Carlo dropout", f"mc_samples batched vs looped speed-up, N = {n_queries:,}", f"{speedup:.2f}x",
               f">= {target:g}x", verdict)
    working = {}
    for n_samples, n_queries, max_batch in MC_MEMORY_CASES:
        measured = measure_peak_memory(n_samples, n_queries, max_batch)
        if measured is None:
            record("Monte-Carlo dropout", "mc_samples peak memory", "not measured", "-", "needs Linux /proc")
            return
        peak, result = measured
        working[(n_samples, max_batch)] = peak - result
        print(
            f"  peak memory, M = {n_samples:,}, N = {n_queries:,}, max_batch = {max_batch:,}: +{peak / 2**20:.1f} MiB, "
            f"of which the result {result / 2**20:.1f} MiB and the passes' working memory {(peak - result) / 2**20:.1f} MiB"
        )
    (m_big, n_big, small), (_, _, large), (m_small, _, _) = MC_MEMORY_CASES
    by_batch = working[(m_big, large)] / max(working[(m_big, small)], 1)
    by_samples = working[(m_big, small)] / max(working[(m_small, small)], 1)
    grows_with_batch = by_batch > 4  # large / small = 32 times the rows per chunk
    bounded_in_m = by_samples < 2  # 10 times the passes: a working memory growing with M would be ~10x
    print(
        f"{by_batch:5.2f}x working memory for {large // small}x max_batch ({'ok' if grows_with_batch else 'DOES NOT GROW'}); "
        f"{by_samples:.2f}x for {m_big // m_small}x the passes ({'ok, bounded by the chunk' if bounded_in_m else 'GROWS WITH M'})"
    )
    record("Monte-Carlo dropout", f"mc_samples working memory, {large // small}x max_batch", f"{by_batch:.2f}x", "> 4x",
           "ok" if grows_with_batch else "DOES NOT GROW")
    record("Monte-Carlo dropout", f"mc_samples working memory, {m_big // m_small}x the passes", f"{by_samples:.2f}x", "< 2x",
           "ok" if bounded_in_m else "GROWS WITH M")
    per_row = working[(m_big, large)] / large
    print(f"  all {m_big * n_big:,} rows in one forward pass would need about {per_row * m_big * n_big / 2**30:.1f} GiB of working memory")


# --- dropout variants against the built-ins, one thread --------------------------------------------

VARIANT_SHAPE = (64, 64, 32, 32)  # (N, C, H, W) float32: 4M activations, 16 MiB
VARIANT_P = 0.1
DROP_BLOCK_SIZE = 7  # Ghiasi et al.'s choice for ResNet-50
VARIANT_TARGET = 1.5


def median_seconds_cycling(functions: dict[str, Callable[[], object]], repeats: int = REPEATS) -> dict[str, float]:
    """Like median_seconds_alternating, for any number of callables: one call of each in turn, medians per name."""
    for function in functions.values():
        function()
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _variant_input(requires_grad: bool = False) -> torch.Tensor:
    return torch.randn(VARIANT_SHAPE, generator=torch.Generator().manual_seed(0)).requires_grad_(requires_grad)


def _forward_and_backward(layer: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, upstream: torch.Tensor) -> Callable[[], None]:
    def run() -> None:
        x.grad = None
        layer(x).backward(upstream)
    return run


def bench_spatial_dropout(backward: bool) -> tuple[float, float]:
    """spatial_dropout against F.dropout2d on (64, 64, 32, 32) float32, forward only or forward + backward."""
    x, p = _variant_input(requires_grad=backward), VARIANT_P
    ours, builtin = (lambda t: spatial_dropout(t, p)), (lambda t: F.dropout2d(t, p, training=True))
    if backward:
        upstream = torch.randn(VARIANT_SHAPE)
        return median_seconds_alternating(_forward_and_backward(ours, x, upstream), _forward_and_backward(builtin, x, upstream))
    return median_seconds_alternating(lambda: ours(x), lambda: builtin(x), repeats=5 * REPEATS)


def bench_drop_path() -> tuple[float, float]:
    """drop_path against the one-liner it replaces (no checks), forward, (64, 64, 32, 32) float32."""
    x, p = _variant_input(), VARIANT_P

    def one_liner() -> torch.Tensor:
        return x * x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1 - p) / (1 - p)

    return median_seconds_alternating(lambda: drop_path(x, p), one_liner, repeats=5 * REPEATS)


def bench_alpha_dropout() -> tuple[float, float]:
    """alpha_dropout against F.alpha_dropout, forward, (64, 64, 32, 32) float32."""
    x, p = _variant_input(), VARIANT_P
    return median_seconds_alternating(
        lambda: alpha_dropout(x, p), lambda: F.alpha_dropout(x, p, training=True), repeats=5 * REPEATS
    )


def bench_drop_block2d() -> tuple[float, float]:
    """drop_block2d (block_size 7) against F.dropout on the same tensor: no built-in DropBlock, a scale only."""
    x, p = _variant_input(), VARIANT_P
    return median_seconds_alternating(lambda: drop_block2d(x, p, DROP_BLOCK_SIZE), lambda: F.dropout(x, p, training=True))


def drop_block_stages() -> dict[str, float]:
    """Median seconds of each stage of course_lib.variants._drop_block, timed one after the other, and of the whole call.

    The stages are the library's own steps, written out here so each can be timed on its own
    (checked: run in a row from one seed they give drop_block2d's output exactly): the Bernoulli
    seed draw on the valid region; the expansion of seeds to blocks (pad, stride-1 window maxima
    along H then W, 1 - ...); the renormalisation (count the kept entries in float64, scale, multiply x); and
    _checked's finite test of the result (a sum). "whole call" includes the argument checks.
    """
    x, p, bs = _variant_input(), VARIANT_P, DROP_BLOCK_SIZE
    sizes = tuple(x.shape[2:])
    valid = tuple(size - bs + 1 for size in sizes)
    gamma = p / bs ** len(sizes) * math.prod(sizes) / math.prod(valid)

    def draw(generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.empty((*x.shape[:2], *valid), dtype=x.dtype).bernoulli_(gamma, generator=generator)

    def expand(seeds: torch.Tensor) -> torch.Tensor:
        covered = F.pad(seeds, (bs - 1,) * (2 * len(sizes)))
        for dim in range(2, x.ndim):
            covered = _window_max(covered, bs, dim)
        return 1.0 - covered

    def normalise(keep: torch.Tensor) -> torch.Tensor:
        kept = keep.sum(dtype=torch.float64).clamp(min=1.0)
        return x * (keep * (keep.numel() / kept).to(x.dtype))

    staged = normalise(expand(draw(torch.Generator().manual_seed(1))))
    if not torch.equal(staged, drop_block2d(x, p, bs, generator=torch.Generator().manual_seed(1))):
        raise AssertionError("the benchmark's DropBlock stages no longer match course_lib.variants.drop_block2d")
    seeds, keep = draw(), expand(draw())
    return median_seconds_cycling({
        "seed mask draw": draw,
        "block expansion (max over windows)": lambda: expand(seeds),
        "normalisation": lambda: normalise(keep),
        "finite check": lambda: math.isfinite(staged.sum().item()),
        "whole call": lambda: drop_block2d(x, p, bs),
    })


def spatial_dropout_forward_parts() -> dict[str, float]:
    """Median seconds of spatial_dropout's forward, of its multiply alone, and of its finite check alone."""
    x, p = _variant_input(), VARIANT_P
    mask = torch.empty((*x.shape[:2], 1, 1)).bernoulli_(1 - p).div_(1 - p)
    out = x * mask
    return median_seconds_cycling({
        "spatial_dropout": lambda: spatial_dropout(x, p),
        "F.dropout2d": lambda: F.dropout2d(x, p, training=True),
        "multiply": lambda: x * mask,
        "finite check": lambda: math.isfinite(out.sum().item()),
    })


def _ratio_row(name: str, ours: float, reference: float, target: float | None, no_target: str = "",
               chapter: str = "Dropout variants") -> None:
    ratio = ours / reference
    if target is None:
        print(f"{ratio:5.2f}x (no target: {no_target})  {name}")
        record(chapter, name, f"{ratio:.2f}x", "none", no_target)
    else:
        verdict = "ok" if ratio <= target else "SLOWER THAN TARGET"
        print(f"{ratio:5.2f}x (target <= {target}x, {verdict})  {name}")
        record(chapter, name, f"{ratio:.2f}x", f"<= {target}x", verdict)


def report_variants() -> None:
    shape = "x".join(map(str, VARIANT_SHAPE))
    print(f"dropout variants, {shape} float32, p = {VARIANT_P}, 1 thread")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _ratio_row("spatial_dropout vs F.dropout2d, forward", *bench_spatial_dropout(backward=False), VARIANT_TARGET)
        _ratio_row("spatial_dropout vs F.dropout2d, forward + backward", *bench_spatial_dropout(backward=True), VARIANT_TARGET)
        parts = spatial_dropout_forward_parts()
        print(f"  spatial_dropout forward = {parts['spatial_dropout'] / parts['multiply']:.2f} multiplies "
              f"(F.dropout2d {parts['F.dropout2d'] / parts['multiply']:.2f}); its finite check alone "
              f"{parts['finite check'] / parts['multiply']:.2f}")
        _ratio_row("drop_path vs x * x.new_empty((N, 1, 1, 1)).bernoulli_(1 - p) / (1 - p), forward", *bench_drop_path(),
                   VARIANT_TARGET)
        _ratio_row("alpha_dropout vs F.alpha_dropout, forward", *bench_alpha_dropout(), VARIANT_TARGET)
        _ratio_row(f"drop_block2d (block_size {DROP_BLOCK_SIZE}) vs F.dropout, forward", *bench_drop_block2d(), None,
                   "torch has no DropBlock; F.dropout for scale")
        stages = drop_block_stages()
        whole = stages.pop("whole call")
        total = sum(stages.values())
        shares = ", ".join(f"{name} {seconds / total:.0%}" for name, seconds in stages.items())
        print(f"  drop_block2d stages: {shares}; the stages add up to {total / whole:.2f} of the whole call")
    finally:
        torch.set_num_threads(threads)


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, numpy {np.__version__}; median of {REPEATS} alternating runs")
    rows = [
        ("Dropout", "InvertedDropout fwd+bwd vs F.dropout, 4096x4096 float32", bench_inverted_dropout_module(), 1.5),
        ("Dropout", "NumPy dropout_forward vs vectorised baseline, 2048x2048 float64", bench_numpy_dropout_forward(), 1.5),
        ("Why regularize", "fit vs hand-written loop, MLP on digits, 4 epochs of 34 mini-batches",
         bench_fit_against_a_hand_written_loop(), 1.10),
        ("Adam vs AdamW", "AdamW.step vs torch.optim.AdamW(foreach=False), 0.9M-parameter MLP, float32", bench_adamw_step(), 2.0),
        ("Weight decay, L2 and L1", "lasso_fit vs sklearn Lasso, 200x1000, both within 1e-6 of the reference, 1 thread",
         bench_lasso_against_sklearn(), 3.0),
        ("Label smoothing", "label_smoothing_cross_entropy fwd+bwd vs F.cross_entropy(label_smoothing=0.1), 8192x1000 float32",
         bench_label_smoothing_cross_entropy(), 1.5),
    ]
    for chapter, name, (ours, reference), target in rows:
        _ratio_row(name, ours, reference, target, chapter=chapter)
    report_mc_dropout()
    report_variants()
    print_summary()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peak-memory"]:
        peak_memory_of_one_call(*(int(value) for value in sys.argv[2:5]))
    elif sys.argv[1:] == ["variants"]:
        report_variants()
        print_summary()
    else:
        main()
