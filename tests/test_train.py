"""Tests for course_lib.train: the early-stopping rule, fit and its History."""

from __future__ import annotations

import copy
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from course_lib.data import DataSplits
from course_lib.synthetic import make_gap_regression, make_two_moons
from course_lib.train import (
    PROGRESS_BAR_FORMAT,
    Evaluation,
    History,
    best_epoch,
    early_stop_epoch,
    evaluate,
    fit,
    overfit_one_batch,
)

# --- early_stop_epoch and best_epoch --------------------------------------------------------


@pytest.mark.parametrize(
    ("losses", "patience", "expected"),
    [
        ([1.0], 1, 0),  # a single epoch: nothing to wait for
        ([1.0, 2.0], 1, 1),  # epoch 1 fails to improve: stop after it
        ([1.0, 0.8, 0.9, 0.85, 0.7], 2, 3),  # epochs 2 and 3 fail
        ([1.0, 0.8, 0.9, 0.7, 0.75], 2, 4),  # epoch 3 improves, so only epoch 4 failed: run to the end
        ([1.0, 0.8, 0.9, 0.7, 0.75, 0.76], 2, 5),
        ([3.0, 2.0, 1.0, 0.5], 1, 3),  # always improving
        ([1.0, 1.0, 1.0], 2, 2),  # an equal loss is not an improvement
        ([1.0, 1.0, 1.0], 3, 2),  # ...but patience 3 is never exhausted in 3 epochs
        ([5.0, 4.0, 4.5, 3.0, 3.5, 3.2, 3.1, 2.0], 3, 6),  # 3.5, 3.2, 3.1 are all above 3.0
        ([5.0, 4.0, 4.5, 3.0, 3.5, 3.2, 3.1, 2.0], 4, 7),
        ([2.0, 3.0, 1.0, 4.0, 5.0, 6.0], 3, 5),
    ],
)
def test_early_stop_epoch_on_hand_worked_examples(losses, patience, expected):
    assert early_stop_epoch(losses, patience) == expected


def _stop_by_definition(losses: list[float], patience: int) -> tuple[int, bool]:
    """The contract restated as literally as possible: (stop epoch, whether the rule fired)."""
    improves = [all(loss < earlier for earlier in losses[:epoch]) for epoch, loss in enumerate(losses)]
    for e in range(len(losses)):
        window = range(e - patience + 1, e + 1)
        if window.start >= 0 and not any(improves[i] for i in window):
            return e, True
    return len(losses) - 1, False


losses_with_ties = st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 2.5, 3.0]), min_size=1, max_size=25)
free_losses = st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=25)


@given(losses=st.one_of(losses_with_ties, free_losses), patience=st.integers(1, 8))
def test_early_stop_epoch_matches_the_definition(losses, patience):
    stop = early_stop_epoch(losses, patience)
    expected, fired = _stop_by_definition(losses, patience)
    assert stop == expected
    # best_epoch up to the stop is the first minimum there; when the rule fired, it lies patience back
    best = best_epoch(losses, patience)
    assert losses[best] == min(losses[: stop + 1]) and losses[best] not in losses[:best]
    if fired:
        assert best == stop - patience


def test_early_stop_epoch_accepts_arrays_and_tensors():
    assert early_stop_epoch(torch.tensor([1.0, 2.0, 3.0]), 2) == 2
    import numpy as np

    assert early_stop_epoch(np.array([1.0, 0.5, 0.7]), 1) == 2
    assert best_epoch((3, 1, 2, 1)) == 1


@pytest.mark.parametrize(
    ("patience", "error", "message"),
    [
        (0, ValueError, "patience must be an int >= 1, got 0"),
        (-2, ValueError, "patience must be an int >= 1"),
        (1.5, TypeError, "patience must be an int, got float"),
        (2.0, TypeError, "patience must be an int"),
        (True, TypeError, "patience must be an int, got bool"),
        ("3", TypeError, "patience must be an int"),
        (None, TypeError, "patience must be an int"),
    ],
)
def test_early_stop_epoch_rejects_a_bad_patience(patience, error, message):
    with pytest.raises(error, match=message):
        early_stop_epoch([1.0, 2.0], patience)


@pytest.mark.parametrize(
    ("losses", "error", "message"),
    [
        ([], ValueError, "val_losses must hold at least one loss"),
        ([1.0, float("nan"), 0.5], ValueError, "val_losses must be finite, got nan at epoch 1"),
        ([float("inf")], ValueError, "val_losses must be finite"),
        ([1.0, "0.5"], ValueError, "val_losses must hold numbers"),
        ([1.0, None], ValueError, "val_losses must hold numbers"),
        ([1.0, True], ValueError, "val_losses must hold numbers"),
        (0.5, TypeError, "val_losses must be a sequence"),
        ("1.0", TypeError, "val_losses must be a sequence"),
        (torch.ones(2, 2), ValueError, "val_losses must be a 1-D sequence"),
    ],
)
def test_early_stop_epoch_and_best_epoch_reject_bad_losses(losses, error, message):
    with pytest.raises(error, match=message):
        early_stop_epoch(losses, 2)
    with pytest.raises(error, match=message):
        best_epoch(losses)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moons() -> DataSplits:
    return make_two_moons(n_samples=300, noise_std=0.15, seed=0)


@pytest.fixture(scope="module")
def small_moons() -> DataSplits:
    """Few noisy training points: a wide network over-fits them within a few dozen epochs."""
    return make_two_moons(n_samples=60, noise_std=0.35, seed=1)


def _mlp(inputs: int = 2, hidden: int = 32, outputs: int = 2, dropout: float = 0.0, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(inputs, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, outputs))
    return nn.Sequential(*layers)


def _fit(model: nn.Module, data, epochs: int, *, lr: float = 0.05, optimizer=None, **kwargs) -> History:
    optimizer = optimizer if optimizer is not None else torch.optim.Adam(model.parameters(), lr=lr)
    kwargs.setdefault("progress", False)
    return fit(model, data, optimizer, kwargs.pop("loss_fn", nn.CrossEntropyLoss()), epochs, **kwargs)


def _parameters(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.state_dict().values()]


def _same_parameters(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


# --- fit: learning, recording, modes ---------------------------------------------------------


def test_fit_learns_a_learnable_problem(moons):
    model = _mlp()
    before = evaluate(model, moons.X_val, moons.y_val, nn.CrossEntropyLoss())
    history = _fit(model, moons, 60, batch_size=32)
    assert history.epochs_run == 60 and history.stopped_epoch is None and not history.diverged
    assert history.train_loss[-1] < 0.3 * history.train_loss[0]
    assert history.val_loss[-1] < 0.5 * before.loss
    assert history.val_accuracy[-1] > 0.9
    after = evaluate(model, moons.X_test, moons.y_test, nn.CrossEntropyLoss())
    assert after.accuracy > 0.9


def test_history_holds_plain_floats_one_per_epoch(moons):
    history = _fit(_mlp(), moons, 5, batch_size=64)
    for name in ("train_loss", "val_loss", "train_batch_loss", "train_accuracy", "val_accuracy", "lr"):
        values = getattr(history, name)
        assert len(values) == 5 and all(type(v) is float for v in values), name
    assert all(0.0 <= a <= 1.0 for a in history.train_accuracy + history.val_accuracy)


def test_regression_records_no_accuracy():
    data = make_gap_regression(n_train=40, seed=0)
    model = _mlp(inputs=1, hidden=32, outputs=1)
    history = _fit(model, data, 40, lr=0.01, loss_fn=nn.MSELoss(), batch_size=10)
    assert history.train_accuracy is None and history.val_accuracy is None
    assert history.train_loss[-1] < history.train_loss[0]
    assert "acc" not in history.summary()


def test_fit_accepts_any_object_with_the_four_tensors(moons):
    plain = SimpleNamespace(X_train=moons.X_train, y_train=moons.y_train, X_val=moons.X_val, y_val=moons.y_val)
    a = _fit(_mlp(), plain, 3, batch_size=50)
    b = _fit(_mlp(), moons, 3, batch_size=50)
    assert a.val_loss == b.val_loss


class ModeSpy(nn.Module):
    """Wraps a model and records (grad enabled, training mode) for every forward pass."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((torch.is_grad_enabled(), self.training))
        return self.inner(x)


def test_training_steps_use_train_mode_and_measurements_eval_mode_without_grad(moons):
    spy = ModeSpy(_mlp(dropout=0.5))
    _fit(spy, moons, 3, batch_size=60)
    steps_per_epoch = math.ceil(len(moons.y_train) / 60)
    assert spy.calls.count((True, True)) == 3 * steps_per_epoch  # every update: grad on, train mode
    assert spy.calls.count((False, False)) == 3 * 2  # train and validation measurement per epoch
    assert len(spy.calls) == 3 * (steps_per_epoch + 2)
    assert not spy.training  # fit leaves the model in evaluation mode


def test_validation_numbers_are_the_eval_mode_numbers_despite_dropout(moons):
    model = _mlp(hidden=64, dropout=0.5)
    history = _fit(model, moons, 4, batch_size=32)
    loss_fn = nn.CrossEntropyLoss()
    model.train()  # evaluate must switch to eval itself, then restore the mode
    first = evaluate(model, moons.X_val, moons.y_val, loss_fn)
    second = evaluate(model, moons.X_val, moons.y_val, loss_fn)
    assert model.training
    assert first == second  # dropout off: identical numbers twice
    assert history.val_loss[-1] == pytest.approx(first.loss, rel=1e-6)
    assert history.val_accuracy[-1] == first.accuracy
    with torch.no_grad():
        model.eval()
        direct = loss_fn(model(moons.X_train), moons.y_train).item()
    assert history.train_loss[-1] == pytest.approx(direct, rel=1e-6)
    # the training-mode batch losses saw dropout: they differ from the eval-mode training loss
    assert history.train_batch_loss[-1] != pytest.approx(history.train_loss[-1], rel=1e-3)


# --- early stopping and best-weight restore ------------------------------------------------


def test_early_stopping_stops_where_early_stop_epoch_says_and_restores_the_best_weights(small_moons):
    patience, epochs = 5, 150
    initial = _mlp(hidden=128, seed=3)
    full_model = copy.deepcopy(initial)
    full = _fit(full_model, small_moons, epochs, lr=0.03, batch_size=16)
    expected_stop = early_stop_epoch(full.val_loss, patience)
    assert expected_stop < epochs - 1, "the set-up must over-fit so that early stopping triggers"

    stopped_model = copy.deepcopy(initial)
    stopped = _fit(stopped_model, small_moons, epochs, lr=0.03, batch_size=16, early_stopping_patience=patience)
    assert stopped.stopped_epoch == expected_stop
    assert stopped.epochs_run == expected_stop + 1
    assert stopped.val_loss == full.val_loss[: expected_stop + 1]  # same seed: the same run, cut short
    assert stopped.best_epoch == best_epoch(full.val_loss, patience) == expected_stop - patience

    # the restored weights are those after the best epoch: retrain exactly that many epochs to compare
    best_model = copy.deepcopy(initial)
    _fit(best_model, small_moons, stopped.best_epoch + 1, lr=0.03, batch_size=16)
    assert _same_parameters(_parameters(stopped_model), _parameters(best_model))
    assert not _same_parameters(_parameters(stopped_model), _parameters(full_model))
    assert not stopped_model.training


def test_on_epoch_end_sees_every_epoch_in_eval_mode_with_that_epochs_weights(small_moons):
    calls: list[tuple[int, bool, bool, list[torch.Tensor]]] = []

    def record(epoch: int, model: nn.Module) -> None:
        calls.append((epoch, model.training, torch.is_grad_enabled(), _parameters(model)))

    initial = _mlp(hidden=128, seed=3)
    stopped_model = copy.deepcopy(initial)
    history = _fit(stopped_model, small_moons, 150, lr=0.03, batch_size=16, early_stopping_patience=5,
                   restore_best=False, on_epoch_end=record)
    assert history.stopped_epoch is not None
    assert [epoch for epoch, *_ in calls] == list(range(history.epochs_run))
    assert not any(training or grad for _, training, grad, _ in calls)
    assert _same_parameters(calls[-1][3], _parameters(stopped_model))
    two_epochs = copy.deepcopy(initial)
    _fit(two_epochs, small_moons, 2, lr=0.03, batch_size=16)
    assert _same_parameters(calls[1][3], _parameters(two_epochs))


def test_restore_best_false_keeps_the_last_weights(small_moons):
    initial = _mlp(hidden=128, seed=3)
    kept = copy.deepcopy(initial)
    history = _fit(kept, small_moons, 150, lr=0.03, batch_size=16, early_stopping_patience=5, restore_best=False)
    last = copy.deepcopy(initial)
    _fit(last, small_moons, history.epochs_run, lr=0.03, batch_size=16)
    assert history.best_epoch < history.epochs_run - 1
    assert _same_parameters(_parameters(kept), _parameters(last))


def test_without_early_stopping_the_final_weights_are_kept(small_moons):
    initial = _mlp(hidden=128, seed=3)
    a, b = copy.deepcopy(initial), copy.deepcopy(initial)
    history = _fit(a, small_moons, 40, lr=0.03, batch_size=16, restore_best=True)
    _fit(b, small_moons, 40, lr=0.03, batch_size=16, restore_best=False)
    assert history.stopped_epoch is None and history.best_epoch == best_epoch(history.val_loss)
    assert _same_parameters(_parameters(a), _parameters(b))



def test_target_train_loss_stops_at_the_first_epoch_that_reaches_it(small_moons):
    initial = _mlp(hidden=128, seed=3)
    full = _fit(copy.deepcopy(initial), small_moons, 60, lr=0.03, batch_size=16)
    target = full.train_loss[20]
    expected = next(e for e, loss in enumerate(full.train_loss) if loss <= target)
    stopped_model = copy.deepcopy(initial)
    stopped = _fit(stopped_model, small_moons, 60, lr=0.03, batch_size=16, target_train_loss=target)
    assert stopped.epochs_run == expected + 1 and stopped.stopped_epoch == expected
    assert stopped.train_loss == full.train_loss[: expected + 1]
    assert stopped.train_loss[-1] <= target < min(stopped.train_loss[:-1], default=float("inf"))
    # the stopped model is the one of that epoch: the same as training exactly that many epochs
    same = copy.deepcopy(initial)
    _fit(same, small_moons, expected + 1, lr=0.03, batch_size=16)
    assert _same_parameters(_parameters(stopped_model), _parameters(same))
    assert "early stop after epoch" in stopped.summary()


def test_an_unreached_target_train_loss_runs_every_epoch(small_moons):
    history = _fit(_mlp(), small_moons, 3, lr=0.001, target_train_loss=0.0)
    assert history.epochs_run == 3 and history.stopped_epoch is None



def test_overfit_one_batch_drives_a_correct_model_to_zero_loss_and_exposes_a_double_softmax():
    X = torch.tensor(np.random.default_rng(0).normal(size=(32, 10)), dtype=torch.float32)
    y = torch.arange(32) % 4
    correct = _mlp(inputs=10, hidden=64, outputs=4, seed=1)
    losses = overfit_one_batch(correct, X, y, nn.CrossEntropyLoss(), steps=300, lr=0.01)
    assert len(losses) == 300 and losses[-1] < 0.01 and not correct.training
    # the classic bug: probabilities fed to a loss that applies log-softmax itself. Even with every
    # example classified correctly and confidently the loss cannot fall below log(1 + (K-1)/e).
    buggy = nn.Sequential(_mlp(inputs=10, hidden=64, outputs=4, seed=1), nn.Softmax(dim=1))
    stalled = overfit_one_batch(buggy, X, y, nn.CrossEntropyLoss(), steps=300, lr=0.01)
    floor = math.log(1 + 3 / math.e)
    assert min(stalled) > floor - 1e-6 and stalled[-1] < floor + 0.05
    assert (buggy(X).argmax(1) == y).all()


def test_overfit_one_batch_is_reproducible_and_restores_the_random_state():
    X = torch.tensor(np.random.default_rng(0).normal(size=(16, 10)), dtype=torch.float32)
    y = torch.arange(16) % 2
    models = [_mlp(inputs=10, dropout=0.5, seed=2) for _ in range(3)]
    state = torch.random.get_rng_state()
    first, again, other = (overfit_one_batch(m, X, y, nn.CrossEntropyLoss(), steps=5, seed=s)
                           for m, s in zip(models, (7, 7, 8)))
    assert first == again and first != other
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": 0}, ValueError, "steps must be an int >= 1, got 0"),
        ({"lr": 0.0}, ValueError, "lr must be a finite number > 0, got 0.0"),
        ({"lr": 100.0}, ValueError, r"lr must be a number in \(0, 10\] \(Adam's step size\), got 100.0"),
        ({"steps": 10**6}, ValueError, r"steps must be an int in \[1, 100000\], got 1000000"),
        ({"X": torch.tensor(1.0)}, ValueError, "X must have a batch dimension"),
        ({"y": torch.zeros(5, dtype=torch.long)}, ValueError, "X and y must have the same number of rows, got 8 and 5"),
        ({"loss_fn": None}, TypeError, "loss_fn must be callable"),
        ({"model": "mlp"}, TypeError, "model must be a torch.nn.Module, got str"),
    ],
)
def test_overfit_one_batch_rejects_bad_arguments_by_name(kwargs, error, message):
    X = torch.zeros(8, 2)
    arguments = {"model": _mlp(), "X": X, "y": torch.zeros(8, dtype=torch.long), "loss_fn": nn.CrossEntropyLoss(), **kwargs}
    with pytest.raises(error, match=message):
        overfit_one_batch(**arguments)


def test_overfit_one_batch_rejects_a_model_without_trainable_parameters():
    model = _mlp()
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="model has no trainable parameters"):
        overfit_one_batch(model, torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), nn.CrossEntropyLoss())


# --- gradient clipping, schedulers, penalty, divergence --------------------------------------


class NormRecordingSGD(torch.optim.SGD):
    """SGD that records the global gradient norm it is asked to apply."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.norms: list[float] = []

    def step(self, closure=None):
        grads = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
        self.norms.append(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])).item())
        return super().step(closure)


def _large_target_regression() -> DataSplits:
    data = make_gap_regression(seed=0)
    scale = 100.0  # large targets: large gradients
    return DataSplits(
        name="scaled", feature_names=("x",), X_train=data.X_train, y_train=data.y_train * scale,
        X_val=data.X_val, y_val=data.y_val * scale, X_test=data.X_test, y_test=data.y_test * scale,
    )


@pytest.mark.parametrize("clip", [None, 0.5])
def test_gradient_clipping_bounds_the_applied_gradient_norm(clip):
    data = _large_target_regression()
    model = _mlp(inputs=1, outputs=1)
    optimizer = NormRecordingSGD(model.parameters(), lr=1e-4)
    _fit(model, data, 5, optimizer=optimizer, loss_fn=nn.MSELoss(), batch_size=8, clip_grad_norm=clip)
    assert len(optimizer.norms) == 5 * 5
    if clip is None:
        assert max(optimizer.norms) > 10  # the test can fail: without clipping the norms are large
    else:
        assert max(optimizer.norms) <= clip * (1 + 1e-5)


def test_scheduler_is_stepped_once_per_epoch(moons):
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    history = _fit(model, moons, 5, optimizer=optimizer, batch_size=32, scheduler=scheduler)
    assert history.lr == [0.4, 0.4, 0.2, 0.2, 0.1]


class RecordingPlateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.metrics: list[float] = []

    def step(self, metrics, epoch=None):
        self.metrics.append(metrics)
        return super().step(metrics)


def test_reduce_on_plateau_is_given_the_validation_loss(moons):
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.4)
    # mode="max" with a huge threshold: no epoch counts as an improvement after the first
    scheduler = RecordingPlateau(optimizer, mode="max", factor=0.5, patience=0, threshold=10.0)
    history = _fit(model, moons, 4, optimizer=optimizer, batch_size=32, scheduler=scheduler)
    assert scheduler.metrics == history.val_loss
    assert history.lr == [0.4, 0.4, 0.2, 0.1]


def test_penalty_enters_training_but_not_the_reported_losses(moons):
    def l2(model: nn.Module) -> torch.Tensor:
        return 1.0 * sum((p**2).sum() for p in model.parameters())

    plain, penalised = _mlp(), _mlp()
    _fit(plain, moons, 20, batch_size=32)
    history = _fit(penalised, moons, 20, batch_size=32, penalty=l2)
    norm = lambda m: sum((p**2).sum() for p in m.parameters()).item()  # noqa: E731
    assert norm(penalised) < 0.5 * norm(plain)
    assert history.train_loss[-1] == pytest.approx(
        evaluate(penalised, moons.X_train, moons.y_train, nn.CrossEntropyLoss()).loss, rel=1e-6
    )


def test_divergence_stops_training_and_is_flagged():
    data = _large_target_regression()
    model = _mlp(inputs=1, outputs=1)
    history = _fit(model, data, 50, optimizer=torch.optim.SGD(model.parameters(), lr=10.0), loss_fn=nn.MSELoss())
    assert history.diverged and history.stopped_epoch == history.epochs_run - 1 < 49
    assert not math.isfinite(history.val_loss[-1])
    assert "diverged at epoch" in history.summary()


# --- reproducibility, randomness, devices -----------------------------------------------------


def test_same_seed_same_run_and_another_seed_another_run(moons):
    runs = []
    for seed in (0, 0, 1):
        model = _mlp(dropout=0.3)
        runs.append((_fit(model, moons, 4, batch_size=16, seed=seed), _parameters(model)))
    (h0, p0), (h1, p1), (h2, p2) = runs
    assert h0.val_loss == h1.val_loss and h0.train_batch_loss == h1.train_batch_loss
    assert _same_parameters(p0, p1)
    assert h0.val_loss != h2.val_loss


def test_fit_leaves_the_global_random_state_alone(moons):
    model = _mlp(dropout=0.5)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _fit(model, moons, 2, batch_size=32)
    assert torch.equal(torch.rand(3), expected)


def test_device_argument_is_honoured(moons, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # CUDA would be the default...
    model = _mlp()
    history = _fit(model, moons, 2, batch_size=64, device="cpu")  # ...but the argument wins
    assert history.epochs_run == 2
    assert all(p.device.type == "cpu" for p in model.parameters())
    _fit(model, moons, 1, device=torch.device("cpu"))


def test_unavailable_or_malformed_devices_are_rejected(moons):
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="asks for CUDA, which is not available"):
            _fit(_mlp(), moons, 1, device="cuda")
    with pytest.raises(ValueError, match="device must be None, a torch.device or a device string"):
        _fit(_mlp(), moons, 1, device="graphics-card")


def test_batch_size_larger_than_the_data_is_full_batch(moons):
    a, b = _mlp(), _mlp()
    assert _fit(a, moons, 3, batch_size=10_000).val_loss == _fit(b, moons, 3).val_loss


# --- the progress bar ----------------------------------------------------------------------------


def test_progress_bar_shows_counts_but_no_timings(moons, capsys):
    _fit(_mlp(), moons, 3, progress=True, desc="moons")
    err = capsys.readouterr().err
    assert "moons" in err and "3/3 epochs" in err
    assert not re.search(r"\d\d:\d\d|it/s|s/it|\?", err)
    for field in ("elapsed", "remaining", "rate"):
        assert field not in PROGRESS_BAR_FORMAT
    _fit(_mlp(), moons, 3, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_bar_reports_an_early_stop(small_moons, capsys):
    history = _fit(_mlp(hidden=128, seed=3), small_moons, 150, lr=0.03, batch_size=16,
                   early_stopping_patience=5, progress=True)
    err = capsys.readouterr().err
    assert "(stopped early): 100%" in err and f"{history.epochs_run}/{history.epochs_run} epochs" in err


# --- History helpers ----------------------------------------------------------------------------


def _history() -> History:
    return History(
        train_loss=[1.0, 0.5, 0.25, 0.125], val_loss=[1.1, 0.7, 0.6, 0.65], train_batch_loss=[1.2, 0.6, 0.3, 0.2],
        train_accuracy=[0.5, 0.7, 0.9, 1.0], val_accuracy=[0.45, 0.6, 0.7, 0.68], lr=[0.1] * 4,
        best_epoch=2, stopped_epoch=3,
    )


def test_history_gap_summary_and_repr():
    history = _history()
    assert history.epochs_run == 4 and history.best_val_loss == 0.6
    assert history.generalization_gap() == pytest.approx(0.35)
    assert history.generalization_gap(-1) == pytest.approx(0.525)
    assert history.generalization_gap(0) == pytest.approx(0.1)
    assert history.generalization_gaps() == pytest.approx([0.1, 0.2, 0.35, 0.525])
    assert history.summary() == (
        "4 epochs (early stop after epoch 3); best epoch 2: train loss 0.2500, val loss 0.6000, "
        "train acc 90.0%, val acc 70.0%"
    )
    assert repr(history) == "History(epochs_run=4, best_epoch=2, stopped_epoch=3, diverged=False)"
    with pytest.raises(ValueError, match=r"epoch must be in \[-4, 4\), got 4"):
        history.generalization_gap(4)
    with pytest.raises(TypeError, match="epoch must be an int"):
        history.generalization_gap(1.0)


# --- argument validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"epochs": 0}, ValueError, "epochs must be an int >= 1, got 0"),
        ({"epochs": 2.5}, TypeError, "epochs must be an int"),
        ({"epochs": True}, TypeError, "epochs must be an int"),
        ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1, got 0"),
        ({"early_stopping_patience": 0}, ValueError, "early_stopping_patience must be an int >= 1, got 0"),
        ({"early_stopping_patience": 2.0}, TypeError, "early_stopping_patience must be an int"),
        ({"clip_grad_norm": 0.0}, ValueError, "clip_grad_norm must be a finite number > 0, got 0.0"),
        ({"clip_grad_norm": -1}, ValueError, "clip_grad_norm must be a finite number > 0"),
        ({"restore_best": 1}, TypeError, "restore_best must be a bool"),
        ({"target_train_loss": -0.1}, ValueError, "target_train_loss must be a finite number >= 0, got -0.1"),
        ({"target_train_loss": float("nan")}, ValueError, "target_train_loss must be a finite number >= 0"),
        ({"target_train_loss": "0.1"}, TypeError, "target_train_loss must be a"),
        ({"progress": "no"}, TypeError, "progress must be a bool"),
        ({"seed": -1}, ValueError, "seed must be an int >= 0"),
        ({"loss_fn": "cross-entropy"}, TypeError, "loss_fn must be callable"),
        ({"loss_fn": nn.CrossEntropyLoss(reduction="none")}, ValueError, r"loss_fn must return a scalar tensor"),
        ({"penalty": 0.1}, TypeError, "penalty must be callable or None"),
        ({"on_epoch_end": "snapshot"}, TypeError, "on_epoch_end must be callable or None"),
        ({"scheduler": "cosine"}, TypeError, "scheduler must be a torch.optim.lr_scheduler scheduler"),
    ],
)
def test_fit_rejects_bad_arguments_by_name(moons, kwargs, error, message):
    kwargs = {"epochs": 1, **kwargs}
    epochs = kwargs.pop("epochs")
    with pytest.raises(error, match=message):
        _fit(_mlp(), moons, epochs, **kwargs)


def test_fit_rejects_an_optimizer_of_another_model_and_foreign_schedulers(moons):
    model, other = _mlp(), _mlp()
    with pytest.raises(ValueError, match="optimizer must hold the model's parameters"):
        fit(model, moons, torch.optim.SGD(other.parameters(), lr=0.1), nn.CrossEntropyLoss(), 1, progress=False)
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        fit(model, moons, "adam", nn.CrossEntropyLoss(), 1, progress=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    foreign = torch.optim.lr_scheduler.StepLR(torch.optim.SGD(other.parameters(), lr=0.1), 1)
    with pytest.raises(ValueError, match="scheduler must be built on the optimizer passed to fit"):
        fit(model, moons, optimizer, nn.CrossEntropyLoss(), 1, scheduler=foreign, progress=False)


def test_fit_rejects_bad_models_and_data(moons):
    model = _mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fit(lambda x: x, moons, optimizer, nn.CrossEntropyLoss(), 1)
    with pytest.raises(TypeError, match=r"data must have tensors X_train, .* data.X_val is NoneType"):
        fit(model, SimpleNamespace(X_train=moons.X_train, y_train=moons.y_train), optimizer, nn.CrossEntropyLoss(), 1)
    broken = SimpleNamespace(X_train=moons.X_train, y_train=moons.y_train[:-1], X_val=moons.X_val, y_val=moons.y_val)
    with pytest.raises(ValueError, match="data.X_train and data.y_train must have the same non-zero number of rows"):
        fit(model, broken, optimizer, nn.CrossEntropyLoss(), 1)


# --- issue 12: hardening ---------------------------------------------------------------------


@pytest.mark.parametrize("read", [lambda h: h.summary(), lambda h: h.best_val_loss])
def test_empty_history_raises_value_error_saying_it_is_empty(read):
    with pytest.raises(ValueError, match="history is empty"):
        read(History())


def test_evaluate_rejects_a_non_callable_loss_fn(moons):
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        evaluate(_mlp(), moons.X_val, moons.y_val, None)


def test_fit_rejects_a_none_loss_fn(moons):
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        _fit(_mlp(), moons, 1, loss_fn=None)


@pytest.mark.parametrize("seed", [2**64, 2**70])
def test_fit_rejects_a_seed_torch_cannot_take(moons, seed):
    with pytest.raises(ValueError, match=r"seed must be .*got"):
        _fit(_mlp(), moons, 1, seed=seed)


def test_fit_accepts_the_largest_seed(moons):
    assert _fit(_mlp(), moons, 1, seed=2**64 - 1).epochs_run == 1


def test_fit_and_evaluate_check_the_features_against_the_first_linear(moons):
    model = _mlp(inputs=3)
    with pytest.raises(ValueError, match=r"data.X_train must have 3 features.*in_features=3"):
        _fit(model, moons, 1)
    with pytest.raises(ValueError, match=r"X must have 3 features.*in_features=3"):
        evaluate(model, moons.X_val, moons.y_val, nn.CrossEntropyLoss())


# --- the Evaluation record ------------------------------------------------------------------------


def test_evaluation_built_from_valid_fields_is_what_evaluate_returns(moons):
    measured = evaluate(_mlp(), moons.X_val, moons.y_val, nn.CrossEntropyLoss())
    again = Evaluation(*measured)
    assert again == measured and again.loss is measured.loss and again.accuracy is measured.accuracy
    loss, accuracy = Evaluation(loss=measured.loss, accuracy=measured.accuracy)
    assert (loss, accuracy) == tuple(measured) and 0.0 <= measured[1] <= 1.0
    assert repr(Evaluation(0.25, 0.5)) == "Evaluation(loss=0.25, accuracy=0.5)"
    assert repr(Evaluation(1, None)) == "Evaluation(loss=1.0, accuracy=None)"
    assert measured._replace(accuracy=1).accuracy == 1.0


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ((None, 0.5), TypeError, "loss must be a real number, got NoneType None"),
        ((torch.tensor(0.5), 0.5), TypeError, "loss must be a real number, got Tensor"),
        ((0.5, "high"), TypeError, "accuracy must be a real number, got str 'high'"),
        ((0.5, 1.5), ValueError, r"accuracy must be in \[0, 1\], got 1.5"),
        ((0.5, float("nan")), ValueError, r"accuracy must be in \[0, 1\], got nan"),
        ((float("nan"), None), ValueError, "loss must be a finite number, got nan"),
        ((float("inf"), 0.5), ValueError, "loss must be a finite number, got inf"),
    ],
)
def test_evaluation_rejects_a_bad_field_by_name(fields, error, message):
    with pytest.raises(error, match=message):
        Evaluation(*fields)
    with pytest.raises(error, match=message):
        Evaluation(0.0, 0.0)._replace(loss=fields[0], accuracy=fields[1])


# --- issue 12: bad input found by the bad-input tests ------------------------------------------


def test_early_stop_epoch_rejects_an_int_beyond_the_float_range_by_name():
    with pytest.raises(ValueError, match=r"val_losses must be finite, got int .* at epoch 0"):
        early_stop_epoch([10**400, 1.0], patience=1)
    with pytest.raises(ValueError, match=r"val_losses must be finite"):
        best_epoch([1.0, -(10**400)])


def _history_fields(**changes) -> dict:
    fields = dict(
        train_loss=[1.0, 0.5, 0.25, 0.125], val_loss=[1.1, 0.7, 0.6, 0.65], train_batch_loss=[1.2, 0.6, 0.3, 0.2],
        train_accuracy=[0.5, 0.7, 0.9, 1.0], val_accuracy=[0.45, 0.6, 0.7, 0.68], lr=[0.1] * 4,
        best_epoch=2, stopped_epoch=3,
    )
    return {**fields, **changes}


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"train_loss": None}, TypeError, "train_loss must be a list of numbers"),
        ({"train_loss": iter([1.0] * 4)}, TypeError, "train_loss must be a list of numbers"),
        ({"val_loss": [1.1, "0.7", 0.6, 0.65]}, TypeError, "val_loss must hold real numbers, got str '0.7' at epoch 1"),
        ({"lr": [True] * 4}, TypeError, "lr must hold real numbers, got bool"),
        ({"train_batch_loss": [1.2, 0.6, 0.3]}, ValueError, "train_batch_loss must have one entry per epoch: 3 entries, but val_loss has 4"),
        ({"val_accuracy": [0.45, 0.6, 1.7, 0.68]}, ValueError, r"val_accuracy must hold fractions in \[0, 1\]"),
        ({"lr": [0.1, -0.1, 0.1, 0.1]}, ValueError, "lr must hold finite learning rates >= 0"),
        ({"train_loss": [math.nan, 0.5, 0.25, 0.125]}, ValueError, "train_loss must be finite unless diverged=True"),
        ({"best_epoch": 1}, ValueError, r"best_epoch must be the first epoch of lowest val_loss \(2\), got 1"),
        ({"best_epoch": 2.0}, TypeError, "best_epoch must be an int"),
        ({"stopped_epoch": 1}, ValueError, r"stopped_epoch must be None or the last epoch \(3\), got 1"),
        ({"diverged": 1}, TypeError, "diverged must be a bool"),
        ({"diverged": True}, ValueError, "diverged=True needs a NaN or infinite loss in the last epoch"),
        ({"diverged": True, "stopped_epoch": None}, ValueError, "diverged=True needs stopped_epoch at the last epoch"),
        ({"val_loss": [1.1, math.nan, 0.6, math.nan], "diverged": True}, ValueError, "val_loss must be finite before the last epoch of a diverged history"),
    ],
)
def test_history_checks_its_fields_by_name(changes, error, message):
    with pytest.raises(error, match=message):
        History(**_history_fields(**changes))


def test_history_stores_lists_of_floats_and_allows_nan_only_where_training_diverged():
    history = History(**_history_fields(train_loss=np.array([1, 0.5, 0.25, 0.125]), val_loss=(1.1, 0.7, 0.6, 0.65)))
    assert history.train_loss == [1.0, 0.5, 0.25, 0.125] and history.val_loss == [1.1, 0.7, 0.6, 0.65]
    diverged = History(**_history_fields(train_loss=[1.0, 0.5, 0.25, math.inf], val_loss=[1.1, 0.7, 0.6, math.nan], diverged=True))
    assert diverged.diverged and diverged.best_epoch == 2
    assert History().epochs_run == 0


def test_a_diverged_fit_gives_a_consistent_history(moons):
    history = _fit(_mlp(), moons, 5, optimizer=None, lr=1e30)
    History(**{name: getattr(history, name) for name in (
        "train_loss", "val_loss", "train_batch_loss", "train_accuracy", "val_accuracy", "lr", "best_epoch", "stopped_epoch", "diverged")})


def test_evaluate_reports_a_diverged_model_instead_of_a_nan_loss(moons):
    model = _mlp()
    with torch.no_grad():
        model[0].weight.fill_(math.nan)
    with pytest.raises(ValueError, match=r"loss_fn\(model\(X\), y\) is nan: the model's weights or outputs are not finite"):
        evaluate(model, moons.X_val, moons.y_val, nn.CrossEntropyLoss())


@pytest.mark.parametrize(
    ("X", "y", "error", "message"),
    [
        (lambda d: d.X_val.numpy(), lambda d: d.y_val, TypeError, "X must be a torch.Tensor, got ndarray"),
        (lambda d: d.X_val.double(), lambda d: d.y_val, TypeError, r"X must have the dtype of the model's parameters, torch.float32, got torch.float64"),
        (lambda d: d.X_val != 0, lambda d: d.y_val, TypeError, "X must hold real numbers"),
        (lambda d: torch.full_like(d.X_val, math.nan), lambda d: d.y_val, ValueError, "X must be finite"),
        (lambda d: d.X_val, lambda d: d.y_val.to(torch.complex64), TypeError, "y must hold real numbers"),
        (lambda d: d.X_val, lambda d: d.y_val.double(), ValueError, r"y of shape \(60,\) does not match model\(X\) of shape \(60, 2\)"),
        (lambda d: d.X_val, lambda d: d.y_val - 200, ValueError, r"y holds the class label -200, but model\(X\) gives scores for 2 classes"),
    ],
)
def test_evaluate_checks_x_and_y_by_name(moons, X, y, error, message):
    with pytest.raises(error, match=message):
        evaluate(_mlp(), X(moons), y(moons), nn.CrossEntropyLoss())


def test_evaluate_takes_any_integer_labels_and_float16_features():
    X = torch.randn(6, 2)
    y = torch.tensor([0, 1, 1, 0, 1, 0])
    model = _mlp()
    expected = evaluate(model, X, y, nn.CrossEntropyLoss())
    assert evaluate(model, X, y.to(torch.uint8), nn.CrossEntropyLoss()) == expected
    assert evaluate(model, X.half(), y, nn.CrossEntropyLoss()) == evaluate(model, X.half().float(), y, nn.CrossEntropyLoss())


def test_evaluate_rejects_regression_targets_that_would_broadcast():
    model = _mlp(outputs=1)
    X = torch.randn(6, 2)
    with pytest.raises(ValueError, match=r"y of shape \(6,\) does not match model\(X\) of shape \(6, 1\)"):
        evaluate(model, X, torch.randn(6), nn.MSELoss())
    with pytest.raises(ValueError, match="y must be finite"):
        evaluate(model, X, torch.full((6, 1), math.inf), nn.MSELoss())
    # integer targets of shape (n, 1) are regression targets, computed in float64 as the dtype rule says
    y = torch.arange(6).reshape(6, 1)
    assert evaluate(model, X, y, nn.MSELoss()) == evaluate(model, X, y.double(), nn.MSELoss())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"loss_fn": int}, TypeError, r"loss_fn\(outputs, data.y_train\) raised TypeError"),
        ({"loss_fn": lambda outputs, y: torch.tensor(0.5)}, ValueError, "loss_fn must return a loss computed from the model's outputs"),
        ({"penalty": int}, TypeError, r"penalty\(model\) raised TypeError"),
        ({"penalty": lambda m: [0.0]}, TypeError, "penalty must return a scalar tensor, got list"),
        ({"penalty": lambda m: torch.tensor(math.nan)}, ValueError, r"penalty\(model\) returned nan while the loss is finite"),
        ({"on_epoch_end": int}, TypeError, r"on_epoch_end\(epoch, model\) raised TypeError"),
        ({"desc": None}, TypeError, "desc must be a str, got NoneType None"),
        ({"device": 10**400}, TypeError, "device must be None, a torch.device or a device string"),
        ({"device": b"\xff"}, TypeError, "device must be None, a torch.device or a device string"),
    ],
)
def test_fit_names_bad_callables_desc_and_device(moons, kwargs, error, message):
    with pytest.raises(error, match=message):
        _fit(_mlp(), moons, 1, **kwargs)


def test_fit_checks_the_feature_dtype_against_the_model(moons):
    data = SimpleNamespace(X_train=moons.X_train.double(), y_train=moons.y_train, X_val=moons.X_val, y_val=moons.y_val)
    with pytest.raises(TypeError, match="data.X_train must have the dtype of the model's parameters"):
        _fit(_mlp(), data, 1)


def test_labels_out_of_range_for_the_outputs_are_named_before_the_loss() -> None:
    X, model = torch.randn(8, 4), nn.Linear(4, 3)
    for labels, bad in (([0, 1, 2, 5, 0, 1, 2, 1], 5), ([0, -1, 2, 1, 0, 1, 2, 1], -1)):
        with pytest.raises(ValueError, match=rf"y holds the class label {bad}, but model\(X\) gives scores for 3 classes \(labels 0..2\)"):
            evaluate(model, X, torch.tensor(labels), nn.CrossEntropyLoss())
