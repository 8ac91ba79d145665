"""Valid calls of course_lib.data."""

from __future__ import annotations

import functools
from collections import Counter

import numpy as np
import torch

from course_lib import data

from .runner import Case

_LABELS = [0, 0, 0, 1, 1, 1, 0, 1, 2, 2, 2, 2]


def _labels() -> np.ndarray:
    return np.array(_LABELS)


# --- records --------------------------------------------------------------------------------


def _splits_kwargs() -> dict:
    X = torch.tensor([[0.5, -1.0], [2.0, 0.25], [1.0, 1.5], [-0.5, 3.0]])
    y = torch.tensor([0, 1, 0, 1])
    parts = {f"{v}_{s}": t.clone() for s in ("train", "val", "test") for v, t in (("X", X), ("y", y))}
    return dict(name="toy", **parts, feature_names=("a", "b"), class_names=("neg", "pos"))


def _regression_splits_kwargs() -> dict:
    kwargs = _splits_kwargs()
    for split in ("train", "val", "test"):
        kwargs[f"y_{split}"] = torch.tensor([0.5, -1.0, 2.0, 0.0])
    return {**kwargs, "class_names": None}


def _verify_data_splits(splits, kwargs) -> None:
    assert isinstance(splits, data.DataSplits) and splits.name == kwargs["name"]
    for split in ("train", "val", "test"):
        for v in "Xy":
            assert getattr(splits, f"{v}_{split}") is kwargs[f"{v}_{split}"]  # stored, not copied
    assert all(isinstance(n, str) for n in splits.feature_names) and len(splits.feature_names) == splits.n_features
    if splits.class_names is not None:
        assert len(splits.class_names) >= 2 and all(isinstance(n, str) for n in splits.class_names)
        assert int(splits.y_train.max()) < len(splits.class_names)
    assert splits.sizes == tuple(len(kwargs[f"X_{s}"]) for s in ("train", "val", "test"))


def _classes(y) -> tuple[np.ndarray, np.ndarray]:
    """Each example's class index and the class counts, computed independently of course_lib."""
    y = np.asarray(y).tolist()
    names = sorted(set(y))
    index = np.array([names.index(label) for label in y])
    return index, np.bincount(index, minlength=len(names))


def _verify_subset_train(small, kwargs) -> None:
    full, n = kwargs["self"], int(kwargs["n"])
    assert small.sizes == (n, *full.sizes[1:])
    assert small.X_val is full.X_val and small.X_test is full.X_test
    # every kept row is a row of the full training set, each used once, labels kept with it
    rows = {tuple(x.tolist()) + (int(t),): i for i, (x, t) in enumerate(zip(full.X_train, full.y_train))}
    kept = [rows[tuple(x.tolist()) + (int(t),)] for x, t in zip(small.X_train, small.y_train)]
    assert kept == sorted(set(kept))
    counts = np.bincount(full.y_train.numpy(), minlength=2)
    small_counts = np.bincount(small.y_train.numpy(), minlength=2)
    assert np.all(np.abs(small_counts - n * counts / counts.sum()) < 1)


def _subset_train_kwargs() -> dict:
    X = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    y = torch.tensor([0, 1, 0, 1, 0, 0, 1, 0, 1, 0])
    splits = data.DataSplits("toy", X, y, X[:3], y[:3], X[:3], y[:3], ("a", "b"), ("neg", "pos"))
    return dict(self=splits, n=6, seed=0)


# --- splitting ------------------------------------------------------------------------------


def _verify_split_indices(parts, kwargs) -> None:
    fractions = [float(f) for f in kwargs["fractions"]]
    index, counts = _classes(kwargs["y"])
    assert len(parts) == len(fractions)
    joined = np.concatenate(parts)
    np.testing.assert_array_equal(np.sort(joined), np.arange(len(index)))  # disjoint and covering
    for part, fraction in zip(parts, fractions):
        assert len(part) > 0 and np.all(np.diff(part) > 0)
        per_class = np.bincount(index[part], minlength=len(counts))
        assert np.all(np.abs(per_class - fraction * counts) <= 1 + 1e-9)


def _verify_subsample(chosen, kwargs) -> None:
    index, counts = _classes(kwargs["y"])
    n = int(kwargs["n"])
    assert chosen.shape == (n,) and np.all(np.diff(chosen) > 0) and 0 <= chosen.min() and chosen.max() < len(index)
    per_class = np.bincount(index[chosen], minlength=len(counts))
    assert np.all(np.abs(per_class - n * counts / counts.sum()) < 1)
    if n > 1:  # nested: the subsample of size n - 1 is inside it
        smaller = data.stratified_subsample_indices(kwargs["y"], n - 1, kwargs.get("seed", 0))
        assert set(smaller.tolist()) <= set(chosen.tolist())


def _train_val_kwargs() -> dict:
    return dict(X=np.arange(24.0).reshape(12, 2) / 4, y=_labels(), val_fraction=0.25, rng=np.random.default_rng(0))


def _verify_train_val_split(result, kwargs) -> None:
    X_tr, y_tr, X_va, y_va = result
    X, y = kwargs["X"], np.asarray(kwargs["y"])
    pairs = Counter((row.tobytes(), label) for row, label in zip(X, y.tolist()))
    parts = ((X_tr, y_tr), (X_va, y_va))
    out = Counter((row.tobytes(), label) for part, labels in parts for row, label in zip(part, labels.tolist()))
    assert out == pairs  # pairs kept together, every example in exactly one part
    assert X_tr.dtype == X.dtype and X_tr.shape[1:] == X.shape[1:]
    f = float(kwargs["val_fraction"])
    for label, count in Counter(y.tolist()).items():
        assert y_va.tolist().count(label) == round(f * count)


# --- loaders and generators -----------------------------------------------------------------


def _check_stratified(splits: data.DataSplits, fractions) -> None:
    labels = torch.cat([splits.y_train, splits.y_val, splits.y_test]).numpy()
    counts = np.bincount(labels, minlength=splits.n_classes)
    for y, fraction in zip((splits.y_train, splits.y_val, splits.y_test), fractions):
        per_class = np.bincount(y.numpy(), minlength=splits.n_classes)
        assert np.all(np.abs(per_class - float(fraction) * counts) <= 1 + 1e-9)


def _verify_loader(n_examples: int, n_features: int, n_classes: int):
    def verify(splits, kwargs) -> None:
        assert isinstance(splits, data.DataSplits) and splits.n_features == n_features
        assert sum(splits.sizes) == n_examples and splits.n_classes == n_classes
        _check_stratified(splits, kwargs.get("fractions", data.DEFAULT_FRACTIONS))
        X = splits.X_train.double()
        if kwargs.get("standardize", True):
            std = X.std(dim=0, unbiased=False)
            assert torch.allclose(X.mean(dim=0), torch.zeros(n_features, dtype=torch.float64), atol=1e-5)
            assert torch.all((torch.abs(std - 1) < 1e-4) | (std < 1e-6))  # constant pixels are only centred
        else:
            assert float(X.min()) >= 0

    return verify


def _verify_mnist1d(splits, kwargs) -> None:
    n_val = int(round(float(kwargs["val_fraction"]) * data.MNIST1D_TRAIN_SIZE))
    assert splits.name == "mnist1d" and splits.n_features == 40 and splits.n_classes == 10
    assert abs(splits.sizes[1] - n_val) <= 10 and sum(splits.sizes[:2]) == 4000 and splits.sizes[2] == 1000
    labels = torch.cat([splits.y_train, splits.y_val])
    assert torch.equal(torch.sort(labels).values, torch.sort(torch.from_numpy(np.array(data._mnist1d_arrays()["y"], dtype=np.int64))).values)
    if kwargs["standardize"]:
        assert torch.allclose(splits.X_train.double().mean(dim=0), torch.zeros(40, dtype=torch.float64), atol=1e-5)
    else:
        assert torch.equal(splits.X_test, torch.from_numpy(data._mnist1d_arrays()["x_test"].astype(np.float32)))


def _verify_mnist1d_shifted(result, kwargs) -> None:
    X, y = result
    n = int(kwargs["n"])
    assert X.shape == (n, 40) and X.dtype == torch.float32 and y.shape == (n,) and y.dtype == torch.int64
    assert torch.bincount(y, minlength=10).tolist() == [n // 10] * 10
    if kwargs["standardize"]:  # scaled by the statistics of the requested training split, not its own
        train = data.load_mnist1d_splits(float(kwargs["val_fraction"]), int(kwargs["split_seed"]), False).X_train.double()
        raw, _ = data.load_mnist1d_shifted(kwargs["kind"], kwargs["strength"], n, kwargs["seed"], standardize=False)
        expected = (raw.double() - train.mean(dim=0)) / train.std(dim=0, correction=0)
        assert torch.allclose(X.double(), expected, atol=1e-4)
    official = data._mnist1d_arrays()["x"].astype(np.float32)
    raw, _ = data.load_mnist1d_shifted(kwargs["kind"], kwargs["strength"], n, kwargs["seed"], standardize=False)
    assert not {bytes(row) for row in raw.numpy()} & {bytes(row) for row in official}  # no training signal reused


# --- mini-batches ---------------------------------------------------------------------------


@functools.wraps(data.iterate_minibatches)
def _minibatches(*args, **kwargs):
    return list(data.iterate_minibatches(*args, **kwargs))


def _minibatch_kwargs() -> dict:
    # y is float: values.py cannot build the catalogue of an int64 tensor (its NaN entry)
    return dict(X=torch.arange(14, dtype=torch.float32).reshape(7, 2), y=torch.tensor([0.0, 1, 0, 1, 1, 0, 1]),
                batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(0))


def _verify_minibatches(batches, kwargs) -> None:
    X, y, size = kwargs["X"], kwargs["y"], kwargs["batch_size"]
    n = len(X)
    if size is None or size >= n:
        assert len(batches) == 1 and batches[0][0] is X and batches[0][1] is y
        return
    assert [len(xb) for xb, _ in batches] == [min(size, n - start) for start in range(0, n, size)]
    Xb, yb = torch.cat([xb for xb, _ in batches]), torch.cat([t for _, t in batches])
    # recover the order from the rows (X's rows are distinct in every accepted variant of the valid call)
    rows = [tuple(r.tolist()) for r in X.reshape(n, -1)]
    if len(set(rows)) < n:
        return
    order = [rows.index(tuple(r.tolist())) for r in Xb.reshape(n, -1)]
    assert sorted(order) == list(range(n))
    if not kwargs["shuffle"]:
        assert order == list(range(n))
    assert torch.equal(yb, y[order])


CASES = [
    Case(
        "data.DataSplits",
        data.DataSplits,
        _splits_kwargs,
        _verify_data_splits,
        fixed={
            f"y_{split}": "values.py cannot build the catalogue of an int64 tensor (NaN entry); see the regression case"
            for split in ("train", "val", "test")
        },
    ),
    Case(  # regression targets: the y_* tensors are float32, so their catalogue can be built
        "data.DataSplits",
        data.DataSplits,
        _regression_splits_kwargs,
        _verify_data_splits,
        fixed={
            "class_names": "None selects regression; class_names is mutated in the classification case",
            **{name: "mutated in the classification case" for name in
               ("name", "X_train", "X_val", "X_test", "feature_names")},
        },
    ),
    Case(
        "data.DataSplits.subset_train",
        data.DataSplits.subset_train,
        _subset_train_kwargs,
        _verify_subset_train,
        fixed={"self": "the DataSplits whose method is called"},
    ),
    Case(
        "data.stratified_split_indices",
        data.stratified_split_indices,
        lambda: dict(y=_labels(), fractions=(0.5, 0.25, 0.25), seed=0),
        _verify_split_indices,
    ),
    Case(
        "data.stratified_subsample_indices",
        data.stratified_subsample_indices,
        lambda: dict(y=_labels(), n=5, seed=0),
        _verify_subsample,
    ),
    Case("data.train_val_split", data.train_val_split, _train_val_kwargs, _verify_train_val_split),
    Case(
        "data.load_digits_splits",
        data.load_digits_splits,
        lambda: dict(seed=0, fractions=(0.6, 0.2, 0.2), standardize=True),
        _verify_loader(1797, 64, 10),
        examples=4,
        time_limit=20,
    ),
    Case(
        "data.load_mnist1d_splits",
        data.load_mnist1d_splits,
        lambda: dict(val_fraction=0.2, seed=0, standardize=True),
        _verify_mnist1d,
        examples=4,
        time_limit=30,  # the first call of a process generates the data set (a few seconds)
    ),
    Case(
        "data.load_mnist1d_shifted",
        data.load_mnist1d_shifted,
        lambda: dict(kind="noise", strength=2.0, n=100, seed=1, val_fraction=0.2, split_seed=0, standardize=True),
        _verify_mnist1d_shifted,
        examples=4,
        time_limit=40,  # the first call of a process generates the official set; n up to 20,000 takes ~15 s
    ),
    Case(
        "data.load_breast_cancer_splits",
        data.load_breast_cancer_splits,
        lambda: dict(seed=0, fractions=(0.6, 0.2, 0.2), standardize=True),
        _verify_loader(569, 30, 2),
        examples=4,
        time_limit=20,
    ),
    Case("data.iterate_minibatches", _minibatches, _minibatch_kwargs, _verify_minibatches),
]
