"""Synthetic problems for the book's experiments, generated from a seed.

* :func:`make_gap_regression` (with its noiseless target :func:`gap_regression_function`):
  1-D regression with a hole in the inputs, for predictive uncertainty.
* :func:`make_two_moons` and :func:`make_spirals`: 2-D classification with non-linear boundaries.
* :func:`make_sparse_linear_regression`: few examples, many features, few of them informative
  (a :class:`LinearRegressionProblem` with its true weights).
* :func:`make_dense_linear_regression`: few examples, many features, all of them equally and
  weakly informative -- the weight-decay experiment of *Dive into Deep Learning*, §3.7.

The classification and gap-regression problems come as :class:`course_lib.data.DataSplits`,
split and sized by the same rules as the real data sets of :mod:`course_lib.data`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from course_lib._validation import check_bool, check_finite, check_finite_real, check_int, check_non_negative, real_array, real_tensor, record_array, set_record_fields
from course_lib.data import (
    DEFAULT_FRACTIONS,
    MAX_VALUES,
    DataSplits,
    _check_seed,
    _check_size,
    _check_three_fractions,
    _SPLIT_NAMES,
    _splits_from_arrays,
)

__all__ = [
    "GAP_REGRESSION_INTERVALS",
    "MAX_NOISE_STD",
    "gap_regression_function",
    "make_gap_regression",
    "make_two_moons",
    "make_spirals",
    "LinearRegressionProblem",
    "make_sparse_linear_regression",
    "MAX_TRUE_COEFFICIENT",
    "make_dense_linear_regression",
]

#: Largest ``noise_std`` of the generators: Gaussian noise beyond it would overflow float32 features.
MAX_NOISE_STD = 1e30


def _check_noise_std(noise_std: Any) -> float:
    noise_std = check_non_negative("noise_std", noise_std)
    if noise_std > MAX_NOISE_STD:
        raise ValueError(f"noise_std must be at most {MAX_NOISE_STD:g} (float32 features), got {noise_std!r}")
    return noise_std


#: The two input intervals of :func:`make_gap_regression`; (-1, 1) between them is the gap.
GAP_REGRESSION_INTERVALS: tuple[tuple[float, float], tuple[float, float]] = ((-3.0, -1.0), (1.0, 3.0))


def gap_regression_function(x: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    r"""The noiseless target of :func:`make_gap_regression`: :math:`f(x) = \sin(2x) + 0.3\,x`.

    Works elementwise on a NumPy array or a tensor (returning the same kind),
    e.g. to draw the truth on a grid that crosses the gap. Input follows the
    one dtype rule (:func:`course_lib._validation.real_array` /
    ``real_tensor``): integers are computed in float64, and ``None``, bool,
    complex or string input is a ``TypeError`` naming ``x``; NaN or infinite
    entries are a ``ValueError``. Where :math:`2x` would overflow (the top of
    the float range) :math:`\sin 2x` is computed as :math:`2 \sin x \cos x`.

    Example:
        >>> float(gap_regression_function(0))
        0.0
    """
    if isinstance(x, torch.Tensor):
        x = real_tensor("x", x)
        check_finite("x", x)
        big = x.detach().abs() > torch.finfo(x.dtype).max / 2
        sine = torch.sin(2.0 * torch.where(big, torch.zeros_like(x), x))
        if bool(big.any()):
            sine = torch.where(big, 2.0 * torch.sin(x) * torch.cos(x), sine)
        return sine + 0.3 * x
    x = real_array("x", x)
    check_finite("x", x)
    big = np.abs(x) > np.finfo(x.dtype).max / 2
    sine = np.sin(2.0 * np.where(big, 0.0, x))
    if big.any():
        sine = np.where(big, 2.0 * np.sin(x) * np.cos(x), sine)
    return sine + 0.3 * x


def _sample_gap_inputs(n: int, rng: np.random.Generator) -> np.ndarray:
    (a_low, a_high), (b_low, b_high) = GAP_REGRESSION_INTERVALS
    left = rng.permutation(n) < (n + 1) // 2  # half the points on each side, in random order
    return np.where(left, rng.uniform(a_low, a_high, n), rng.uniform(b_low, b_high, n))


def make_gap_regression(
    n_train: int = 40,
    n_val: int = 40,
    n_test: int = 200,
    noise_std: float = 0.1,
    seed: int = 0,
    *,
    test_covers_gap: bool = True,
) -> DataSplits:
    r"""1-D regression with a hole in the inputs, for predictive uncertainty.

    Inputs :math:`x` are uniform on :math:`[-3, -1] \cup [1, 3]`
    (:data:`GAP_REGRESSION_INTERVALS`, half the points on each side), targets
    :math:`y = f(x) + \varepsilon` with :math:`f` = :func:`gap_regression_function`
    and :math:`\varepsilon \sim \mathcal N(0, \sigma^2)`. No training or
    validation input falls in the gap :math:`(-1, 1)`, so a model has no data
    there and its uncertainty should grow.

    Args:
        n_train, n_val, n_test: examples per split (each in ``[1, MAX_VALUES]``).
        noise_std: :math:`0 \le \sigma \le` :data:`MAX_NOISE_STD`.
        seed: non-negative int.
        test_covers_gap: draw the test inputs uniformly on the whole range
            :math:`[-3, 3]`, gap included (default), to measure how the model
            fills the gap; with ``False`` they follow the training distribution.

    Returns:
        A regression :class:`DataSplits` named ``"gap_regression"`` with
        ``X_*`` and ``y_*`` of shape ``(n, 1)``, float32, so that
        ``nn.MSELoss()(model(X), y)`` compares matching shapes.
    """
    n_train, n_val, n_test = (_check_size(k, v) for k, v in
                              (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)))
    noise_std = _check_noise_std(noise_std)
    rng = np.random.default_rng(_check_seed(seed))
    test_covers_gap = check_bool("test_covers_gap", test_covers_gap)
    x_parts = [_sample_gap_inputs(n_train, rng), _sample_gap_inputs(n_val, rng)]
    low, high = GAP_REGRESSION_INTERVALS[0][0], GAP_REGRESSION_INTERVALS[1][1]
    x_parts.append(rng.uniform(low, high, n_test) if test_covers_gap else _sample_gap_inputs(n_test, rng))
    tensors: dict[str, torch.Tensor] = {}
    for split, x in zip(_SPLIT_NAMES, x_parts):
        y = gap_regression_function(x) + noise_std * rng.standard_normal(len(x))
        tensors[f"X_{split}"] = torch.as_tensor(x[:, None], dtype=torch.float32)
        tensors[f"y_{split}"] = torch.as_tensor(y[:, None], dtype=torch.float32)
    return DataSplits(name="gap_regression", feature_names=("x",), class_names=None, **tensors)


def _class_sizes(n_samples: int, n_classes: int, n_splits: int, classes: str = "classes") -> np.ndarray:
    """Split ``n_samples`` as evenly as possible over the classes; each needs one member per split.

    ``classes`` names the class count in the error (``"n_arms"`` for the spirals).
    """
    if n_samples < n_classes * n_splits:  # checked before allocating: n_classes may be huge
        count = f"{n_classes} classes" if classes == "classes" else f"{classes} = {n_classes} classes"
        raise ValueError(
            f"n_samples must be at least {n_classes * n_splits} ({count} x {n_splits} splits), got {n_samples}"
        )
    sizes = np.full(n_classes, n_samples // n_classes)
    sizes[: n_samples % n_classes] += 1
    return sizes


def _classification_splits(
    name: str, X: np.ndarray, y: np.ndarray, *, seed: int, fractions: Sequence[float], class_names: Sequence[str]
) -> DataSplits:
    return _splits_from_arrays(
        name, X, y, seed=seed, fractions=fractions, standardize=False,
        feature_names=("x1", "x2"), class_names=class_names,
    )


def make_two_moons(
    n_samples: int = 300,
    noise_std: float = 0.2,
    seed: int = 0,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
) -> DataSplits:
    r"""Two interleaving half circles in the plane, a classic non-linear boundary.

    Class 0 ("upper moon"): :math:`(\cos t, \sin t)`; class 1 ("lower moon"):
    :math:`(1 - \cos t, \tfrac12 - \sin t)`, with :math:`t \sim U[0, \pi]`,
    plus isotropic Gaussian noise of standard deviation ``noise_std``. The
    classes get ``n_samples`` split as evenly as possible, then the examples
    are split with :func:`stratified_split_indices` (no standardisation).

    ``n_samples`` is at most :data:`MAX_VALUES`, ``noise_std`` in
    ``[0, MAX_NOISE_STD]``.

    Returns:
        A :class:`DataSplits` named ``"two_moons"`` with two features.
    """
    n_samples = _check_size("n_samples", n_samples)
    noise_std = _check_noise_std(noise_std)
    seed = _check_seed(seed)
    sizes = _class_sizes(n_samples, 2, len(_check_three_fractions(fractions)))
    rng = np.random.default_rng(seed)
    t_upper, t_lower = rng.uniform(0.0, np.pi, sizes[0]), rng.uniform(0.0, np.pi, sizes[1])
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.concatenate([upper, lower]) + noise_std * rng.standard_normal((n_samples, 2))
    y = np.repeat([0, 1], sizes)
    return _classification_splits(
        "two_moons", X, y, seed=seed, fractions=fractions, class_names=("upper moon", "lower moon")
    )


def make_spirals(
    n_samples: int = 300,
    n_arms: int = 2,
    noise_std: float = 0.05,
    turns: float = 1.0,
    seed: int = 0,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
) -> DataSplits:
    r"""Interleaved spiral arms in the plane, one class per arm.

    Arm :math:`k` of :math:`K` is the curve
    :math:`r\,(\cos\theta, \sin\theta)` with :math:`r = t`,
    :math:`\theta = 2\pi(\text{turns}\cdot t + k/K)`, :math:`t \sim U[0.05, 1]`,
    plus isotropic Gaussian noise of standard deviation ``noise_std``. Adjacent
    arms are :math:`1/(K\cdot\text{turns})` apart along a ray, so the problem
    gets harder with more arms, more turns or more noise.

    Args:
        n_samples: total points, shared as evenly as possible by the arms
            (at most :data:`MAX_VALUES`, at least three per arm).
        n_arms: number of arms = classes (>= 2).
        noise_std: noise standard deviation, in ``[0, MAX_NOISE_STD]``.
        turns: revolutions of each arm (> 0, with a finite angle
            :math:`2\pi(\text{turns} + 1)`).
        seed, fractions: as in :func:`make_two_moons`.

    Returns:
        A :class:`DataSplits` named ``"spirals"`` with classes ``"arm 0"``, ….
    """
    n_samples = _check_size("n_samples", n_samples)
    n_arms = check_int("n_arms", n_arms, minimum=2)
    noise_std = _check_noise_std(noise_std)
    turns = check_non_negative("turns", turns)
    if turns == 0:
        raise ValueError(f"turns must be a finite number > 0, got {turns!r}")
    if not math.isfinite(2.0 * math.pi * (turns + 1.0)):
        raise ValueError(f"turns must be small enough that the angle 2*pi*(turns + 1) is finite, got {turns!r}")
    seed = _check_seed(seed)
    sizes = _class_sizes(n_samples, n_arms, len(_check_three_fractions(fractions)), "n_arms")
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_arms), sizes)
    t = rng.uniform(0.05, 1.0, n_samples)
    theta = 2.0 * np.pi * (turns * t + y / n_arms)
    X = t[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    X += noise_std * rng.standard_normal((n_samples, 2))
    return _classification_splits(
        "spirals", X, y, seed=seed, fractions=fractions, class_names=[f"arm {k}" for k in range(n_arms)]
    )


@dataclass(frozen=True, eq=False)
class LinearRegressionProblem:
    r"""A linear regression problem with known true weights (NumPy, float64).

    ``y = X @ true_weights + intercept + noise``, with i.i.d. standard-normal
    features and noise :math:`\mathcal N(0, \sigma^2)`.

    Attributes:
        X_train: ``(n, d)`` training features. y_train: ``(n,)`` targets.
        X_test: ``(n_test, d)``; y_test: ``(n_test,)``, from the same model.
        true_weights: ``(d,)`` weights that generated the data.
        noise_std: :math:`\sigma`; :math:`\sigma^2` is the smallest expected
            test mean squared error any predictor can reach.
        intercept: the true intercept :math:`b` (default 0: no intercept).

    The constructor checks the fields: finite real arrays of matching shapes
    (``(n, d)``, ``(n,)``, ``(n_test, d)``, ``(n_test,)``, ``(d,)``),
    ``noise_std >= 0`` and a finite ``intercept``; a wrong field is a
    ``TypeError``/``ValueError`` naming it (and, for a shape that does not
    match, the field it is measured against).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    true_weights: np.ndarray
    noise_std: float
    intercept: float = 0.0

    def __post_init__(self) -> None:
        X_train = record_array("X_train", self.X_train, (None, None))
        n, d = X_train.shape
        X_test = _matching_array("X_test", self.X_test, (None, d), "X_train has {} columns")
        checked = {
            "X_train": X_train,
            "y_train": _matching_array("y_train", self.y_train, (n,), "X_train has {} rows"),
            "X_test": X_test,
            "y_test": _matching_array("y_test", self.y_test, (X_test.shape[0],), "X_test has {} rows"),
            "true_weights": _matching_array("true_weights", self.true_weights, (d,), "X_train has {} columns"),
            "noise_std": check_non_negative("noise_std", self.noise_std),
            "intercept": check_finite_real("intercept", self.intercept),
        }
        for name, value in checked.items():
            if name not in ("noise_std", "intercept"):
                check_finite(name, value)
        set_record_fields(self, checked)

    @property
    def n_samples(self) -> int:
        """Training examples ``n``."""
        return int(self.X_train.shape[0])

    @property
    def n_features(self) -> int:
        """Features ``d``."""
        return int(self.X_train.shape[1])

    @property
    def support(self) -> np.ndarray:
        """Indices of the non-zero true weights, ascending."""
        return np.flatnonzero(self.true_weights)

    def __repr__(self) -> str:
        return (
            f"LinearRegressionProblem(n_samples={self.n_samples}, n_features={self.n_features}, "
            f"n_informative={len(self.support)}, n_test={len(self.y_test)}, noise_std={self.noise_std}"
            + (f", intercept={self.intercept}" if self.intercept != 0 else "") + ")"
        )


def _matching_array(name: str, value: Any, shape: tuple[int | None, ...], reference: str) -> np.ndarray:
    """:func:`record_array` with ``shape``; a length mismatch also names the field it comes from (``reference``)."""
    array = record_array(name, value, (None,) * len(shape))
    try:
        return record_array(name, array, shape)
    except ValueError as error:
        given = next(want for want in shape if want is not None)
        raise ValueError(f"{error}: {reference.format(given)}") from None


def make_sparse_linear_regression(
    n_samples: int = 20,
    n_features: int = 200,
    n_informative: int = 10,
    noise_std: float = 0.5,
    n_test: int = 1000,
    seed: int = 0,
) -> LinearRegressionProblem:
    r"""High-dimensional linear regression with few examples (default 20 examples, 200 features).

    With :math:`n \ll d` least squares has infinitely many exact fits of the
    training data, and regularization chooses among them: the weight-decay
    chapter's test-error-vs-:math:`\lambda` experiment.

    The true weight vector has ``n_informative`` non-zero entries at random
    positions, drawn from :math:`\mathcal N(0, 1)`; features are i.i.d.
    :math:`\mathcal N(0, 1)`; :math:`y = Xw^\star + \varepsilon`,
    :math:`\varepsilon \sim \mathcal N(0, \sigma^2)`.

    Args:
        n_samples: training examples ``n`` (>= 1).
        n_features: features ``d`` (>= 1).
        n_informative: non-zero true weights, ``0 <= n_informative <= n_features``.
        noise_std: :math:`0 \le \sigma \le` :data:`MAX_NOISE_STD`.
        n_test: test examples (>= 1), from the same model.
        seed: non-negative int.

    ``n_samples * n_features`` and ``n_test * n_features`` are at most
    :data:`MAX_VALUES` (a larger request is a ``ValueError``, not an allocation).

    Returns:
        A :class:`LinearRegressionProblem` (NumPy float64 arrays).
    """
    n_samples = _check_size("n_samples", n_samples)
    n_features = _check_size("n_features", n_features)
    n_informative = check_int("n_informative", n_informative, minimum=0)
    if n_informative > n_features:
        raise ValueError(f"n_informative must be at most n_features = {n_features}, got {n_informative}")
    noise_std = _check_noise_std(noise_std)
    n_test = _check_size("n_test", n_test)
    _check_design_sizes(n_samples, n_test, n_features)
    rng = np.random.default_rng(_check_seed(seed))
    weights = np.zeros(n_features)
    support = rng.choice(n_features, size=n_informative, replace=False)
    weights[support] = rng.standard_normal(n_informative)
    return _sample_linear_problem(rng, weights, 0.0, noise_std, n_samples, n_test)


def _check_design_sizes(n_samples: int, n_test: int, n_features: int) -> None:
    """Both design matrices hold at most :data:`MAX_VALUES` values (checked before anything is allocated)."""
    for rows, count in (("n_samples", n_samples), ("n_test", n_test)):
        if count * n_features > MAX_VALUES:
            raise ValueError(
                f"{rows} * n_features must be at most {MAX_VALUES:,} values, got {count} * {n_features}"
            )


def _sample_linear_problem(
    rng: np.random.Generator, weights: np.ndarray, intercept: float, noise_std: float, n_samples: int, n_test: int
) -> LinearRegressionProblem:
    """Standard-normal features and ``y = X @ weights + intercept + noise``, training split drawn first, then test."""

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.standard_normal((n, len(weights)))
        return X, X @ weights + intercept + noise_std * rng.standard_normal(n)

    X_train, y_train = sample(n_samples)
    X_test, y_test = sample(n_test)
    return LinearRegressionProblem(X_train, y_train, X_test, y_test, weights, noise_std, intercept)


#: Largest ``|weight|`` and ``|intercept|`` of :func:`make_dense_linear_regression`: the targets
#: (sums of ``n_features`` such terms) then stay far inside float64's range.
MAX_TRUE_COEFFICIENT = 1e30


def _check_coefficient(name: str, value: Any) -> float:
    value = check_finite_real(name, value)
    if abs(value) > MAX_TRUE_COEFFICIENT:
        raise ValueError(f"{name} must be at most {MAX_TRUE_COEFFICIENT:g} in magnitude, got {value!r}")
    return value


def make_dense_linear_regression(
    n_samples: int = 20,
    n_features: int = 200,
    weight: float = 0.01,
    intercept: float = 0.05,
    noise_std: float = 0.01,
    n_test: int = 10_000,
    seed: int = 0,
) -> LinearRegressionProblem:
    r"""High-dimensional linear regression with a *dense* truth: every feature matters a little.

    The weight-decay experiment of *Dive into Deep Learning* (Zhang, Lipton, Li
    & Smola, 2023, §3.7 "Weight Decay"), whose defaults this function takes:
    :math:`n = 20` examples, :math:`d = 200` features,

    .. math::
        y = 0.05 + \sum_{j=1}^{d} 0.01\, x_j + \varepsilon, \qquad
        x_j \sim \mathcal N(0, 1), \quad \varepsilon \sim \mathcal N(0, 0.01^2),

    i.e. ``true_weights`` :math:`= w\,\mathbf 1` and ``intercept`` :math:`= b`.
    Predicting the true intercept alone has expected test error
    :math:`d\,w^2 + \sigma^2` (0.0201 with the defaults); the truth itself,
    :math:`\sigma^2`. With :math:`n \ll d` least squares has infinitely many
    exact fits, and a penalty chooses among them. d2l uses a test set of 100
    examples; the default here is 10,000, so that the test error is measured
    to a few tenths of a percent and differences between penalty strengths are
    not test-set noise.

    Args:
        n_samples: training examples ``n`` (>= 1).
        n_features: features ``d`` (>= 1).
        weight: every true weight :math:`w` (finite, :math:`|w| \le`
            :data:`MAX_TRUE_COEFFICIENT`).
        intercept: the true intercept :math:`b` (same bounds).
        noise_std: :math:`0 \le \sigma \le` :data:`MAX_NOISE_STD`.
        n_test: test examples (>= 1), from the same model.
        seed: non-negative int; it fixes the features and the noise.

    ``n_samples * n_features`` and ``n_test * n_features`` are at most
    :data:`MAX_VALUES` (a larger request is a ``ValueError``, not an allocation).

    Returns:
        A :class:`LinearRegressionProblem` (NumPy float64 arrays) with ``intercept = b``.

    Example:
        >>> problem = make_dense_linear_regression(seed=0)
        >>> problem.X_train.shape, problem.X_test.shape, float(problem.true_weights[0]), problem.intercept
        ((20, 200), (10000, 200), 0.01, 0.05)
    """
    n_samples = _check_size("n_samples", n_samples)
    n_features = _check_size("n_features", n_features)
    weight = _check_coefficient("weight", weight)
    intercept = _check_coefficient("intercept", intercept)
    noise_std = _check_noise_std(noise_std)
    n_test = _check_size("n_test", n_test)
    _check_design_sizes(n_samples, n_test, n_features)
    rng = np.random.default_rng(_check_seed(seed))
    return _sample_linear_problem(rng, np.full(n_features, weight), intercept, noise_std, n_samples, n_test)
