"""Data for the book's experiments: the split container, stratified splits, the real data sets.

Everything here is deterministic given a seed and needs no network: the real
data sets are MNIST-1D (generated procedurally by the ``mnist1d`` package) and
the ones bundled inside scikit-learn (handwritten ``digits`` and the Wisconsin
``breast_cancer`` set); the synthetic problems live in
:mod:`course_lib.synthetic`.

* :class:`DataSplits` holds train / validation / test tensors ready for
  :func:`course_lib.train.fit`; :meth:`DataSplits.subset_train` shrinks the
  training set (the "what if we had less data" experiments).
* :func:`stratified_split_indices` and :func:`train_val_split` split a data set
  so that every class keeps its share in every part.
* :func:`load_mnist1d_splits` (the book's benchmark, MNIST-1D, generated locally),
  :func:`load_digits_splits` and :func:`load_breast_cancer_splits` wrap the real
  data sets, standardised with training-set statistics only.
* :func:`load_mnist1d_shifted` draws fresh MNIST-1D signals with more noise or
  more translation than the training data saw (a distribution shift), scaled
  exactly as the splits of :func:`load_mnist1d_splits` they are compared with.
* :func:`iterate_minibatches` yields reproducibly shuffled mini-batches.

Why the standardisation statistics come from the training split only: the
validation and test sets stand in for data the model has never seen; letting
their mean and spread leak into the pre-processing makes the held-out scores
optimistic.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from numbers import Integral
from typing import Any

import numpy as np
import torch

from course_lib._validation import (
    check_finite,
    check_generator,
    check_bool,
    check_int,
    check_ndarray,
    check_real,
    describe_value,
)

__all__ = [
    "DataSplits",
    "stratified_split_indices",
    "stratified_subsample_indices",
    "train_val_split",
    "load_digits_splits",
    "load_breast_cancer_splits",
    "load_mnist1d_splits",
    "load_mnist1d_shifted",
    "MNIST1D_SHIFT_KINDS",
    "MNIST1D_MAX_SHIFTED",
    "MNIST1D_TRAIN_SIZE",
    "MNIST1D_TEST_SIZE",
    "MNIST1D_LENGTH",
    "MNIST1D_CLASSES",
    "MAX_VALUES",
    "iterate_minibatches",
]

DEFAULT_FRACTIONS = (0.6, 0.2, 0.2)
_FRACTION_SUM_TOLERANCE = 1e-9
_SPLIT_NAMES = ("train", "val", "test")
#: Most values one generated array may hold (80 MB of float64): a larger size is a ValueError, not an allocation.
MAX_VALUES = 10**7


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
        check_finite(f"X_{split}", X)
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
            check_finite(f"y_{split}", y)

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


def _check_size(name: str, value: Any, minimum: int = 1) -> int:
    """An int count in ``[minimum, MAX_VALUES]``: a huge size is rejected before anything is allocated."""
    value = check_int(name, value, minimum=minimum)
    if value > MAX_VALUES:
        raise ValueError(f"{name} must be at most {MAX_VALUES:,} (data sets here fit in memory), got {value!r}")
    return value


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
    check_finite("X", X)
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


def _standardization_statistics(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and standard deviation of the training part; constant columns get a spread of 1."""
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # constant columns (e.g. blank pixels) are only centred
    return mean, std


def _standardize(parts: list[np.ndarray]) -> list[np.ndarray]:
    """Scale every part with the mean and standard deviation of the first (training) part."""
    mean, std = _standardization_statistics(parts[0])
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


#: The official MNIST-1D partition: training and test signals, signal length, classes.
MNIST1D_TRAIN_SIZE, MNIST1D_TEST_SIZE, MNIST1D_LENGTH, MNIST1D_CLASSES = 4000, 1000, 40, 10
_mnist1d_cache: dict[str, np.ndarray] = {}


def _mnist1d_generate(**changes: Any) -> tuple[np.ndarray, np.ndarray]:
    """Raw MNIST-1D signals and labels: ``mnist1d.data.make_dataset`` without its final rescaling.

    ``changes`` replace fields of ``mnist1d.data.get_dataset_args()`` (``num_samples``, ``seed``,
    ``corr_noise_scale``, ``max_translation``, …). The loop is ``make_dataset``'s, step for step:
    seed Python's and NumPy's global generators with ``args.seed``, transform each of the ten
    templates ``num_samples // 10`` times with ``mnist1d.transform.transform``, shuffle the rows
    with ``np.random.permutation``. What is left out is the last step, which centres and scales
    the whole generated set by its *own* mean and spread; :func:`_mnist1d_arrays` applies it to
    the official set (the result equals ``make_dataset``'s arrays bit for bit, a tested fact),
    and :func:`load_mnist1d_shifted` applies the *official* map to a shifted set. The caller's
    random states are saved and given back.
    """
    import random

    from mnist1d.data import get_dataset_args, get_templates
    from mnist1d.transform import transform
    from mnist1d.utils import set_seed

    args = get_dataset_args()
    for field, value in changes.items():
        if not hasattr(args, field):
            raise ValueError(f"mnist1d's dataset arguments have no field {field!r}")
        setattr(args, field, value)
    templates = get_templates()
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        set_seed(args.seed)
        signals, labels = [], []
        per_class = args.num_samples // len(templates["y"])
        for label_index in range(len(templates["y"])):
            for _ in range(per_class):
                signal, _ = transform(templates["x"][label_index], templates["t"], args)
                signals.append(signal)
                labels.append(templates["y"][label_index])
        order = np.random.permutation(len(labels))
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    return np.stack(signals)[order], np.stack(labels)[order]


def _mnist1d_arrays() -> dict[str, np.ndarray]:
    """The official MNIST-1D arrays (read-only), generated once per process; global random state untouched.

    Keys ``x``, ``y``, ``x_test``, ``y_test``: the arrays ``mnist1d.data.make_dataset(get_dataset_args())``
    returns (5,000 signals, seed 42, the first 80% for training), identical to the last bit. Keys
    ``raw_mean`` and ``raw_std`` (0-d): the package's global rescaling :math:`x = (r - m) / s`,
    with :math:`m, s` the mean and standard deviation of all 5,000 raw signals :math:`r`.
    ``make_dataset`` seeds Python's and NumPy's global generators (its reproducibility); the
    caller's states are saved and given back, so loading the data never changes what ``random``
    or ``np.random`` draw next.
    """
    if not _mnist1d_cache:
        raw, labels = _mnist1d_generate()
        mean, std = raw.mean(), raw.std()
        signals = (raw - mean) / std  # make_dataset's own expression, so the values match it exactly
        split = MNIST1D_TRAIN_SIZE
        parts = {
            "x": signals[:split], "x_test": signals[split:], "y": labels[:split], "y_test": labels[split:],
            "raw_mean": np.array(mean), "raw_std": np.array(std),
        }
        for key, array in parts.items():
            array = np.array(array)
            array.flags.writeable = False
            _mnist1d_cache[key] = array
    return _mnist1d_cache


def _check_mnist1d_val_fraction(val_fraction: Any) -> float:
    val_fraction = check_real("val_fraction", val_fraction)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    smallest = min(val_fraction, 1.0 - val_fraction) * MNIST1D_TRAIN_SIZE
    if smallest < MNIST1D_CLASSES:
        raise ValueError(
            f"val_fraction must leave both the training and the validation split at least one signal per class "
            f"({MNIST1D_CLASSES} of {MNIST1D_TRAIN_SIZE}), got {val_fraction!r}"
        )
    return val_fraction


def _mnist1d_split_indices(val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation rows of the official training signals (the split of :func:`load_mnist1d_splits`)."""
    train_idx, val_idx = stratified_split_indices(_mnist1d_arrays()["y"], (1.0 - val_fraction, val_fraction), seed)
    return train_idx, val_idx


def load_mnist1d_splits(val_fraction: float = 0.2, seed: int = 0, standardize: bool = True) -> DataSplits:
    r"""MNIST-1D (Greydanus, 2020): 5,000 one-dimensional "digit" signals of length 40, 10 classes.

    Each signal is one of ten hand-made 12-point templates, padded, randomly
    translated, scaled, sheared, smoothed, given correlated and white noise and
    resampled to 40 points (``mnist1d.data.make_dataset`` with the package's
    default arguments, seed 42; generated here with NumPy and SciPy, nothing is
    downloaded). Small enough for a laptop CPU, hard enough that models differ:
    the paper reports test accuracies of about 32% (logistic regression), 68%
    (MLP), 91% (GRU) and 94% (CNN), and an MLP fits its training set perfectly
    while generalising poorly — the over-fitting regime regularisation is for.
    For held-out signals from a shifted distribution (more noise, more
    translation), scaled exactly as these splits, see :func:`load_mnist1d_shifted`.

    Args:
        val_fraction: share of the 4,000 official training signals held out as a
            stratified validation split, in (0, 1), leaving both splits at least
            one signal per class.
        seed: seed of that split (:func:`stratified_split_indices`); the test
            split never depends on it.
        standardize: centre each of the 40 positions and divide by its standard
            deviation, with statistics of the **training split only**. (The
            package standardises all 5,000 signals with one global mean and
            spread, test included; a per-position standardisation with training
            statistics undoes that affine map exactly, so nothing of the test
            set leaks into the features.) With ``False`` the package's values are
            returned as they are.

    Returns:
        A :class:`DataSplits` named ``"mnist1d"``: the official 1,000 test
        signals as test, the rest of the official 4,000 training signals as
        training; float32 features ``t00`` … ``t39``, int64 labels, classes
        ``"0"`` … ``"9"``.

    Example:
        >>> data = load_mnist1d_splits()
        >>> data.sizes, data.n_features, data.n_classes
        ((3200, 800, 1000), 40, 10)
    """
    val_fraction = _check_mnist1d_val_fraction(val_fraction)
    seed = _check_seed(seed)
    standardize = check_bool("standardize", standardize)
    arrays = _mnist1d_arrays()
    train_idx, val_idx = _mnist1d_split_indices(val_fraction, seed)
    X_parts = [arrays["x"][train_idx], arrays["x"][val_idx], arrays["x_test"]]
    y_parts = [arrays["y"][train_idx], arrays["y"][val_idx], arrays["y_test"]]
    X_parts = [part.astype(np.float64) for part in X_parts]  # copies: the cached arrays stay read-only
    y_parts = [part.astype(np.int64) for part in y_parts]
    if standardize:
        X_parts = _standardize(X_parts)
    tensors: dict[str, torch.Tensor] = {}
    for split, X_part, y_part in zip(_SPLIT_NAMES, X_parts, y_parts):
        tensors[f"X_{split}"] = torch.as_tensor(X_part, dtype=torch.float32)
        tensors[f"y_{split}"] = torch.as_tensor(y_part, dtype=torch.int64)
    return DataSplits(
        name="mnist1d",
        feature_names=tuple(f"t{i:02d}" for i in range(MNIST1D_LENGTH)),
        class_names=tuple(str(c) for c in range(MNIST1D_CLASSES)),
        **tensors,
    )


#: The shifts :func:`load_mnist1d_shifted` draws.
MNIST1D_SHIFT_KINDS = ("noise", "translation")
#: Most signals one call of :func:`load_mnist1d_shifted` generates (each takes about a millisecond).
MNIST1D_MAX_SHIFTED = 20_000
_MNIST1D_OFFICIAL_SEED = 42  # get_dataset_args()["seed"]: the seed of the official signals
_MAX_NOISE_STRENGTH = 10.0  # at 8x the noise an MLP trained on MNIST-1D is at chance already
_SHIFTED_CACHE_SIZE = 8
_shifted_cache: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()


def _shift_changes(kind: Any, strength: Any) -> dict[str, Any]:
    """The fields of mnist1d's dataset arguments that ``kind`` at ``strength`` changes (validated)."""
    from mnist1d.data import get_dataset_args

    if not isinstance(kind, str):
        raise TypeError(f"kind must be a str, one of {MNIST1D_SHIFT_KINDS}, got {describe_value(kind)}")
    if kind not in MNIST1D_SHIFT_KINDS:
        raise ValueError(f"kind must be one of {MNIST1D_SHIFT_KINDS}, got {kind!r}")
    strength = check_real("strength", strength)
    defaults = get_dataset_args()
    if kind == "noise":
        if not 0.0 <= strength <= _MAX_NOISE_STRENGTH:
            raise ValueError(f"strength must be in [0, {_MAX_NOISE_STRENGTH:g}] for kind='noise', got {strength!r}")
        return {
            "corr_noise_scale": defaults.corr_noise_scale * strength,
            "iid_noise_scale": defaults.iid_noise_scale * strength,
        }
    # translate() shifts the padded template circularly by k ~ U{0, ..., max_translation - 1} points;
    # the padded signal has template_len + padding[-1] points, so a larger maximum repeats shifts.
    circle = defaults.template_len + defaults.padding[-1]
    lowest, highest = 1 / defaults.max_translation, circle / defaults.max_translation
    if not lowest <= strength <= highest:
        raise ValueError(
            f"strength must be in [1/{defaults.max_translation}, {highest:g}] for kind='translation' "
            f"(a largest shift of 1 to {circle} points), got {strength!r}"
        )
    return {"max_translation": round(defaults.max_translation * strength)}


def _shifted_signals(changes: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Raw signals and labels for ``changes`` (read-only), cached for the last few argument sets."""
    key = tuple(sorted(changes.items()))
    if key in _shifted_cache:
        _shifted_cache.move_to_end(key)
        return _shifted_cache[key]
    raw, labels = _mnist1d_generate(**changes)
    raw.flags.writeable = False
    labels.flags.writeable = False
    _shifted_cache[key] = (raw, labels)
    while len(_shifted_cache) > _SHIFTED_CACHE_SIZE:
        _shifted_cache.popitem(last=False)
    return raw, labels


def _mnist1d_features(raw: np.ndarray, val_fraction: float, split_seed: int, standardize: bool) -> np.ndarray:
    """Raw signals scaled as :func:`load_mnist1d_splits` (``val_fraction``, ``split_seed``, ``standardize``) scales its splits."""
    arrays = _mnist1d_arrays()
    signals = (raw - arrays["raw_mean"]) / arrays["raw_std"]  # the package's map, with the official m and s
    if standardize:
        train_idx, _ = _mnist1d_split_indices(val_fraction, split_seed)
        mean, std = _standardization_statistics(arrays["x"][train_idx].astype(np.float64))
        signals = (signals - mean) / std
    return signals


def load_mnist1d_shifted(
    kind: str,
    strength: float,
    n: int = 1000,
    seed: int = 0,
    *,
    val_fraction: float = 0.2,
    split_seed: int = 0,
    standardize: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Fresh MNIST-1D signals from a shifted distribution, scaled like the splits of :func:`load_mnist1d_splits`.

    The signals come from MNIST-1D's own generator (``mnist1d.transform.transform``
    applied to the ten templates, exactly as ``mnist1d.data.make_dataset`` does)
    with one of its arguments changed by the factor ``strength``:

    * ``kind="noise"``: both noise scales, :math:`\sigma_\text{corr} = 0.25\,s`
      (smoothed noise in the padding) and :math:`\sigma_\text{iid} = 0.02\,s`
      (white noise everywhere), for ``strength`` :math:`s \in [0, 10]`. With the
      same ``seed`` every random draw is the same, so a signal is
      :math:`r(s) = r(0) + s\,\bigl(r(1) - r(0)\bigr)`: only the noise grows.
    * ``kind="translation"``: the largest circular shift of the padded
      72-point template, ``max_translation`` :math:`= \operatorname{round}(48\,s)`
      for :math:`s \in [1/48, 1.5]`; the shift is uniform on
      :math:`\{0, \dots, \text{max\_translation} - 1\}`, so at :math:`s = 1.5`
      a third of the signals are shifted further than any training signal.

    ``strength=1`` is the ordinary distribution for either kind (the two then
    give the same signals). The seed is not the official one (42), so no
    signal is shared with, or correlated with, the official data.

    Scaling. ``make_dataset`` centres and scales each set it generates by that
    set's own mean and spread; done to a noisier set, that would shrink its
    signals (undoing part of the shift) and let the shifted data's statistics
    into its pre-processing. Here the raw signals :math:`r` get the official
    map instead, :math:`x = (r - m)/s_0` with :math:`m, s_0` the mean and
    standard deviation of the 5,000 official raw signals, and then, with
    ``standardize``, the per-position statistics of the **training split**
    of ``load_mnist1d_splits(val_fraction, split_seed)``:
    :math:`z_j = (x_j - \mu_j)/\sigma_j`. Pass the arguments of the splits the
    model was trained on, and the shifted signals are transformed exactly as
    their validation and test signals are.

    Args:
        kind: ``"noise"`` or ``"translation"`` (:data:`MNIST1D_SHIFT_KINDS`).
        strength: factor on the default noise scales or largest translation,
            in the range given above for ``kind``.
        n: number of signals, a multiple of 10 (``n // 10`` per class) from 10
            to :data:`MNIST1D_MAX_SHIFTED`.
        seed: seed of the generator, in ``[0, 2**32 - 1]`` and not 42.
        val_fraction, split_seed, standardize: those of the
            :func:`load_mnist1d_splits` call whose scaling to reproduce (its
            ``seed`` is ``split_seed`` here).

    Returns:
        ``(X, y)``: float32 features of shape ``(n, 40)`` and int64 labels of
        shape ``(n,)``, in shuffled order. Generation takes about a millisecond
        a signal; the last few argument sets are cached, and the caller's
        Python and NumPy random states are left as they were.

    Example:
        >>> X, y = load_mnist1d_shifted("noise", 2.0, n=100)
        >>> tuple(X.shape), X.dtype, torch.bincount(y).tolist()
        ((100, 40), torch.float32, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10])
    """
    changes = _shift_changes(kind, strength)
    n = check_int("n", n, minimum=MNIST1D_CLASSES)
    if n % MNIST1D_CLASSES or n > MNIST1D_MAX_SHIFTED:
        raise ValueError(
            f"n must be a multiple of {MNIST1D_CLASSES} (equal classes) and at most {MNIST1D_MAX_SHIFTED}, got {n!r}"
        )
    seed = _check_seed(seed)
    if seed > 2**32 - 1:
        raise ValueError(f"seed must be at most 2**32 - 1 (NumPy's legacy seeding), got {seed!r}")
    if seed == _MNIST1D_OFFICIAL_SEED:
        raise ValueError(
            f"seed must differ from {_MNIST1D_OFFICIAL_SEED}, the seed of the official MNIST-1D signals "
            "(the same random draws would repeat the training signals)"
        )
    val_fraction = _check_mnist1d_val_fraction(val_fraction)
    split_seed = check_int("split_seed", split_seed, minimum=0)
    standardize = check_bool("standardize", standardize)
    raw, labels = _shifted_signals({**changes, "num_samples": n, "seed": seed})
    features = _mnist1d_features(raw, val_fraction, split_seed, standardize)
    # astype copies: a tensor never shares memory with the read-only cache
    return torch.as_tensor(features, dtype=torch.float32), torch.from_numpy(labels.astype(np.int64))


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
    check_finite("X", X)
    check_finite("y", y)
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
