"""Data for the book's experiments: stratified splits, small real data sets, synthetic generators.

Everything here is deterministic given a seed and needs no network: the real
data sets are the ones bundled inside scikit-learn (handwritten ``digits`` and
the Wisconsin ``breast_cancer`` set), the rest is generated.

* :class:`DataSplits` holds train / validation / test tensors ready for
  :func:`course_lib.train.fit`; :meth:`DataSplits.subset_train` shrinks the
  training set (the "what if we had less data" experiments).
* :func:`stratified_split_indices` and :func:`train_val_split` split a data set
  so that every class keeps its share in every part.
* :func:`load_digits_splits`, :func:`load_breast_cancer_splits` wrap the real
  data sets, standardised with training-set statistics only.
* :func:`make_gap_regression`, :func:`make_two_moons`, :func:`make_spirals` and
  :func:`make_sparse_linear_regression` generate the synthetic problems of the
  later chapters.
* :func:`iterate_minibatches` yields reproducibly shuffled mini-batches.

Why the standardisation statistics come from the training split only: the
validation and test sets stand in for data the model has never seen; letting
their mean and spread leak into the pre-processing makes the held-out scores
optimistic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from numbers import Integral
from typing import Any

import numpy as np
import torch

from course_lib._validation import (
    check_generator,
    check_bool,
    check_int,
    check_ndarray,
    check_non_negative,
    check_real,
    describe_value,
    real_array,
    real_tensor,
    record_array,
    set_record_fields,
)

__all__ = [
    "DataSplits",
    "LinearRegressionProblem",
    "stratified_split_indices",
    "stratified_subsample_indices",
    "train_val_split",
    "load_digits_splits",
    "load_breast_cancer_splits",
    "GAP_REGRESSION_INTERVALS",
    "MAX_VALUES",
    "MAX_NOISE_STD",
    "gap_regression_function",
    "make_gap_regression",
    "make_two_moons",
    "make_spirals",
    "make_sparse_linear_regression",
    "iterate_minibatches",
]

DEFAULT_FRACTIONS = (0.6, 0.2, 0.2)
_FRACTION_SUM_TOLERANCE = 1e-9
_SPLIT_NAMES = ("train", "val", "test")
#: Most values one generated array may hold (80 MB of float64): a larger size is a ValueError, not an allocation.
MAX_VALUES = 10**7
#: Largest ``noise_std`` of the generators: Gaussian noise beyond it would overflow float32 features.
MAX_NOISE_STD = 1e30


# ---------------------------------------------------------------------------
# The container
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DataSplits:
    """A data set cut into training, validation and test tensors.

    Features are ``float32`` tensors of shape ``(examples, features)``. Targets
    are ``int64`` class labels of shape ``(examples,)`` for classification
    (``class_names`` given) and ``float32`` values of shape ``(examples,)`` or
    ``(examples, outputs)`` for regression (``class_names=None``).

    Attributes:
        name: a short identifier, e.g. ``"digits"``.
        X_train, y_train, X_val, y_val, X_test, y_test: the three splits.
        feature_names: one name per feature column: a sequence (tuple, list,
            array) of names, each a ``str`` or an int (converted with ``str``).
            A single ``str``, ``None``, or an entry of another type (``None``,
            a float) is a ``TypeError`` (``"ab"`` is not the names ``a``, ``b``).
        class_names: one name per class (label ``k`` is ``class_names[k]``),
            or ``None`` for regression; a single ``str`` is a ``TypeError``.

    The constructor checks shapes, dtypes and that features (and regression
    targets) are finite, so a ``DataSplits`` is always ready for
    :func:`course_lib.train.fit`.

    Example:
        >>> data = load_digits_splits()
        >>> data
        DataSplits('digits', train=1078, val=360, test=359, features=64, classes=10)
        >>> small = data.subset_train(100, seed=0)
        >>> small.sizes
        (100, 360, 359)
    """

    name: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {type(self.name).__name__}")
        object.__setattr__(self, "feature_names", _check_names("feature_names", self.feature_names))
        if self.class_names is not None:
            object.__setattr__(self, "class_names", _check_names("class_names", self.class_names))
            if len(self.class_names) < 2:
                raise ValueError(f"class_names must name at least two classes, got {self.class_names!r}")
        for split in _SPLIT_NAMES:
            self._check_split(split)

    def _check_split(self, split: str) -> None:
        X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
        for label, tensor in ((f"X_{split}", X), (f"y_{split}", y)):
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(f"{label} must be a torch.Tensor, got {type(tensor).__name__}")
        if X.dtype != torch.float32 or X.ndim != 2:
            raise ValueError(f"X_{split} must be a 2-D float32 tensor, got {X.dtype} of shape {tuple(X.shape)}")
        if X.shape[1] != len(self.feature_names):
            raise ValueError(
                f"X_{split} has {X.shape[1]} columns but feature_names names {len(self.feature_names)}"
            )
        if len(X) == 0 or y.shape[:1] != X.shape[:1]:
            raise ValueError(
                f"X_{split} and y_{split} must hold the same non-zero number of rows, "
                f"got shapes {tuple(X.shape)} and {tuple(y.shape)}"
            )
        _check_finite_tensor(f"X_{split}", X)
        if self.class_names is not None:
            if y.dtype != torch.int64 or y.ndim != 1:
                raise ValueError(
                    f"y_{split} must be a 1-D int64 tensor of class labels, got {y.dtype} of shape {tuple(y.shape)}"
                )
            if y.min() < 0 or y.max() >= len(self.class_names):
                raise ValueError(f"y_{split} holds labels outside [0, {len(self.class_names)})")
        elif y.dtype != torch.float32 or y.ndim not in (1, 2):
            raise ValueError(
                f"y_{split} must be a 1-D or 2-D float32 tensor for regression (class_names=None), "
                f"got {y.dtype} of shape {tuple(y.shape)}"
            )
        else:
            _check_finite_tensor(f"y_{split}", y)

    @property
    def n_features(self) -> int:
        """Number of input features (columns of ``X_*``)."""
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int | None:
        """Number of classes, or ``None`` for a regression data set."""
        return None if self.class_names is None else len(self.class_names)

    @property
    def is_classification(self) -> bool:
        """True when the targets are class labels."""
        return self.class_names is not None

    @property
    def sizes(self) -> tuple[int, int, int]:
        """``(train, validation, test)`` numbers of examples."""
        return len(self.X_train), len(self.X_val), len(self.X_test)

    def subset_train(self, n: int, seed: int = 0) -> DataSplits:
        """The same splits with the training set cut down to ``n`` examples.

        The validation and test sets are unchanged, so models trained on
        different subsets are compared on the same held-out data. For
        classification the subsample is stratified (see
        :func:`stratified_subsample_indices`: each class keeps its share
        within one example); for regression it is a uniform random subset.
        For a fixed ``seed`` the subsets are **nested**: the subset of size
        ``n`` contains the one of every smaller size, so a curve over ``n``
        only ever adds examples. Rows keep their original order.

        Args:
            n: training examples to keep, ``1 <= n <= len(X_train)``.
            seed: seed of the draw.
        """
        n = check_int("n", n, minimum=1)
        if n > len(self.X_train):
            raise ValueError(f"n must be at most the training-set size {len(self.X_train)}, got {n}")
        labels = self.y_train.cpu().numpy() if self.is_classification else np.zeros(len(self.y_train), dtype=np.int64)
        keep = torch.from_numpy(stratified_subsample_indices(labels, n, seed=seed))
        return replace(self, X_train=self.X_train[keep], y_train=self.y_train[keep])

    def __repr__(self) -> str:
        train, val, test = self.sizes
        kind = f"classes={self.n_classes}" if self.is_classification else "regression"
        return f"DataSplits({self.name!r}, train={train}, val={val}, test={test}, features={self.n_features}, {kind})"


# ---------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------


def _check_names(name: str, names: Any) -> tuple[str, ...]:
    """``names`` as a tuple of str; a str/bytes (one name, not a sequence of names) or a non-iterable is a TypeError.

    Each entry must be a ``str`` or an int (class labels ``0, 1, ...``); ``None``, a float or a bool is a TypeError.
    """
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise TypeError(f"{name} must be a sequence of names (e.g. a tuple of str), got {type(names).__name__} {names!r}")
    names = tuple(names)
    for i, entry in enumerate(names):
        if not isinstance(entry, (str, Integral)) or isinstance(entry, (bool, np.bool_)):
            raise TypeError(f"{name}[{i}] must be a str (or an int), got {describe_value(entry)}")
    return tuple(str(n) for n in names)


def _check_finite_tensor(name: str, tensor: torch.Tensor) -> None:
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor.detach()).all()):
        first = int(torch.nonzero(~torch.isfinite(tensor.detach().reshape(-1)))[0])
        raise ValueError(f"{name} must be finite, got {tensor.reshape(-1)[first].item()!r} at flat index {first}")


def _check_finite_array(name: str, array: np.ndarray) -> None:
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        first = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name} must be finite, got {array.reshape(-1)[first].item()!r} at flat index {first}")


def _check_size(name: str, value: Any, minimum: int = 1) -> int:
    """An int count in ``[minimum, MAX_VALUES]``: a huge size is rejected before anything is allocated."""
    value = check_int(name, value, minimum=minimum)
    if value > MAX_VALUES:
        raise ValueError(f"{name} must be at most {MAX_VALUES:,} (data sets here fit in memory), got {value!r}")
    return value


def _check_noise_std(noise_std: Any) -> float:
    noise_std = check_non_negative("noise_std", noise_std)
    if noise_std > MAX_NOISE_STD:
        raise ValueError(f"noise_std must be at most {MAX_NOISE_STD:g} (float32 features), got {noise_std!r}")
    return noise_std


def _check_seed(seed: Any) -> int:
    return check_int("seed", seed, minimum=0)


def _check_fractions(fractions: Any) -> np.ndarray:
    if isinstance(fractions, np.ndarray):
        fractions = fractions.tolist()
    if not isinstance(fractions, Sequence) or isinstance(fractions, str):
        raise TypeError(f"fractions must be a sequence of numbers, got {type(fractions).__name__}")
    if len(fractions) < 2:
        raise ValueError(f"fractions must give at least two splits, got {tuple(fractions)!r}")
    for i, f in enumerate(fractions):
        f = check_real(f"fractions[{i}]", f)  # also turns 10**400 into a ValueError, not an OverflowError
        if not (math.isfinite(f) and f > 0):
            raise ValueError(f"fractions must all be positive, got fractions[{i}] = {f!r}")
    total = math.fsum(fractions)
    if abs(total - 1.0) > _FRACTION_SUM_TOLERANCE:
        raise ValueError(f"fractions must sum to 1, got {tuple(fractions)!r} (sum {total!r})")
    return np.asarray(fractions, dtype=np.float64)


def _check_three_fractions(fractions: Any) -> np.ndarray:
    checked = _check_fractions(fractions)
    if len(checked) != 3:
        raise ValueError(f"fractions must give three splits (train, val, test), got {tuple(checked.tolist())!r}")
    return checked


def _check_labels(y: Any, name: str = "y") -> np.ndarray:
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of labels, got {type(y).__name__}")
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per example), got shape {y.shape}")
    if len(y) == 0:
        raise ValueError(f"{name} must hold at least one label, got an empty array")
    if y.dtype.kind == "c":
        raise TypeError(f"{name} must hold class labels (ints, floats, bools or strings), got dtype {y.dtype}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        first = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(
            f"{name} must not contain NaN or infinity (a missing label is not a class), "
            f"got {y[first].item()!r} at index {first}"
        )
    return y


def _allocate(counts: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Integer ``(classes, splits)`` allocation with row sums ``counts`` and entries within one of the quotas.

    Every entry is ``floor(quota)`` or ``floor(quota) + 1``. Classes are
    processed in label order; a class's spare examples (the sum of its
    fractional quotas) go to the splits whose running total lags furthest
    behind its target, which keeps each split's size close to
    ``fraction * len(y)``.
    """
    quotas = counts[:, None] * fractions[None, :]
    base = np.floor(quotas + 1e-9).astype(np.int64)
    allocation = base.copy()
    lag = np.zeros(len(fractions))  # running sum of quota - allocation per split
    for c in range(len(counts)):
        spare = int(counts[c] - base[c].sum())
        lag += quotas[c] - base[c]
        # largest lag first, ties to the earlier split (np.lexsort sorts by its last key first)
        order = np.lexsort((np.arange(len(fractions)), -lag))
        chosen = order[:spare]
        allocation[c, chosen] += 1
        lag[chosen] -= 1.0
    return allocation


def stratified_split_indices(
    y: np.ndarray,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> tuple[np.ndarray, ...]:
    r"""Split example indices into parts that each keep every class's share.

    For a class with :math:`n_c` members and split fraction :math:`f_s`, split
    :math:`s` receives :math:`k_{c,s}` members with

    .. math::
        \lvert k_{c,s} - f_s\, n_c \rvert \le 1, \qquad \sum_s k_{c,s} = n_c .

    Within that rule a class's spare examples go to the splits whose totals
    lag furthest behind :math:`f_s n`, so the split sizes stay close to
    :math:`f_s n` too (within one example in all our tests, though that is not
    guaranteed). Which members of a class go where is a random
    permutation drawn from ``np.random.default_rng(seed)``.

    Args:
        y: ``(n,)`` class labels (any sortable dtype); use zeros for an
            unstratified split of regression data.
        fractions: share of each split, all > 0, summing to 1 (within 1e-9);
            default ``(0.6, 0.2, 0.2)`` for train / validation / test.
        seed: non-negative int; the same ``y``, ``fractions`` and ``seed``
            always give the same split.

    Returns:
        One array of indices per split, each **sorted ascending**; together
        they are disjoint and cover ``range(len(y))``.

    Raises:
        ValueError: ``y`` not 1-D or empty, a class with fewer members than
            there are splits, bad ``fractions``, or a split left empty.
    """
    y = _check_labels(y)
    fractions = _check_fractions(fractions)
    seed = _check_seed(seed)
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    if counts.min() < len(fractions):
        small = classes[np.argmin(counts)].item()  # a Python scalar prints without its NumPy type
        raise ValueError(
            f"y has class {small!r} with {counts.min()} member(s), fewer than the {len(fractions)} splits"
        )
    allocation = _allocate(counts, fractions)
    totals = allocation.sum(axis=0)
    if totals.min() == 0:
        s = int(np.argmin(totals))
        raise ValueError(
            f"fractions[{s}] = {float(fractions[s])!r} leaves split {s} with no examples out of {len(y)}"
        )
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == c))
        for s, chunk in enumerate(np.split(members, np.cumsum(allocation[c])[:-1])):
            parts[s].append(chunk)
    return tuple(np.sort(np.concatenate(chunks)) for chunks in parts)


def stratified_subsample_indices(y: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    r"""Indices of a stratified subsample of size ``n``, nested across ``n`` for a fixed seed.

    The classes are interleaved in the order that keeps every prefix
    proportional: at step :math:`m`, among the classes still below their share
    (:math:`k_c < m\,n_c/N`), the one whose share would fall behind first
    (smallest :math:`(k_c + 1)/n_c`) is taken next. Every prefix then satisfies
    :math:`\lvert k_c - n\,n_c/N \rvert < 1` for every class, and growing
    ``n`` only adds examples. Members within a class follow a random
    permutation from ``np.random.default_rng(seed)``.

    Args:
        y: ``(N,)`` class labels.
        n: subsample size, ``1 <= n <= N``.
        seed: non-negative int.

    Returns:
        ``(n,)`` indices into ``y``, sorted ascending.
    """
    y = _check_labels(y)
    n = check_int("n", n, minimum=1)
    seed = _check_seed(seed)
    if n > len(y):
        raise ValueError(f"n must be at most len(y) = {len(y)}, got {n}")
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    taken = np.zeros(len(classes), dtype=np.int64)
    total = len(y)
    for m in range(1, n + 1):
        below_share = taken * total < m * counts  # exact integer comparison
        deadline = np.where(below_share, (taken + 1) / counts, np.inf)
        taken[int(np.argmin(deadline))] += 1
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(inverse == c))[: taken[c]] for c in range(len(classes))]
    return np.sort(np.concatenate(chosen))


def train_val_split(
    X: np.ndarray,
    y: np.ndarray,
    val_fraction: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified two-way split of NumPy arrays into training and validation parts.

    For each class with :math:`n_c` members, ``round(val_fraction * n_c)``
    of them go to validation, where ``round`` is Python's built-in (halves
    round to the even integer: 2.5 -> 2, 3.5 -> 4); the rest go to training.
    The members moved are a random choice, and the rows of each returned part
    are shuffled, all from ``rng``. Pairs ``(X[i], y[i])`` stay together.

    Args:
        X: ``(n, ...)`` finite features (an integer or floating ndarray, kept in its dtype).
        y: ``(n,)`` class labels.
        val_fraction: share of each class for validation, in (0, 1).
        rng: the ``numpy.random.Generator`` that draws the split.

    Returns:
        ``(X_train, y_train, X_val, y_val)``: new arrays (the inputs are not
        modified and no output shares memory with them).

    Example:
        >>> X, y = np.arange(20.0).reshape(10, 2), np.array([0] * 6 + [1] * 4)
        >>> X_tr, y_tr, X_va, y_va = train_val_split(X, y, 0.5, np.random.default_rng(0))
        >>> np.bincount(y_va).tolist(), np.bincount(y_tr).tolist()
        ([3, 2], [3, 2])
    """
    X = check_ndarray("X", X)
    y = _check_labels(y)
    rng = check_generator("rng", rng)
    val_fraction = check_real("val_fraction", val_fraction)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    if X.ndim == 0 or len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got X of shape {X.shape} and y of length {len(y)}")
    _check_finite_array("X", X)
    train_parts, val_parts = [], []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        n_val = round(val_fraction * len(members))
        val_parts.append(members[:n_val])
        train_parts.append(members[n_val:])
    train_idx = rng.permutation(np.concatenate(train_parts))
    val_idx = rng.permutation(np.concatenate(val_parts))
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise ValueError(
            f"val_fraction = {val_fraction!r} leaves the {'training' if len(train_idx) == 0 else 'validation'} "
            f"set empty for {len(y)} examples"
        )
    return X[train_idx], y[train_idx], X[val_idx], y[val_idx]


# ---------------------------------------------------------------------------
# Real data sets bundled with scikit-learn
# ---------------------------------------------------------------------------


def _standardize(parts: list[np.ndarray]) -> list[np.ndarray]:
    """Scale every part with the mean and standard deviation of the first (training) part."""
    mean = parts[0].mean(axis=0)
    std = parts[0].std(axis=0)
    std = np.where(std > 0, std, 1.0)  # constant columns (e.g. blank pixels) are only centred
    return [(part - mean) / std for part in parts]


def _splits_from_arrays(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    fractions: Sequence[float],
    standardize: bool,
    feature_names: Sequence[str],
    class_names: Sequence[str] | None,
) -> DataSplits:
    standardize = check_bool("standardize", standardize)
    indices = stratified_split_indices(y, _check_three_fractions(fractions), seed)
    X_parts = [X[i].astype(np.float64) for i in indices]
    if standardize:
        X_parts = _standardize(X_parts)
    target_dtype = torch.int64 if class_names is not None else torch.float32
    tensors: dict[str, torch.Tensor] = {}
    for split, part, idx in zip(_SPLIT_NAMES, X_parts, indices):
        tensors[f"X_{split}"] = torch.as_tensor(part, dtype=torch.float32)
        tensors[f"y_{split}"] = torch.as_tensor(y[idx], dtype=target_dtype)
    return DataSplits(name=name, feature_names=feature_names, class_names=class_names, **tensors)


def load_digits_splits(
    seed: int = 0,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    standardize: bool = True,
) -> DataSplits:
    """scikit-learn's handwritten digits (1,797 images of 8x8 pixels, 10 classes) as stratified splits.

    Args:
        seed: seed of the split (:func:`stratified_split_indices`).
        fractions: train / validation / test shares.
        standardize: centre each pixel and divide by its standard deviation,
            with statistics computed on the **training split only** and then
            applied unchanged to validation and test; pixels that are constant
            in the training split (always blank) are only centred. With
            ``False`` the raw intensities 0..16 are returned.

    Returns:
        A :class:`DataSplits` named ``"digits"``; features ``pixel_r_c``,
        classes ``"0"`` … ``"9"``.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _splits_from_arrays(
        "digits", bunch.data, bunch.target, seed=_check_seed(seed), fractions=fractions, standardize=standardize,
        feature_names=bunch.feature_names, class_names=[str(c) for c in bunch.target_names],
    )


def load_breast_cancer_splits(
    seed: int = 0,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    standardize: bool = True,
) -> DataSplits:
    """scikit-learn's Wisconsin breast-cancer set (569 tumours, 30 features) as stratified splits.

    The book's small "medical" data set: label 0 is ``"malignant"`` (212
    cases), 1 is ``"benign"`` (357). Arguments as in
    :func:`load_digits_splits`; standardisation uses training statistics only.
    """
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return _splits_from_arrays(
        "breast_cancer", bunch.data, bunch.target, seed=_check_seed(seed), fractions=fractions,
        standardize=standardize, feature_names=bunch.feature_names, class_names=list(bunch.target_names),
    )


# ---------------------------------------------------------------------------
# Synthetic problems
# ---------------------------------------------------------------------------

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
        _check_finite_tensor("x", x)
        big = x.detach().abs() > torch.finfo(x.dtype).max / 2
        sine = torch.sin(2.0 * torch.where(big, torch.zeros_like(x), x))
        if bool(big.any()):
            sine = torch.where(big, 2.0 * torch.sin(x) * torch.cos(x), sine)
        return sine + 0.3 * x
    x = real_array("x", x)
    _check_finite_array("x", x)
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

    ``y = X @ true_weights + noise``, with i.i.d. standard-normal features and
    noise :math:`\mathcal N(0, \sigma^2)`.

    Attributes:
        X_train: ``(n, d)`` training features. y_train: ``(n,)`` targets.
        X_test: ``(n_test, d)``; y_test: ``(n_test,)``, from the same model.
        true_weights: ``(d,)`` weights that generated the data.
        noise_std: :math:`\sigma`; :math:`\sigma^2` is the smallest expected
            test mean squared error any predictor can reach.

    The constructor checks the fields: finite real arrays of matching shapes
    (``(n, d)``, ``(n,)``, ``(n_test, d)``, ``(n_test,)``, ``(d,)``) and
    ``noise_std >= 0``; a wrong field is a ``TypeError``/``ValueError`` naming it
    (and, for a shape that does not match, the field it is measured against).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    true_weights: np.ndarray
    noise_std: float

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
        }
        for name, value in checked.items():
            if name != "noise_std":
                _check_finite_array(name, value)
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
            f"n_informative={len(self.support)}, n_test={len(self.y_test)}, noise_std={self.noise_std})"
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
    for rows, count in (("n_samples", n_samples), ("n_test", n_test)):
        if count * n_features > MAX_VALUES:
            raise ValueError(
                f"{rows} * n_features must be at most {MAX_VALUES:,} values, got {count} * {n_features}"
            )
    rng = np.random.default_rng(_check_seed(seed))
    weights = np.zeros(n_features)
    support = rng.choice(n_features, size=n_informative, replace=False)
    weights[support] = rng.standard_normal(n_informative)

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.standard_normal((n, n_features))
        return X, X @ weights + noise_std * rng.standard_normal(n)

    X_train, y_train = sample(n_samples)
    X_test, y_test = sample(n_test)
    return LinearRegressionProblem(X_train, y_train, X_test, y_test, weights, noise_std)


# ---------------------------------------------------------------------------
# Mini-batches
# ---------------------------------------------------------------------------


def iterate_minibatches(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int | None = None,
    *,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(X_batch, y_batch)`` pairs covering the data once (one epoch).

    With ``shuffle`` the rows are visited in the order of
    ``torch.randperm(n, generator=generator)``, so a seeded CPU
    ``torch.Generator`` makes the batches reproducible; the last batch may be
    smaller. ``batch_size=None`` (or >= ``n``) yields the whole data set
    once, unshuffled (the order does not change a full-batch gradient).
    Much lighter than a ``DataLoader`` over a ``TensorDataset``, which
    indexes and collates one row at a time.

    Args:
        X, y: tensors with the same first dimension, on any device; floating
            entries must be finite (a NaN would silently poison the loss).
        batch_size: rows per batch (>= 1) or ``None`` for full batch.
        shuffle: visit the rows in random order.
        generator: CPU generator for the permutation (default: torch's global one).
    """
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"X and y must be torch.Tensors, got {type(X).__name__} and {type(y).__name__}")
    if X.ndim == 0 or y.shape[:1] != X.shape[:1]:
        raise ValueError(f"X and y must have the same number of rows, got shapes {tuple(X.shape)} and {tuple(y.shape)}")
    _check_finite_tensor("X", X)
    _check_finite_tensor("y", y)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    shuffle = check_bool("shuffle", shuffle)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return _minibatches(X, y, batch_size, shuffle, generator)


def _minibatches(
    X: torch.Tensor, y: torch.Tensor, batch_size: int | None, shuffle: bool, generator: torch.Generator | None
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    n = len(X)
    if batch_size is None or batch_size >= n:
        yield X, y
        return
    if shuffle:
        order = torch.randperm(n, generator=generator).to(X.device)
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            yield X[rows], y[rows]
    else:
        for start in range(0, n, batch_size):
            yield X[start : start + batch_size], y[start : start + batch_size]
