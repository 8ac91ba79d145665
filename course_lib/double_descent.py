r"""Double descent with random-features regression on MNIST-1D.

Classical statistics predicts a U-shaped test error as a model grows: too few
parameters under-fit, too many over-fit. Belkin et al. (2019, "Reconciling
modern machine-learning practice and the classical bias-variance trade-off",
PNAS 116) showed that the curve continues: the test error *peaks* where the
model first becomes able to interpolate its training set (as many parameters
as training examples) and then **descends a second time** as the model keeps
growing. Nakkiran et al. (2020, "Deep double descent: where bigger models and
more data can hurt", ICLR) found the same peak in deep networks, over width,
training time and data set size; Greydanus (2020, "Scaling down deep
learning", the MNIST-1D paper) reproduces it on MNIST-1D.

The cleanest place to see it is a linear model on :math:`N` random ReLU
features :math:`\phi(x) = \mathrm{ReLU}(W^\top x + b)` (:func:`random_relu_features`)
fitted by least squares (:func:`min_norm_least_squares`):

* :math:`N < n` (fewer features than training examples): ordinary least
  squares, which cannot fit the training set exactly;
* :math:`N = n`: the *interpolation threshold*. The square feature matrix is
  barely invertible, its smallest singular values are tiny, and the fit
  :math:`\beta = \Phi^{-1} Y` divides the label noise by them: huge
  coefficients, huge test error;
* :math:`N > n`: infinitely many interpolators; the **minimum-norm** one
  (what the pseudo-inverse, and gradient descent from zero, return) gets
  smoother as :math:`N` grows, and the test error falls again.

A ridge penalty :math:`\alpha > 0` keeps the small singular values from being
inverted (the filter :math:`s/(s^2+\alpha)` instead of :math:`1/s`) and
flattens the peak: explicit regularisation removes what implicit
regularisation (the minimum norm) cannot fix at the threshold.
:func:`double_descent_curve` runs the whole experiment on a
:class:`~course_lib.data.DataSplits`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from course_lib._validation import (
    ValidatedTuple,
    check_finite,
    check_finite_result,
    check_int,
    check_non_negative,
    describe_value,
    overflow_is_an_error,
    real_array,
    record_array,
)
from course_lib.data import DataSplits

__all__ = [
    "MAX_FEATURE_ENTRIES",
    "random_relu_features",
    "min_norm_least_squares",
    "DoubleDescentCurve",
    "double_descent_curve",
]

#: The largest feature matrix (rows times features) built at once: 2e7 float64 entries, 160 MB.
MAX_FEATURE_ENTRIES = 2 * 10**7


# --- argument checks ---------------------------------------------------------------------------

def _matrix(name: str, value: Any) -> np.ndarray:
    """``value`` as a finite float64 matrix with at least one row and one column."""
    array = real_array(name, value).astype(np.float64, copy=False)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows, columns), got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column, got shape {array.shape}")
    return check_finite(name, array)


def _sequence(name: str, value: Any, what: str) -> tuple[Any, ...]:
    """``value`` as a non-empty tuple, after checking it is a sequence or 1-D array (not a string or set)."""
    is_vector = isinstance(value, np.ndarray) and value.ndim == 1
    if isinstance(value, (str, bytes)) or not (isinstance(value, Sequence) or is_vector):
        raise TypeError(f"{name} must be a sequence of {what}, got {describe_value(value)}")
    if len(value) == 0:
        raise ValueError(f"{name} must hold at least one entry, got an empty {type(value).__name__}")
    return tuple(value)


def _check_n_features(n_features: Any, rows: int, name: str = "n_features") -> int:
    n_features = check_int(name, n_features, minimum=1)
    if rows * n_features > MAX_FEATURE_ENTRIES:
        raise ValueError(
            f"{name} = {n_features} with {rows} rows gives {rows * n_features:,} feature entries, "
            f"more than MAX_FEATURE_ENTRIES = {MAX_FEATURE_ENTRIES:,}"
        )
    return n_features


# --- random features ---------------------------------------------------------------------------

def _relu_weights(n_inputs: int, n_features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``W`` (n_inputs, n_features) and ``b`` (n_features,), nested in ``n_features`` for a fixed seed."""
    weight_stream, bias_stream = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    scale = 1.0 / math.sqrt(n_features)
    weights = weight_stream.standard_normal((n_features, n_inputs)).T * (scale / math.sqrt(n_inputs))
    bias = bias_stream.standard_normal(n_features) * scale
    return weights, bias


def random_relu_features(X: np.ndarray, n_features: int, seed: int = 0) -> np.ndarray:
    r"""Random ReLU features :math:`\Phi = \mathrm{ReLU}(XW + \mathbf 1 b^\top)` of the rows of ``X``.

    The weights are drawn once, independently of the data:

    .. math::
        W_{jk} \sim \mathcal N\!\Big(0, \frac{1}{d\,N}\Big), \qquad
        b_k \sim \mathcal N\!\Big(0, \frac{1}{N}\Big),

    for :math:`d` inputs and :math:`N` = ``n_features``. For standardised
    inputs (:math:`\|x\|^2 \approx d`) the pre-activation
    :math:`\sqrt N\,(w_k^\top x + b_k)` has variance about 2, so no unit is
    dead or saturated for most inputs; the overall factor
    :math:`1/\sqrt N` (ReLU is positively homogeneous, so it can sit in
    :math:`W` and :math:`b`) makes :math:`\Phi\Phi^\top` converge to a fixed
    kernel (the arc-cosine kernel of Cho & Saul, 2009) as :math:`N \to \infty`.
    A ridge strength :math:`\alpha` then means the same thing at every width.

    The draws come from ``np.random.SeedSequence(seed)``: one child stream for
    the rows of :math:`W^\top`, one for :math:`b`. The features are therefore
    **nested**: for the same ``seed``, the first :math:`N` features of width
    :math:`N' > N` are those of width :math:`N` times :math:`\sqrt{N/N'}`, so a
    curve over the width only ever adds features.

    A feature with :math:`w_k^\top x + b_k < 0` on every row is **dead** on
    that data: a zero column of :math:`\Phi`. On 100 standardised MNIST-1D
    signals about 2% of the features are dead (under 1% on 300), so
    :math:`\Phi` reaches full row rank -- and least squares interpolates --
    only a few features past :math:`N = n`.

    Args:
        X: inputs, shape ``(n, d)``, finite.
        n_features: number of features :math:`N \ge 1`, with
            ``n * n_features <= MAX_FEATURE_ENTRIES``.
        seed: seed of the weights, an int ``>= 0``.

    Returns:
        ``(n, n_features)`` float64 array, every entry ``>= 0``.

    Example:
        >>> features = random_relu_features(np.ones((3, 2)), 5, seed=0)
        >>> features.shape, bool((features >= 0).all())
        ((3, 5), True)
    """
    X = _matrix("X", X)
    n_features = _check_n_features(n_features, X.shape[0])
    seed = check_int("seed", seed, minimum=0)
    weights, bias = _relu_weights(X.shape[1], n_features, seed)
    with overflow_is_an_error("X"):
        features = np.maximum(X @ weights + bias, 0.0)
    return check_finite_result(features, "X")


# --- least squares through the SVD -------------------------------------------------------------

def _svd(Phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with overflow_is_an_error("Phi"):
        U, s, Vt = np.linalg.svd(Phi, full_matrices=False)
    if not np.all(np.isfinite(s)):
        raise ValueError("the magnitudes of Phi are beyond float64's range: its singular values are not finite")
    return U, s, Vt


def _spectral_filter(s: np.ndarray, alpha: float, rows: int, columns: int) -> np.ndarray:
    r"""The factor applied to each singular direction: :math:`1/s` above the rank cutoff (alpha 0), :math:`s/(s^2+\alpha)`."""
    if alpha == 0.0:
        cutoff = np.finfo(np.float64).eps * max(rows, columns) * (s[0] if s.size else 0.0)
        kept = s > cutoff
        return np.divide(1.0, s, out=np.zeros_like(s), where=kept)
    with np.errstate(over="ignore", divide="ignore"):  # alpha / s -> inf gives the exact limit 0
        return np.divide(1.0, s + np.divide(alpha, s, out=np.full_like(s, np.inf), where=s > 0))


def _coefficients(U: np.ndarray, s: np.ndarray, Vt: np.ndarray, Y: np.ndarray, alpha: float) -> np.ndarray:
    with overflow_is_an_error("Phi, Y and alpha"):
        projected = U.T @ Y
        return Vt.T @ (_spectral_filter(s, alpha, U.shape[0], Vt.shape[1]).reshape((-1,) + (1,) * (Y.ndim - 1)) * projected)


def _check_targets(Y: Any, rows: int) -> np.ndarray:
    Y = check_finite("Y", real_array("Y", Y).astype(np.float64, copy=False))
    if Y.ndim not in (1, 2) or (Y.ndim == 2 and Y.shape[1] == 0):
        raise ValueError(f"Y must be a vector (n,) or a matrix (n, K) with K >= 1, got shape {Y.shape}")
    if Y.shape[0] != rows:
        raise ValueError(f"Phi has {rows} rows but Y has {Y.shape[0]}: Y needs one row per row of Phi")
    return Y


def min_norm_least_squares(Phi: np.ndarray, Y: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    r"""Least squares on features ``Phi``: the minimum-norm solution (``alpha = 0``) or ridge (``alpha > 0``).

    .. math::
        \hat B = \arg\min_B\; \|Y - \Phi B\|_F^2 + \alpha\,\|B\|_F^2
        = V\,\mathrm{diag}\!\Big(\frac{s_i}{s_i^2 + \alpha}\Big)\,U^\top Y,

    with the thin SVD :math:`\Phi = U\,\mathrm{diag}(s)\,V^\top` — the
    objective of :func:`course_lib.linear_models.ridge_fit` and of
    :class:`sklearn.linear_model.Ridge` with ``fit_intercept=False`` (a plain
    sum of squares, no :math:`1/n`), solved for every column of ``Y`` at once.

    With ``alpha = 0`` the filter is :math:`1/s_i` on the singular values
    above the rank cutoff :math:`\varepsilon\,\max(n, N)\,s_{\max}` (that of
    :func:`numpy.linalg.lstsq` and :func:`numpy.linalg.pinv`) and 0 below:
    :math:`\hat B = \Phi^{+} Y`, the least-squares solution of smallest
    Frobenius norm. When ``Phi`` has at least as many columns as rows and full
    row rank it **interpolates**: :math:`\Phi\hat B = Y`. It is also the limit
    of ridge as :math:`\alpha \to 0^+`, and where gradient descent from
    :math:`B = 0` converges (its iterates never leave the row space of
    :math:`\Phi`).

    Args:
        Phi: features, shape ``(n, N)``, finite.
        Y: targets, shape ``(n, K)`` (e.g. one-hot labels) or ``(n,)``.
        alpha: ridge strength :math:`\alpha \ge 0`.

    Returns:
        Coefficients, shape ``(N, K)``, or ``(N,)`` for a vector ``Y``.

    Example:
        >>> min_norm_least_squares(np.array([[1.0, 1.0]]), np.array([2.0])).round(12).tolist()
        [1.0, 1.0]
    """
    Phi = _matrix("Phi", Phi)
    Y = _check_targets(Y, Phi.shape[0])
    alpha = check_non_negative("alpha", alpha)
    return _coefficients(*_svd(Phi), Y, alpha)


# --- the experiment ----------------------------------------------------------------------------

class _DoubleDescentCurveFields(NamedTuple):
    widths: np.ndarray
    alphas: np.ndarray
    train_mse: np.ndarray
    test_mse: np.ndarray
    test_accuracy: np.ndarray
    n_train: int


def _record_widths(widths: Any) -> np.ndarray:
    """``widths`` as a non-empty 1-D int64 array of numbers of features in ``[1, MAX_FEATURE_ENTRIES]``."""
    if isinstance(widths, np.ndarray) and widths.dtype.kind in "iu":
        if widths.ndim != 1 or widths.size == 0:
            raise ValueError(f"widths must be a non-empty 1-D array of ints, got shape {widths.shape}")
        entries = tuple(int(w) for w in widths)
    else:
        entries = _sequence("widths", widths, "ints")
        entries = tuple(check_int(f"widths[{i}]", width) for i, width in enumerate(entries))
    for i, width in enumerate(entries):
        if not 1 <= width <= MAX_FEATURE_ENTRIES:
            raise ValueError(f"widths must all be in [1, MAX_FEATURE_ENTRIES = {MAX_FEATURE_ENTRIES:,}], got widths[{i}] = {width}")
    return np.array(entries, dtype=np.int64)


class DoubleDescentCurve(ValidatedTuple, _DoubleDescentCurveFields):
    """Result of :func:`double_descent_curve`: errors for every (alpha, width) pair.

    A named tuple ``(widths, alphas, train_mse, test_mse, test_accuracy, n_train)``:

    * ``widths``: ``(W,)`` int64 numbers of random features;
    * ``alphas``: ``(A,)`` float64 ridge strengths;
    * ``train_mse``, ``test_mse``: ``(A, W)`` mean over examples of the squared
      error :math:`\\|\\hat y - e_y\\|^2` against the one-hot label (summed over
      the classes, so predicting all zeros scores 1);
    * ``test_accuracy``: ``(A, W)`` share of test examples whose largest output
      is the true class;
    * ``n_train``: training examples used.

    Row ``i`` belongs to ``alphas[i]``, column ``j`` to ``widths[j]``. The
    constructor checks types, shapes, finiteness, ``mse >= 0`` and accuracies
    in ``[0, 1]`` (``TypeError``/``ValueError`` naming the field).
    """

    __slots__ = ()

    def __new__(
        cls,
        widths: np.ndarray,
        alphas: np.ndarray,
        train_mse: np.ndarray,
        test_mse: np.ndarray,
        test_accuracy: np.ndarray,
        n_train: int,
    ) -> DoubleDescentCurve:
        widths = _record_widths(widths)
        alphas = check_finite("alphas", record_array("alphas", alphas, (None,)))
        if alphas.size == 0 or alphas.min() < 0:
            raise ValueError(f"alphas must be a non-empty array of numbers >= 0, got {alphas!r}")
        shape = (alphas.size, widths.size)
        checked = {}
        for name, value in (("train_mse", train_mse), ("test_mse", test_mse), ("test_accuracy", test_accuracy)):
            array = check_finite(name, record_array(name, value, (None, None)))
            if array.shape != shape:
                raise ValueError(
                    f"{name} must have shape (len(alphas), len(widths)) = {shape}, got shape {array.shape}"
                )
            upper = 1.0 if name == "test_accuracy" else math.inf
            if array.min() < 0 or array.max() > upper:
                raise ValueError(f"{name} must lie in [0, {upper:g}], got values from {array.min():g} to {array.max():g}")
            checked[name] = array
        n_train = check_int("n_train", n_train, minimum=1)
        return super().__new__(cls, widths, alphas, checked["train_mse"], checked["test_mse"], checked["test_accuracy"], n_train)


def _check_data(data: Any) -> DataSplits:
    if not isinstance(data, DataSplits):
        raise TypeError(f"data must be a course_lib.data.DataSplits, got {describe_value(data)}")
    if not data.is_classification:
        raise ValueError(f"data must be a classification data set (class_names set), got {data!r}")
    return data


def _one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


def double_descent_curve(
    data: DataSplits,
    widths: Sequence[int],
    alphas: Sequence[float] = (0.0,),
    n_train: int = 300,
    seed: int = 0,
    subset_seed: int = 0,
) -> DoubleDescentCurve:
    r"""Test error of random-features regression against the number of features: the double-descent curve.

    For every width :math:`N` in ``widths``: draw :func:`random_relu_features`
    with ``seed`` (nested across widths), regress the one-hot labels of a
    stratified subset of ``n_train`` training examples on them with
    :func:`min_norm_least_squares` for every ``alpha`` (one SVD per width
    serves all of them), and measure on the **test** split

    .. math::
        \mathrm{MSE} = \frac1m\sum_{i=1}^m \big\|\hat B^\top\phi(x_i) - e_{y_i}\big\|_2^2,
        \qquad \mathrm{accuracy} = \frac1m \sum_{i=1}^m
        \big[\arg\max_k (\hat B^\top\phi(x_i))_k = y_i\big].

    At ``alpha = 0`` the test MSE peaks near :math:`N = n_{\text{train}}` (the
    interpolation threshold; a few dead features, see
    :func:`random_relu_features`, put exact interpolation a few features past
    it) and falls again beyond it; ``alpha > 0`` lowers the peak (Belkin et
    al., 2019; Nakkiran et al., 2020). The cost is one SVD of an
    ``n_train`` by :math:`N` matrix per width.

    Args:
        data: a classification :class:`~course_lib.data.DataSplits` (e.g.
            :func:`~course_lib.data.load_mnist1d_splits`); its validation split
            is not used.
        widths: numbers of random features, ints ``>= 1`` (any order).
        alphas: ridge strengths ``>= 0``; ``0`` is the minimum-norm solution.
        n_train: training examples, drawn by
            :meth:`~course_lib.data.DataSplits.subset_train` (stratified, nested
            in ``n_train``), ``1 <= n_train <= len(data.X_train)``.
        seed: seed of the random features.
        subset_seed: seed of the training subset.

    Returns:
        :class:`DoubleDescentCurve` with arrays of shape ``(len(alphas), len(widths))``.
    """
    data = _check_data(data)
    width_tuple = tuple(int(w) for w in _record_widths(widths))
    alpha_values = tuple(check_non_negative(f"alphas[{i}]", a) for i, a in enumerate(_sequence("alphas", alphas, "numbers")))
    n_train = check_int("n_train", n_train, minimum=1)
    if n_train > len(data.X_train):
        raise ValueError(f"n_train must be at most the training-set size {len(data.X_train)}, got {n_train}")
    seed = check_int("seed", seed, minimum=0)
    subset_seed = check_int("subset_seed", subset_seed, minimum=0)
    largest_rows = max(n_train, len(data.X_test))
    for width in width_tuple:
        _check_n_features(width, largest_rows, name="widths")
    subset = data.subset_train(n_train, seed=subset_seed)
    X_train, X_test = (x.detach().cpu().numpy().astype(np.float64) for x in (subset.X_train, data.X_test))
    labels_train, labels_test = (y.detach().cpu().numpy() for y in (subset.y_train, data.y_test))
    Y_train, Y_test = _one_hot(labels_train, data.n_classes), _one_hot(labels_test, data.n_classes)
    shape = (len(alpha_values), len(width_tuple))
    train_mse, test_mse, test_accuracy = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for j, width in enumerate(width_tuple):
        Phi_train = random_relu_features(X_train, width, seed)
        Phi_test = random_relu_features(X_test, width, seed)
        U, s, Vt = _svd(Phi_train)
        for i, alpha in enumerate(alpha_values):
            coef = _coefficients(U, s, Vt, Y_train, alpha)
            with overflow_is_an_error("data and alphas"):
                train_pred, test_pred = Phi_train @ coef, Phi_test @ coef
                train_mse[i, j] = np.mean(np.sum((train_pred - Y_train) ** 2, axis=1))
                test_mse[i, j] = np.mean(np.sum((test_pred - Y_test) ** 2, axis=1))
            test_accuracy[i, j] = np.mean(np.argmax(test_pred, axis=1) == labels_test)
    return DoubleDescentCurve(np.array(width_tuple), np.array(alpha_values), train_mse, test_mse, test_accuracy, n_train)
