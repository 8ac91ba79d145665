"""One small, readable training loop for every chapter, with early stopping and its pure rule.

:func:`fit` trains a model on a :class:`course_lib.data.DataSplits` and returns
a :class:`History` of per-epoch losses and accuracies; the over-fitting,
early-stopping and regularization experiments of the book all read it. Each
epoch is

1. **training** (``model.train()``): shuffled mini-batches; for each, forward,
   loss, backward, optional gradient-norm clipping, optimizer step;
2. **measurement** (``model.eval()`` under ``torch.no_grad()``): the loss
   (and accuracy) on the *whole* training set and on the validation set, with
   dropout off, so that train and validation numbers are comparable and the
   gap between them is the generalization gap, not dropout noise;
3. the learning-rate scheduler's step, and the early-stopping rule.

Early stopping (Prechelt, 1998, "Early Stopping -- But When?") watches the
validation loss: :func:`early_stop_epoch` is the rule as a pure function of
the list of losses, and :func:`fit` feeds its validation losses, epoch by
epoch, to the very same rule object, so the two cannot disagree.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from course_lib._validation import (
    ValidatedTuple,
    check_bool,
    check_finite,
    check_finite_real,
    check_int,
    check_non_negative,
    check_positive,
    check_probability,
    describe_value,
    real_tensor,
)
from course_lib.data import _minibatches

__all__ = [
    "History",
    "Evaluation",
    "fit",
    "evaluate",
    "early_stop_epoch",
    "best_epoch",
    "overfit_one_batch",
    "PROGRESS_BAR_FORMAT",
    "MAX_OVERFIT_STEPS",
    "MAX_OVERFIT_LR",
]

#: tqdm ``bar_format`` of :func:`fit`: counts only, never elapsed time,
#: remaining time or rate, so a stored notebook output (the widget's text
#: representation) is the same on every run.
PROGRESS_BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} epochs"

#: Rows per forward pass when :func:`evaluate` measures a whole split.
EVALUATION_CHUNK = 8192

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


# ---------------------------------------------------------------------------
# The early-stopping rule
# ---------------------------------------------------------------------------


class _ImprovementTracker:
    """The early-stopping rule as a state machine, fed one validation loss per epoch.

    An epoch *improves* when its loss is strictly below every earlier loss
    (the first epoch always improves). With a ``patience``, training should
    stop once the last ``patience`` epochs have all failed to improve.
    """

    def __init__(self, patience: int | None) -> None:
        self.patience = patience
        self.best_loss = math.inf
        self.best_epoch: int | None = None
        self.epochs = 0
        self.epochs_without_improvement = 0

    def update(self, loss: float) -> bool:
        """Record the next epoch's loss; return whether it improved."""
        improved = loss < self.best_loss
        if improved:
            self.best_loss, self.best_epoch = loss, self.epochs
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        self.epochs += 1
        return improved

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.epochs_without_improvement >= self.patience


def _check_patience(patience: Any, name: str = "patience") -> int:
    return check_int(name, patience, minimum=1)


def _check_losses(val_losses: Any) -> list[float]:
    if isinstance(val_losses, (np.ndarray, torch.Tensor)):
        if val_losses.ndim != 1:
            raise ValueError(f"val_losses must be a 1-D sequence of numbers, got shape {tuple(val_losses.shape)}")
        val_losses = val_losses.tolist()
    if not isinstance(val_losses, Sequence) or isinstance(val_losses, (str, bytes)):
        raise TypeError(f"val_losses must be a sequence of numbers (e.g. a list), got {type(val_losses).__name__}")
    if len(val_losses) == 0:
        raise ValueError("val_losses must hold at least one loss, got an empty sequence")
    losses = []
    for epoch, loss in enumerate(val_losses):
        if isinstance(loss, (bool, np.bool_)) or not isinstance(loss, Real):
            raise ValueError(f"val_losses must hold numbers, got {loss!r} at epoch {epoch}")
        value = _float_or_inf(loss)
        if not math.isfinite(value):
            shown = repr(loss) if isinstance(loss, float) else describe_value(loss)
            raise ValueError(f"val_losses must be finite, got {shown} at epoch {epoch}")
        losses.append(value)
    return losses


def _float_or_inf(value: Real) -> float:
    """``float(value)``, with an int beyond the float range (10**400) as ±inf instead of an OverflowError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def early_stop_epoch(val_losses: Sequence[float], patience: int) -> int:
    r"""The epoch after which early stopping ends training.

    Epochs are indexed from 0. Epoch :math:`e` *improves* if its loss is
    strictly lower than every earlier loss (epoch 0 always improves). Training
    stops after the first epoch :math:`e` at which the last ``patience``
    epochs :math:`e - \text{patience} + 1, \dots, e` all failed to improve.

    Args:
        val_losses: validation loss of each epoch, a non-empty sequence of
            finite numbers.
        patience: how many epochs in a row without improvement to tolerate,
            an int >= 1.

    Returns:
        That epoch :math:`e`, or ``len(val_losses) - 1`` if it never happens.
        The best epoch up to the stop (``best_epoch(val_losses, patience)``)
        is then ``e - patience`` whenever training did stop.

    Raises:
        TypeError: ``patience`` not an int, or ``val_losses`` not a sequence.
        ValueError: ``patience < 1``; ``val_losses`` empty or holding a
            non-number, NaN or infinity.

    Example:
        >>> early_stop_epoch([1.0, 0.8, 0.9, 0.85, 0.7], patience=2)
        3
        >>> early_stop_epoch([1.0, 0.8, 0.9, 0.7, 0.75], patience=2)
        4
    """
    patience = _check_patience(patience)
    losses = _check_losses(val_losses)
    rule = _ImprovementTracker(patience)
    for epoch, loss in enumerate(losses):
        rule.update(loss)
        if rule.should_stop:
            return epoch
    return len(losses) - 1


def best_epoch(val_losses: Sequence[float], patience: int | None = None) -> int:
    """Index of the first minimum of ``val_losses`` (the last epoch that improved).

    With a ``patience``, only the epochs up to and including
    :func:`early_stop_epoch` are considered, i.e. what training with early
    stopping would have seen. Arguments are checked as in
    :func:`early_stop_epoch`.

    Example:
        >>> best_epoch([1.0, 0.8, 0.9, 0.85, 0.7])
        4
        >>> best_epoch([1.0, 0.8, 0.9, 0.85, 0.7], patience=2)
        1
    """
    losses = _check_losses(val_losses)
    if patience is not None:
        losses = losses[: early_stop_epoch(losses, patience) + 1]
    return int(np.argmin(losses))


# ---------------------------------------------------------------------------
# The record of a run
# ---------------------------------------------------------------------------


@dataclass(eq=False)
class History:
    """What :func:`fit` measured, one entry per epoch run (plain Python floats).

    Attributes:
        train_loss: loss on the whole training set in **evaluation mode**
            after the epoch's updates (dropout off): the number to compare with
            ``val_loss``.
        val_loss: loss on the validation set, evaluation mode.
        train_batch_loss: mean of the training-mode mini-batch losses during
            the epoch (what the optimizer saw: dropout on, weights changing
            along the way); higher than ``train_loss`` under strong dropout.
        train_accuracy, val_accuracy: fractions in [0, 1] in evaluation mode,
            for classification (integer targets); ``None`` for regression.
        lr: learning rate of the optimizer's first parameter group during
            each epoch.
        best_epoch: epoch with the lowest validation loss (the first one if
            tied); with early stopping, the epoch whose weights were restored.
        stopped_epoch: epoch after which early stopping (or divergence, or
            :func:`fit`'s ``target_train_loss``) ended training, or ``None`` if all requested epochs ran.
        diverged: True if a loss became NaN or infinite; training stopped there.

    The constructor checks the record is one :func:`fit` could have written
    (TypeError/ValueError naming the field): one entry per epoch in every list
    (sequences or 1-D arrays of real numbers, stored as lists of floats),
    accuracies in [0, 1], learning rates finite and >= 0, ``best_epoch`` the
    first epoch of lowest validation loss (0 for an empty history),
    ``stopped_epoch`` ``None`` or the last epoch. A NaN or infinite loss is
    only allowed in the last epoch of a ``diverged`` history, and a
    ``diverged`` history has one there and ``stopped_epoch`` at it.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_batch_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] | None = None
    val_accuracy: list[float] | None = None
    lr: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_epoch: int | None = None
    diverged: bool = False

    def __post_init__(self) -> None:
        self.val_loss = _epoch_values("val_loss", self.val_loss)
        n = len(self.val_loss)
        for name in ("train_loss", "train_batch_loss", "train_accuracy", "val_accuracy", "lr"):
            values = getattr(self, name)
            if values is None and name.endswith("accuracy"):
                continue
            values = _epoch_values(name, values)
            if len(values) != n:
                raise ValueError(f"{name} must have one entry per epoch: {len(values)} entries, but val_loss has {n}")
            if name.endswith("accuracy") and not all(0.0 <= v <= 1.0 for v in values):
                raise ValueError(f"{name} must hold fractions in [0, 1], got {values!r}")
            if name == "lr" and not all(math.isfinite(v) and v >= 0.0 for v in values):
                raise ValueError(f"lr must hold finite learning rates >= 0, got {values!r}")
            setattr(self, name, values)
        self.diverged = check_bool("diverged", self.diverged)
        self.best_epoch = check_int("best_epoch", self.best_epoch, minimum=0)
        if self.stopped_epoch is not None:
            self.stopped_epoch = check_int("stopped_epoch", self.stopped_epoch, minimum=0)
            if self.stopped_epoch != n - 1:
                raise ValueError(f"stopped_epoch must be None or the last epoch ({n - 1}), got {self.stopped_epoch}")
        losses = ("train_loss", "val_loss", "train_batch_loss")
        finite_epochs = n - 1 if self.diverged else n
        for name in losses:
            values = getattr(self, name)
            if not all(math.isfinite(v) for v in values[:finite_epochs]):
                where = "before the last epoch of a diverged history" if self.diverged else "unless diverged=True"
                raise ValueError(f"{name} must be finite {where}, got {values!r}")
        if self.diverged:
            if n == 0 or self.stopped_epoch != n - 1:
                raise ValueError(f"diverged=True needs stopped_epoch at the last epoch, got stopped_epoch={self.stopped_epoch!r} with {n} epochs")
            if all(math.isfinite(getattr(self, name)[-1]) for name in losses):
                raise ValueError("diverged=True needs a NaN or infinite loss in the last epoch, but all of its losses are finite")
        expected_best = int(np.argmin(self.val_loss[:finite_epochs])) if finite_epochs else 0
        if self.best_epoch != expected_best:
            raise ValueError(
                f"best_epoch must be the first epoch of lowest val_loss ({expected_best}), got {self.best_epoch}"
            )

    @property
    def epochs_run(self) -> int:
        """Number of epochs trained (early stopping may end before the requested number)."""
        return len(self.val_loss)

    def _require_epochs(self, what: str) -> None:
        if self.epochs_run == 0:
            raise ValueError(f"{what} needs at least one epoch, but the history is empty (epochs_run=0)")

    @property
    def best_val_loss(self) -> float:
        """Validation loss at :attr:`best_epoch`; ValueError for an empty history."""
        self._require_epochs("best_val_loss")
        return self.val_loss[self.best_epoch]

    def generalization_gap(self, epoch: int | None = None) -> float:
        """Validation loss minus training loss (both evaluation mode) at ``epoch``.

        Args:
            epoch: an epoch index (negative counts from the end, ``-1`` = last);
                default :attr:`best_epoch`.
        """
        epoch = self.best_epoch if epoch is None else check_int("epoch", epoch)
        if not -self.epochs_run <= epoch < self.epochs_run:
            raise ValueError(f"epoch must be in [{-self.epochs_run}, {self.epochs_run}), got {epoch}")
        return self.val_loss[epoch] - self.train_loss[epoch]

    def generalization_gaps(self) -> list[float]:
        """Validation minus training loss for every epoch."""
        return [v - t for v, t in zip(self.val_loss, self.train_loss)]

    def summary(self) -> str:
        """One line for a notebook: epochs run, why it stopped, and the best epoch's numbers (fixed precision).

        Raises ValueError for an empty history (no epoch to report).
        """
        self._require_epochs("summary")
        if self.diverged:
            ending = f"diverged at epoch {self.stopped_epoch}"
        elif self.stopped_epoch is not None:
            ending = f"early stop after epoch {self.stopped_epoch}"
        else:
            ending = "all epochs"
        e = self.best_epoch
        line = (
            f"{self.epochs_run} epochs ({ending}); best epoch {e}: "
            f"train loss {self.train_loss[e]:.4f}, val loss {self.val_loss[e]:.4f}"
        )
        if self.train_accuracy is not None and self.val_accuracy is not None:
            line += f", train acc {self.train_accuracy[e]:.1%}, val acc {self.val_accuracy[e]:.1%}"
        return line

    def __repr__(self) -> str:
        return (
            f"History(epochs_run={self.epochs_run}, best_epoch={self.best_epoch}, "
            f"stopped_epoch={self.stopped_epoch}, diverged={self.diverged})"
        )


def _epoch_values(name: str, values: Any) -> list[float]:
    """A History field: a sequence (or 1-D array) of real numbers as a new list of floats."""
    if isinstance(values, (np.ndarray, torch.Tensor)):
        if values.ndim != 1:
            raise ValueError(f"{name} must be 1-D (one entry per epoch), got shape {tuple(values.shape)}")
        real = values.dtype.kind in "iuf" if isinstance(values, np.ndarray) else not (values.dtype == torch.bool or values.is_complex())
        if not real:
            raise TypeError(f"{name} must hold real numbers, got dtype {values.dtype}")
        values = values.tolist()
    if not isinstance(values, Sequence) or isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a list of numbers (one per epoch), got {describe_value(values)}")
    out = []
    for epoch, value in enumerate(values):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
            raise TypeError(f"{name} must hold real numbers, got {describe_value(value)} at epoch {epoch}")
        out.append(_float_or_inf(value))
    return out


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------


class _EvaluationFields(NamedTuple):
    loss: float
    accuracy: float | None


class Evaluation(ValidatedTuple, _EvaluationFields):
    """Loss and accuracy of a model on one data split (accuracy ``None`` for regression).

    A named tuple ``(loss, accuracy)``; the constructor checks that ``loss`` is a finite real
    number and ``accuracy`` ``None`` or in [0, 1]. A NaN or infinite loss is a ValueError: a
    measurement is finite, and :func:`evaluate` reports a diverged model with an error instead
    (:func:`fit` records divergence in :attr:`History.diverged`).
    """

    __slots__ = ()

    def __new__(cls, loss: float, accuracy: float | None) -> Evaluation:
        if accuracy is not None:
            accuracy = check_probability("accuracy", accuracy, allow_one=True)
        return super().__new__(cls, check_finite_real("loss", loss), accuracy)


def _is_classification(y: torch.Tensor) -> bool:
    """Integer targets of shape ``(rows,)`` are class labels; anything else is regression."""
    return y.ndim == 1 and not (torch.is_floating_point(y) or torch.is_complex(y) or y.dtype == torch.bool)


def _parameter_dtype(model: nn.Module) -> torch.dtype | None:
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), None)


def _check_features(model: nn.Module, X: Any, name: str) -> torch.Tensor:
    """Features under the dtype rule, in the dtype of the model's parameters, finite."""
    X = real_tensor(name, X)
    dtype = _parameter_dtype(model)
    if dtype is not None and X.dtype != dtype:
        raise TypeError(f"{name} must have the dtype of the model's parameters, {dtype}, got {X.dtype} (convert with .to({dtype}))")
    return check_finite(name, X)


def _check_targets(y: Any, name: str) -> torch.Tensor:
    """Class labels (integers of shape ``(rows,)``) as int64; other targets under the dtype rule, finite."""
    if isinstance(y, torch.Tensor) and _is_classification(y):
        return y.long()
    return check_finite(name, real_tensor(name, y))


def _call_model(model: nn.Module, X: torch.Tensor, name: str) -> torch.Tensor:
    """``model(X)``; an error from it is re-raised naming the model and ``name`` (the original chained)."""
    try:
        return model(X)
    except (TypeError, ValueError, RuntimeError, IndexError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(f"model({name}) raised {type(error).__name__} for {name} of shape {tuple(X.shape)}, {X.dtype}: {error}") from error


def _call_loss(loss_fn: LossFunction, outputs: torch.Tensor, y: torch.Tensor, name: str) -> torch.Tensor:
    """``loss_fn(outputs, y)`` as a scalar tensor; an error from it is re-raised naming loss_fn and ``name``."""
    try:
        loss = loss_fn(outputs, y)
    except (TypeError, ValueError, RuntimeError, IndexError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(
            f"loss_fn(outputs, {name}) raised {type(error).__name__} for outputs of shape {tuple(outputs.shape)} "
            f"and {name} of shape {tuple(y.shape)}, {y.dtype}: {error}"
        ) from error
    return _check_scalar_loss(loss)


def _check_scalar_loss(loss: Any) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        got = f"shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"loss_fn must return a scalar tensor (the mean loss over the batch), got {got}")
    return loss


def _check_target_shape(outputs: Any, y: torch.Tensor, names: tuple[str, str]) -> None:
    """Regression targets must not broadcast the outputs to a larger shape (``(n, 1)`` against ``(n,)`` gives ``(n, n)``)."""
    if not isinstance(outputs, torch.Tensor) or outputs.shape == y.shape:
        return
    try:
        shape = torch.broadcast_shapes(outputs.shape, y.shape)
    except RuntimeError:
        shape = None
    if shape != outputs.shape:
        raise ValueError(
            f"{names[1]} of shape {tuple(y.shape)} does not match model({names[0]}) of shape {tuple(outputs.shape)}: "
            "regression targets need the outputs' shape (an element-wise loss would broadcast them)"
        )


def _check_label_range(outputs: Any, y: torch.Tensor, names: tuple[str, str]) -> None:
    """Class labels must index the model's class scores: 0 <= label < outputs.shape[1]."""
    if not isinstance(outputs, torch.Tensor) or outputs.ndim != 2 or not len(y):
        return
    classes = outputs.shape[1]
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= classes:
        bad = low if low < 0 else high
        raise ValueError(
            f"{names[1]} holds the class label {bad}, but model({names[0]}) gives scores for {classes} classes "
            f"(labels 0..{classes - 1})"
        )


@torch.no_grad()
def _measure(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss_fn: LossFunction, names: tuple[str, str] = ("X", "y")
) -> tuple[float, float | None]:
    total_loss = torch.zeros((), device=X.device)
    correct = torch.zeros((), device=X.device, dtype=torch.int64)
    classification = _is_classification(y)
    for start in range(0, len(X), EVALUATION_CHUNK):
        xb, yb = X[start : start + EVALUATION_CHUNK], y[start : start + EVALUATION_CHUNK]
        outputs = _call_model(model, xb, names[0])
        if classification:
            _check_label_range(outputs, yb, names)
        else:
            _check_target_shape(outputs, yb, names)
        total_loss += _call_loss(loss_fn, outputs, yb, names[1]) * len(xb)
        if classification:
            if not isinstance(outputs, torch.Tensor) or outputs.ndim != 2:
                got = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else type(outputs).__name__
                raise ValueError(f"model({names[0]}) must return class scores of shape (rows, classes) for the labels {names[1]}, got {got}")
            correct += (outputs.argmax(dim=1) == yb).sum()
    n = len(X)
    return total_loss.item() / n, (correct.item() / n if classification else None)


def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss_fn: LossFunction) -> Evaluation:
    """Mean loss and accuracy of ``model`` on ``(X, y)`` in evaluation mode, without gradients.

    The model is switched to ``eval()`` for the measurement and back to the
    mode it was in. Accuracy (for integer class labels ``y``) compares
    ``model(X).argmax(dim=1)`` with ``y``. ``loss_fn`` must return the *mean*
    loss of a batch (the default of torch's losses); large inputs are
    processed in chunks of :data:`EVALUATION_CHUNK` rows and the chunk means
    are weighted by their sizes.

    ``loss_fn`` must be callable (TypeError otherwise). When ``model`` is an
    ``nn.Sequential`` whose first layer is an ``nn.Linear``, the last
    dimension of ``X`` must equal its ``in_features`` (ValueError naming X).

    ``X`` follows the dtype rule (integers → float64, float16 → float32; bool
    and complex are a TypeError) and must then have the dtype of the model's
    parameters (TypeError) and be finite (ValueError). Integer ``y`` of shape
    ``(rows,)`` are class labels (taken as int64); other ``y`` are regression
    targets under the dtype rule, finite, and must not broadcast ``model(X)``
    to a larger shape (``(n,)`` against outputs ``(n, 1)``). An error raised by
    ``model(X)`` or ``loss_fn`` is re-raised naming them, with the original
    chained. A NaN or infinite loss (a diverged model) is a ValueError.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    X, y = _check_features(model, X, "X"), _check_targets(y, "y")
    if X.ndim == 0 or len(X) == 0 or y.shape[:1] != X.shape[:1]:
        raise ValueError(f"X and y must have the same non-zero number of rows, got {tuple(X.shape)} and {tuple(y.shape)}")
    _check_loss_fn(loss_fn)
    _check_input_width(model, X, "X")
    was_training = model.training
    model.eval()
    try:
        loss, accuracy = _measure(model, X, y, loss_fn)
    finally:
        model.train(was_training)
    if not math.isfinite(loss):
        raise ValueError(
            f"loss_fn(model(X), y) is {loss}: the model's weights or outputs are not finite (did its training "
            "diverge?), or loss_fn returns NaN"
        )
    return Evaluation(loss, accuracy)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


#: Largest seed ``torch.Generator.manual_seed`` accepts (an unsigned 64-bit integer).
MAX_SEED = 2**64 - 1


def _check_loss_fn(loss_fn: Any) -> None:
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__} {loss_fn!r}")


def _check_seed(seed: Any, name: str = "seed") -> int:
    seed = check_int(name, seed, minimum=0)
    if seed > MAX_SEED:
        raise ValueError(f"{name} must be an int in [0, 2**64 - 1], got {seed!r}")
    return seed


def _check_input_width(model: nn.Module, X: torch.Tensor, name: str) -> None:
    """Cheap shape check: an ``nn.Sequential`` starting with ``nn.Linear`` needs ``X.shape[-1] == in_features``."""
    if not (isinstance(model, nn.Sequential) and len(model) > 0 and isinstance(model[0], nn.Linear)):
        return
    in_features = model[0].in_features
    if X.ndim < 2 or X.shape[-1] != in_features:
        raise ValueError(
            f"{name} must have {in_features} features in its last dimension (the model's first nn.Linear "
            f"has in_features={in_features}), got shape {tuple(X.shape)}"
        )


def _resolve_device(device: Any) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be None, a torch.device or a device string like 'cpu', got {describe_value(device)}")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be None, a torch.device or a device string like 'cpu', got {device!r}") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asks for CUDA, which is not available here")
    return resolved


def _check_data(data: Any) -> tuple[torch.Tensor, ...]:
    tensors = []
    for name in ("X_train", "y_train", "X_val", "y_val"):
        value = getattr(data, name, None)
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"data must have tensors X_train, y_train, X_val and y_val (e.g. a DataSplits); "
                f"data.{name} is {type(value).__name__}"
            )
        tensors.append(value)
    tensors[1], tensors[3] = _check_targets(tensors[1], "data.y_train"), _check_targets(tensors[3], "data.y_val")
    for split, (X, y) in (("train", tensors[:2]), ("val", tensors[2:])):
        if X.ndim == 0 or len(X) == 0 or y.shape[:1] != X.shape[:1]:
            raise ValueError(
                f"data.X_{split} and data.y_{split} must have the same non-zero number of rows, "
                f"got {tuple(X.shape)} and {tuple(y.shape)}"
            )
    return tuple(tensors)


def _check_optimizer(model: nn.Module, optimizer: Any) -> list[nn.Parameter]:
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    model_parameters = {id(p) for p in model.parameters()}
    optimized = [p for group in optimizer.param_groups for p in group["params"]]
    if not optimized or any(id(p) not in model_parameters for p in optimized):
        raise ValueError(
            "optimizer must hold the model's parameters: build it from model.parameters() "
            "after creating this model (it holds parameters of another model)"
        )
    return [p for p in model.parameters() if p.requires_grad]


def _check_scheduler(scheduler: Any, optimizer: torch.optim.Optimizer) -> None:
    if scheduler is None:
        return
    schedulers = (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    if not isinstance(scheduler, schedulers):
        raise TypeError(f"scheduler must be a torch.optim.lr_scheduler scheduler or None, got {type(scheduler).__name__}")
    if scheduler.optimizer is not optimizer:
        raise ValueError("scheduler must be built on the optimizer passed to fit")


@contextmanager
def _training_randomness(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch's generators for the run (dropout masks) and restore them afterwards."""
    devices = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)
        for index in devices:
            torch.cuda.default_generators[index].manual_seed(seed)
        yield


def _training_loss(
    model: nn.Module, loss_fn: LossFunction, X: torch.Tensor, y: torch.Tensor, names: tuple[str, str]
) -> torch.Tensor:
    """The loss of one training batch, with the outputs checked against the targets and a gradient required."""
    outputs = _call_model(model, X, names[0])
    if _is_classification(y):
        _check_label_range(outputs, y, names)
    else:
        _check_target_shape(outputs, y, names)
    loss = _call_loss(loss_fn, outputs, y, names[1])
    if not loss.requires_grad:
        raise ValueError(
            "loss_fn must return a loss computed from the model's outputs (a tensor that requires grad), "
            "got one without a gradient"
        )
    return loss


def _train_one_epoch(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFunction,
    batch_size: int | None,
    clip_grad_norm: float | None,
    penalty: Callable[[nn.Module], torch.Tensor] | None,
    parameters: list[nn.Parameter],
    generator: torch.Generator,
) -> float:
    """One pass over the training data in training mode; returns the mean mini-batch loss."""
    model.train()
    batch_losses, batch_sizes = [], []
    for xb, yb in _minibatches(X, y, batch_size, True, generator):
        optimizer.zero_grad(set_to_none=True)
        loss = _training_loss(model, loss_fn, xb, yb, ("data.X_train", "data.y_train"))
        objective = loss if penalty is None else loss + _penalty_value(penalty, model, loss)
        objective.backward()
        if clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(parameters, clip_grad_norm)
        optimizer.step()
        batch_losses.append(loss.detach())
        batch_sizes.append(len(xb))
    weights = torch.tensor(batch_sizes, dtype=batch_losses[0].dtype, device=batch_losses[0].device)
    return (torch.stack(batch_losses) @ weights).item() / len(X)


def _penalty_value(penalty: Callable[[nn.Module], torch.Tensor], model: nn.Module, loss: torch.Tensor) -> torch.Tensor:
    """``penalty(model)``, a scalar tensor; NaN or inf next to a finite loss is the penalty's fault (ValueError)."""
    try:
        value = penalty(model)
    except (TypeError, ValueError) as error:
        raise type(error)(f"penalty(model) raised {type(error).__name__}: {error}") from error
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        got = f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else describe_value(value)
        raise TypeError(f"penalty must return a scalar tensor, got {got}")
    if not bool(torch.isfinite(value.detach()).all()) and bool(torch.isfinite(loss.detach())):
        raise ValueError(f"penalty(model) returned {value.item()} while the loss is finite: the penalty must be finite")
    return value.reshape(())


def fit(
    model: nn.Module,
    data: Any,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFunction,
    epochs: int,
    *,
    batch_size: int | None = None,
    early_stopping_patience: int | None = None,
    restore_best: bool = True,
    target_train_loss: float | None = None,
    clip_grad_norm: float | None = None,
    scheduler: Any = None,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    on_epoch_end: Callable[[int, nn.Module], None] | None = None,
    device: str | torch.device | None = None,
    progress: bool = True,
    desc: str = "training",
    seed: int = 0,
) -> History:
    """Train ``model`` on ``data`` for up to ``epochs`` epochs and return its :class:`History`.

    Each epoch: mini-batch updates in training mode, then the training and
    validation loss (and accuracy) measured in evaluation mode without
    gradients, then the scheduler step and the early-stopping rule (see the
    module docstring). The model ends in **evaluation mode** on ``device``.

    Args:
        model: the network; moved to ``device`` (in place, so ``optimizer``
            keeps pointing at its parameters).
        data: a :class:`course_lib.data.DataSplits`, or anything with tensors
            ``X_train``, ``y_train``, ``X_val``, ``y_val``.
        optimizer: a ``torch.optim`` optimizer built on ``model``'s parameters.
        loss_fn: ``loss_fn(outputs, targets)`` -> the *mean* loss of a batch
            as a scalar tensor (e.g. ``nn.CrossEntropyLoss()``).
        epochs: maximum number of passes over the training set (int >= 1).
        batch_size: mini-batch size (int >= 1); ``None`` = full batch
            (gradient descent).
        early_stopping_patience: stop once this many epochs in a row have not
            improved the validation loss (rule: :func:`early_stop_epoch`);
            ``None`` trains all ``epochs``.
        restore_best: with early stopping, end with the weights (and buffers)
            of :attr:`History.best_epoch`, whether or not training stopped
            early. Without early stopping the model keeps its final weights.
        target_train_loss: stop after the first epoch whose training loss
            (evaluation mode, ``history.train_loss``) is at most this (a
            finite number >= 0), e.g. to compare runs at equal training loss;
            the model keeps that epoch's weights unless early stopping
            restores an earlier best one. ``None``: no such rule.
        clip_grad_norm: rescale the gradient before each step so its global
            L2 norm is at most this (> 0), via ``nn.utils.clip_grad_norm_``.
        scheduler: a ``torch.optim.lr_scheduler`` scheduler on ``optimizer``,
            stepped once per epoch (``ReduceLROnPlateau`` is given the
            validation loss).
        penalty: ``penalty(model)`` -> a scalar added to the training objective
            of every batch (e.g. an L1 term); the reported losses exclude it.
        device: where to train; default CUDA if available, else CPU.
        progress: show a tqdm progress bar over epochs
            (:data:`PROGRESS_BAR_FORMAT`: counts only, no timings).
        desc: the progress bar's label.
        seed: seeds the mini-batch order (a dedicated CPU ``torch.Generator``)
            and torch's global generators for the run (dropout masks) inside
            ``torch.random.fork_rng``: the same seed, initial weights and data
            give the same run, and the global random state is left as it was.
            An int in ``[0, 2**64 - 1]`` (what ``torch.Generator.manual_seed`` takes).

    Raises ``TypeError`` if ``loss_fn`` is not callable, and ``ValueError``
    if ``model`` is an ``nn.Sequential`` starting with an ``nn.Linear`` whose
    ``in_features`` differs from the last dimension of ``data.X_train`` /
    ``data.X_val``.

    Returns:
        The :class:`History`. If a loss becomes NaN or infinite, training stops
        at that epoch with ``history.diverged = True`` (and, with early
        stopping and ``restore_best``, the best finite epoch is restored).

    Example:
        >>> data = load_digits_splits()                       # doctest: +SKIP
        >>> model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        >>> history = fit(model, data, torch.optim.Adam(model.parameters(), 1e-3),
        ...               nn.CrossEntropyLoss(), 100, batch_size=64,
        ...               early_stopping_patience=10)          # doctest: +SKIP
        >>> print(history.summary())                           # doctest: +SKIP
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    X_train, y_train, X_val, y_val = _check_data(data)
    X_train, X_val = _check_features(model, X_train, "data.X_train"), _check_features(model, X_val, "data.X_val")
    parameters = _check_optimizer(model, optimizer)
    _check_loss_fn(loss_fn)
    _check_input_width(model, X_train, "data.X_train")
    _check_input_width(model, X_val, "data.X_val")
    epochs = check_int("epochs", epochs, minimum=1)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    patience = None if early_stopping_patience is None else _check_patience(
        early_stopping_patience, "early_stopping_patience"
    )
    restore_best = check_bool("restore_best", restore_best)
    if target_train_loss is not None:
        target_train_loss = check_non_negative("target_train_loss", target_train_loss)
    if clip_grad_norm is not None:
        clip_grad_norm = check_positive("clip_grad_norm", clip_grad_norm)
    _check_scheduler(scheduler, optimizer)
    if penalty is not None and not callable(penalty):
        raise TypeError(f"penalty must be callable or None, got {type(penalty).__name__}")
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise TypeError(f"on_epoch_end must be callable or None, got {type(on_epoch_end).__name__}")
    device = _resolve_device(device)
    progress = check_bool("progress", progress)
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a str, got {describe_value(desc)}")
    seed = _check_seed(seed)

    model.to(device)
    X_train, y_train, X_val, y_val = (t.to(device) for t in (X_train, y_train, X_val, y_val))
    classification = _is_classification(y_train)
    history = History(train_accuracy=[] if classification else None, val_accuracy=[] if classification else None)
    tracker = _ImprovementTracker(patience)
    keep_best = patience is not None and restore_best
    best_state: dict[str, torch.Tensor] | None = None
    shuffle_generator = torch.Generator().manual_seed(seed)

    bar = tqdm(total=epochs, desc=desc, bar_format=PROGRESS_BAR_FORMAT, disable=not progress, leave=True)
    with bar, _training_randomness(seed, device):
        for epoch in range(epochs):
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            batch_loss = _train_one_epoch(
                model, X_train, y_train, optimizer, loss_fn, batch_size, clip_grad_norm, penalty, parameters,
                shuffle_generator,
            )
            model.eval()
            train_loss, train_accuracy = _measure(model, X_train, y_train, loss_fn, ("data.X_train", "data.y_train"))
            val_loss, val_accuracy = _measure(model, X_val, y_val, loss_fn, ("data.X_val", "data.y_val"))
            history.train_batch_loss.append(batch_loss)
            history.train_loss.append(train_loss)
            history.val_loss.append(val_loss)
            if classification:
                history.train_accuracy.append(train_accuracy)
                history.val_accuracy.append(val_accuracy)
            bar.update(1)
            if on_epoch_end is not None:
                with torch.no_grad():
                    try:
                        on_epoch_end(epoch, model)
                    except (TypeError, ValueError) as error:
                        raise type(error)(f"on_epoch_end(epoch, model) raised {type(error).__name__}: {error}") from error

            if not all(math.isfinite(v) for v in (batch_loss, train_loss, val_loss)):
                history.diverged, history.stopped_epoch = True, epoch
                break
            if tracker.update(val_loss):
                history.best_epoch = epoch
                if keep_best:
                    best_state = copy.deepcopy(model.state_dict())
            if scheduler is not None:
                if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(val_loss)
                else:
                    scheduler.step()
            reached = target_train_loss is not None and train_loss <= target_train_loss
            if (tracker.should_stop or reached) and epoch < epochs - 1:
                history.stopped_epoch = epoch
                break
        if history.stopped_epoch is not None:
            bar.set_description_str(f"{desc} (stopped early)" if not history.diverged else f"{desc} (diverged)")
            bar.total = bar.n  # close as complete, not as an error

    if keep_best and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


MAX_OVERFIT_STEPS = 100_000
"""The most steps :func:`overfit_one_batch` takes (the test needs a few hundred)."""

MAX_OVERFIT_LR = 10.0
"""The largest Adam learning rate :func:`overfit_one_batch` takes (Adam's step is about ``lr`` per weight)."""


def overfit_one_batch(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    loss_fn: LossFunction,
    *,
    steps: int = 200,
    lr: float = 1e-3,
    seed: int = 0,
) -> list[float]:
    r"""The overfit-one-batch test: train ``model`` on the single batch ``(X, y)`` with Adam; the loss of every step.

    Before tuning a regularizer, check that the network can fit at all: a
    model, loss and data pipeline without bugs drive the loss of a few dozen
    examples to nearly zero within a few hundred Adam steps (the network has
    far more parameters than the batch has labels). A loss that stalls well
    above zero points at a bug (a softmax before ``nn.CrossEntropyLoss``,
    detached outputs, mismatched labels, a frozen layer), which no amount of
    regularization tuning will fix. Switch dropout and other noise off for
    the test (``p = 0``), or the loss cannot reach zero.

    ``model`` is trained in place, in training mode, with
    ``torch.optim.Adam(model.parameters(), lr)``; it is left in evaluation mode.

    Args:
        model: the network to test.
        X, y: one batch: features ``(B, ...)`` and class indices or regression
            targets with ``B`` rows.
        loss_fn: ``loss_fn(outputs, y)`` -> a scalar loss (e.g. ``nn.CrossEntropyLoss()``).
        steps: number of full-batch steps, an int in ``[1, MAX_OVERFIT_STEPS]``.
        lr: Adam's learning rate, in ``(0, MAX_OVERFIT_LR]``.
        seed: seeds torch's global generators for the run (dropout masks), restored afterwards.

    Returns:
        The loss before each of the ``steps`` updates (training mode), as floats.

    Example:
        >>> _ = torch.manual_seed(0)  # the initial weights
        >>> generator = torch.Generator().manual_seed(0)
        >>> X, y = torch.randn(32, 40, generator=generator), torch.arange(32) % 10
        >>> model = nn.Sequential(nn.Linear(40, 64), nn.ReLU(), nn.Linear(64, 10))
        >>> losses = overfit_one_batch(model, X, y, nn.CrossEntropyLoss(), steps=300, lr=0.01)
        >>> losses[0] > 1.0 and losses[-1] < 0.01
        True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    X, y = _check_features(model, X, "X"), _check_targets(y, "y")
    if X.ndim == 0 or y.ndim == 0:
        name, value = ("X", X) if X.ndim == 0 else ("y", y)
        raise ValueError(f"{name} must have a batch dimension (one row per example), got a 0-d tensor {value.item()!r}")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows, got {len(X)} and {len(y)}")
    if len(X) == 0:
        raise ValueError("X must hold at least one example, got 0 rows")
    _check_loss_fn(loss_fn)
    _check_input_width(model, X, "X")
    steps = check_int("steps", steps, minimum=1)
    if steps > MAX_OVERFIT_STEPS:
        raise ValueError(f"steps must be an int in [1, {MAX_OVERFIT_STEPS}], got {steps}")
    lr = check_positive("lr", lr)
    if lr > MAX_OVERFIT_LR:
        raise ValueError(f"lr must be a number in (0, {MAX_OVERFIT_LR:g}] (Adam's step size), got {lr!r}")
    seed = _check_seed(seed)
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise ValueError("model has no trainable parameters (every requires_grad is False)")
    optimizer = torch.optim.Adam(parameters, lr=lr)
    losses = []
    device = next(iter(parameters)).device
    with _training_randomness(seed, device):
        model.train()
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            loss = _training_loss(model, loss_fn, X, y, ("X", "y"))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    return losses
