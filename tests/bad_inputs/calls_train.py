"""Valid calls of course_lib.train.

``fit`` trains a tiny MLP (weights drawn from a fixed seed, so every valid call starts from the same
model) for two epochs on a tiny :class:`~course_lib.data.DataSplits`. Its valid call uses early
stopping, so a huge ``epochs`` ends at the first epoch that does not improve. The checks compute
what they compare with independently: the loss of the final model, the early-stopping rule by hand,
the learning rates of the schedule.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from course_lib import train
from course_lib.data import DataSplits

from .runner import Case


def _mlp(outputs: int = 2) -> nn.Sequential:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Dropout(0.2), nn.Linear(6, outputs))


def _features(rows: int, seed: int) -> torch.Tensor:
    return torch.tensor(np.random.default_rng(seed).normal(size=(rows, 3)), dtype=torch.float32)


def _labels(X: torch.Tensor) -> torch.Tensor:
    return (X[:, 0] + 0.5 * X[:, 1] > 0).long()


def _splits() -> DataSplits:
    X_train, X_val, X_test = _features(16, 1), _features(8, 2), _features(4, 3)
    return DataSplits(
        "tiny", X_train, _labels(X_train), X_val, _labels(X_val), X_test, _labels(X_test),
        feature_names=("a", "b", "c"), class_names=("no", "yes"),
    )


# --- early stopping: the rule written out again ----------------------------------------------------


def _stop_by_hand(losses: list[float], patience: int) -> int:
    best, since = math.inf, 0
    for epoch, loss in enumerate(losses):
        if loss < best:
            best, since = loss, 0
        else:
            since += 1
            if since >= patience:
                return epoch
    return len(losses) - 1


def _losses(kwargs) -> list[float]:
    values = kwargs["val_losses"]
    return [float(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]


def _verify_early_stop_epoch(epoch, kwargs) -> None:
    assert isinstance(epoch, int) and epoch == _stop_by_hand(_losses(kwargs), int(kwargs["patience"]))


def _verify_best_epoch(epoch, kwargs) -> None:
    losses = _losses(kwargs)
    if kwargs.get("patience") is not None:
        losses = losses[: _stop_by_hand(losses, int(kwargs["patience"])) + 1]
    assert isinstance(epoch, int) and losses[epoch] == min(losses) and all(v > losses[epoch] for v in losses[:epoch])


# --- History -------------------------------------------------------------------------------------


def _history_fields() -> dict:
    return dict(
        train_loss=[1.0, 0.5, 0.25, 0.125], val_loss=[1.1, 0.7, 0.6, 0.65], train_batch_loss=[1.2, 0.6, 0.3, 0.2],
        train_accuracy=[0.5, 0.7, 0.9, 1.0], val_accuracy=[0.45, 0.6, 0.7, 0.68], lr=[0.1] * 4,
        best_epoch=2, stopped_epoch=3, diverged=False,
    )


def _as_floats(values) -> list[float] | None:
    if values is None:
        return None
    return [float(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]


def _verify_history(history, kwargs) -> None:
    fields = {**dict(train_accuracy=None, val_accuracy=None, stopped_epoch=None, diverged=False, best_epoch=0), **kwargs}
    for name in ("train_loss", "val_loss", "train_batch_loss", "train_accuracy", "val_accuracy", "lr"):
        assert getattr(history, name) == _as_floats(fields.get(name, [])), name
    n = len(history.val_loss)
    assert history.best_epoch == int(np.argmin(history.val_loss)) and history.stopped_epoch in (None, n - 1)
    assert history.diverged is False and isinstance(history.best_epoch, int)


def _history() -> train.History:
    return train.History(**_history_fields())


def _gap(history, epoch=None):
    return history.generalization_gap(epoch)


def _verify_gap(gap, kwargs) -> None:
    history, epoch = kwargs["history"], kwargs.get("epoch")
    epoch = history.best_epoch if epoch is None else int(epoch)
    assert gap == history.val_loss[epoch] - history.train_loss[epoch]


def _gaps(history):
    return history.generalization_gaps()


def _verify_gaps(gaps, kwargs) -> None:
    assert gaps == [v - t for v, t in zip(kwargs["history"].val_loss, kwargs["history"].train_loss)]


def _summary(history):
    return history.summary()


def _verify_summary(line, kwargs) -> None:
    assert line == (
        "4 epochs (early stop after epoch 3); best epoch 2: train loss 0.2500, val loss 0.6000, "
        "train acc 90.0%, val acc 70.0%"
    )


_HISTORY = {"history": "the History whose method is called (4 epochs, early stop after epoch 3)"}


# --- Evaluation and evaluate -----------------------------------------------------------------------


def _verify_evaluation(evaluation, kwargs) -> None:
    loss, accuracy = kwargs["loss"], kwargs["accuracy"]
    assert isinstance(evaluation, train.Evaluation) and evaluation.loss == float(loss) and math.isfinite(evaluation.loss)
    assert evaluation.accuracy == (None if accuracy is None else float(accuracy))


def _evaluate_valid(classification: bool) -> dict:
    X = _features(12, 4)
    if classification:
        return dict(model=_mlp(), X=X, y=_labels(X), loss_fn=nn.CrossEntropyLoss())
    return dict(model=_mlp(outputs=1), X=X, y=X[:, :1] * 2 - X[:, 1:2], loss_fn=nn.MSELoss())


def _verify_evaluate(evaluation, kwargs) -> None:
    model, X, y, loss_fn = kwargs["model"], kwargs["X"], kwargs["y"], kwargs["loss_fn"]
    X = X.float() if not X.is_floating_point() or X.dtype == torch.float16 else X
    classification = y.ndim == 1 and not y.is_floating_point()
    y = y.long() if classification else (y.double() if not y.is_floating_point() else y)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        outputs = model(X)
        expected = float(loss_fn(outputs, y))
        accuracy = float((outputs.argmax(dim=1) == y).double().mean()) if classification else None
    model.train(was_training)
    assert isinstance(evaluation, train.Evaluation)
    assert math.isclose(evaluation.loss, expected, rel_tol=1e-6, abs_tol=1e-12), (evaluation.loss, expected)
    assert (evaluation.accuracy is None) == (accuracy is None)
    if accuracy is not None:
        assert math.isclose(evaluation.accuracy, accuracy, abs_tol=1e-12)


# --- fit -----------------------------------------------------------------------------------------


def _fit_valid() -> dict:
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.5)
    return dict(
        model=model, data=_splits(), optimizer=optimizer, loss_fn=nn.CrossEntropyLoss(), epochs=2,
        batch_size=4, early_stopping_patience=1, restore_best=True, target_train_loss=0.0, clip_grad_norm=1.0,
        scheduler=torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5),
        penalty=lambda m: 1e-3 * sum((p**2).sum() for p in m.parameters()),
        on_epoch_end=lambda epoch, m: None, device="cpu", progress=False, desc="training", seed=0,
    )


def _verify_fit(history, kwargs) -> None:
    epochs, patience = int(kwargs["epochs"]), kwargs.get("early_stopping_patience")
    assert isinstance(history, train.History) and not history.diverged
    n = history.epochs_run
    assert 1 <= n <= epochs
    for name in ("train_loss", "val_loss", "train_batch_loss", "train_accuracy", "val_accuracy", "lr"):
        values = getattr(history, name)
        assert len(values) == n and all(math.isfinite(v) for v in values), name
    assert all(0.0 <= a <= 1.0 for a in history.train_accuracy + history.val_accuracy)
    assert history.best_epoch == int(np.argmin(history.val_loss))
    if patience is None:
        assert history.stopped_epoch is None and n == epochs
    else:
        stop = _stop_by_hand(history.val_loss, int(patience))
        assert stop == n - 1 and (history.stopped_epoch is None) == (n == epochs)
    lr0 = 0.5
    expected_lr = [lr0 * 0.5**e for e in range(n)] if kwargs.get("scheduler") is not None else [lr0] * n
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(history.lr, expected_lr)), history.lr
    # The model ends in evaluation mode with the weights of the best epoch (early stopping, restore_best) or the last.
    model, data = kwargs["model"], kwargs["data"]
    assert not model.training
    with torch.no_grad():
        val_loss = float(kwargs["loss_fn"](model(data.X_val), data.y_val))
    restored = patience is not None and kwargs.get("restore_best", True)
    expected = history.val_loss[history.best_epoch] if restored else history.val_loss[-1]
    assert math.isclose(val_loss, expected, rel_tol=1e-5, abs_tol=1e-7), (val_loss, expected)


def _overfit_valid() -> dict:
    X = _features(8, 4)
    return dict(model=_mlp(), X=X, y=_labels(X), loss_fn=nn.CrossEntropyLoss(), steps=3, lr=0.01, seed=0)


def _verify_overfit(losses, kwargs) -> None:
    assert isinstance(losses, list) and len(losses) == int(kwargs["steps"])
    assert all(isinstance(v, float) and math.isfinite(v) and v >= 0 for v in losses)
    assert not kwargs["model"].training


CASES = [
    Case("train.early_stop_epoch", train.early_stop_epoch, lambda: dict(val_losses=[1.0, 0.8, 0.9, 0.85, 0.7], patience=2), _verify_early_stop_epoch),
    Case("train.best_epoch", train.best_epoch, lambda: dict(val_losses=[1.0, 0.8, 0.9, 0.85, 0.7], patience=2), _verify_best_epoch),
    Case("train.History", train.History, _history_fields, _verify_history),
    Case("train.History.generalization_gap", _gap, lambda: dict(history=_history(), epoch=-1), _verify_gap, fixed=_HISTORY),
    Case("train.History.generalization_gaps", _gaps, lambda: dict(history=_history()), _verify_gaps, fixed=_HISTORY),
    Case("train.History.summary", _summary, lambda: dict(history=_history()), _verify_summary, fixed=_HISTORY),
    Case("train.Evaluation", train.Evaluation, lambda: dict(loss=0.25, accuracy=0.5), _verify_evaluation),
    Case(
        "train.evaluate", train.evaluate, lambda: _evaluate_valid(True), _verify_evaluate,
        fixed={"y": "class labels: the catalogue's int64 variant has float64 as its equivalent, and float64 targets "
               "are regression targets, not labels (y is mutated in train.evaluate[regression])"},
    ),
    Case("train.evaluate[regression]", train.evaluate, lambda: _evaluate_valid(False), _verify_evaluate),
    Case("train.fit", train.fit, _fit_valid, _verify_fit, examples=6),
    Case(
        "train.overfit_one_batch", train.overfit_one_batch, _overfit_valid, _verify_overfit,
        fixed={"y": "class labels, as for train.evaluate: float64 targets are regression targets"},
    ),
]
