"""Speed of course_lib against the built-ins it teaches, as ratios measured in one run.

Run with `make bench`. Each pair is timed alternately (so both see the same
machine load) and the median of the repeats is compared; only ratios are
meaningful across machines.
"""

from __future__ import annotations

import copy
import statistics
import time
import warnings
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.data import load_digits_splits
from course_lib.dropout import InvertedDropout, dropout_forward
from course_lib.linear_models import lasso_fit
from course_lib.optim import AdamW
from course_lib.train import fit

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


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, numpy {np.__version__}; median of {REPEATS} alternating runs")
    rows = [
        ("InvertedDropout fwd+bwd vs F.dropout, 4096x4096 float32", bench_inverted_dropout_module(), 1.5),
        ("NumPy dropout_forward vs vectorised baseline, 2048x2048 float64", bench_numpy_dropout_forward(), 1.5),
        ("fit vs hand-written loop, MLP on digits, 4 epochs of 34 mini-batches", bench_fit_against_a_hand_written_loop(), 1.10),
        ("AdamW.step vs torch.optim.AdamW(foreach=False), 0.9M-parameter MLP, float32", bench_adamw_step(), 2.0),
        ("lasso_fit vs sklearn Lasso, 200x1000, both within 1e-6 of the reference, 1 thread", bench_lasso_against_sklearn(), 3.0),
    ]
    for name, (ours, reference), target in rows:
        ratio = ours / reference
        verdict = "ok" if ratio <= target else "SLOWER THAN TARGET"
        print(f"{ratio:5.2f}x (target <= {target}x, {verdict})  {name}")


if __name__ == "__main__":
    main()
