"""Tests for course_lib.optim: bitwise agreement with torch.optim, state round-trips, parameter groups, decay rates."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course_lib import optim
from course_lib.models import make_mlp
from course_lib.optim import (
    SGD,
    Adam,
    AdamW,
    count_parameters,
    effective_decay_rates,
    name_substring_groups,
    param_groups,
)

seeds = st.integers(min_value=0, max_value=2**31 - 1)
dtypes = st.sampled_from([torch.float64, torch.float32])

TORCH_TWIN = {SGD: torch.optim.SGD, Adam: torch.optim.Adam, AdamW: torch.optim.AdamW}


# --- helpers ----------------------------------------------------------------------------------

@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """Tiny models: intra-op threads only add synchronisation, which stalls on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def mlp_with_layer_norm() -> nn.Module:
    return nn.Sequential(nn.Linear(5, 12), nn.LayerNorm(12), nn.Tanh(), nn.Linear(12, 3))


def small_conv_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 5, 3)
    )


def make_data(model_name: str, dtype: torch.dtype, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    shape = (6, 5) if model_name == "mlp" else (6, 2, 5, 5)
    return torch.randn(shape, generator=generator).to(dtype), torch.randn(6, 3, generator=generator).to(dtype)


def make_model(model_name: str, seed: int, dtype: torch.dtype) -> nn.Module:
    torch.manual_seed(seed)
    return (mlp_with_layer_norm() if model_name == "mlp" else small_conv_net()).to(dtype)


def two_groups(model: nn.Module, first: dict, second: dict) -> list[dict]:
    """The first layer's parameters with ``first``'s hyper-parameters, the rest with ``second``'s."""
    params = list(model.parameters())
    return [{"params": params[:2], **first}, {"params": params[2:], **second}]


def train_side_by_side(
    model_name: str,
    seed: int,
    dtype: torch.dtype,
    ours: Callable[[nn.Module], torch.optim.Optimizer],
    reference: Callable[[nn.Module], torch.optim.Optimizer],
    steps: int,
) -> tuple[nn.Module, nn.Module]:
    """Train two copies of one model on the same random batches, one with each optimizer."""
    model_ours = make_model(model_name, seed, dtype)
    model_reference = copy.deepcopy(model_ours)
    optimizer_ours, optimizer_reference = ours(model_ours), reference(model_reference)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x, y = make_data(model_name, dtype, generator)
        for model, optimizer in ((model_ours, optimizer_ours), (model_reference, optimizer_reference)):
            optimizer.zero_grad(set_to_none=True)
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
    return model_ours, model_reference


def assert_models_identical(first: nn.Module, second: nn.Module) -> None:
    """Bitwise equal parameters and buffers, and finite (so the comparison is not NaN against NaN)."""
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.isfinite(a.float()).all()
        torch.testing.assert_close(a, b, rtol=0.0, atol=0.0)


sgd_settings = st.fixed_dictionaries(
    {
        "lr": st.floats(1e-3, 0.1),
        "momentum": st.sampled_from([0.0, 0.5, 0.9, 0.99]),
        "dampening": st.sampled_from([0.0, 0.1, 0.5]),
        "weight_decay": st.floats(1e-4, 0.5),
        "nesterov": st.booleans(),
    }
).map(lambda s: {**s, "dampening": 0.0} if s["nesterov"] else s).map(
    lambda s: {**s, "momentum": 0.9} if s["nesterov"] and s["momentum"] == 0 else s
)
adam_settings = st.fixed_dictionaries(
    {
        "lr": st.floats(1e-4, 3e-2),
        "betas": st.tuples(st.sampled_from([0.0, 0.5, 0.9]), st.sampled_from([0.9, 0.95, 0.999])),
        "eps": st.sampled_from([1e-8, 1e-3, 1e-1]),
        "weight_decay": st.floats(1e-4, 0.5),
        "amsgrad": st.booleans(),
    }
)


# --- agreement with torch.optim ---------------------------------------------------------------

@settings(max_examples=25)
@given(seed=seeds, dtype=dtypes, model_name=st.sampled_from(["mlp", "conv"]), hyper=sgd_settings)
def test_sgd_matches_torch_bitwise(seed: int, dtype: torch.dtype, model_name: str, hyper: dict) -> None:
    ours, theirs = train_side_by_side(
        model_name, seed, dtype,
        lambda m: SGD(m.parameters(), **hyper),
        lambda m: torch.optim.SGD(m.parameters(), foreach=False, **hyper),
        steps=150,
    )
    assert_models_identical(ours, theirs)


@settings(max_examples=25)
@given(seed=seeds, dtype=dtypes, model_name=st.sampled_from(["mlp", "conv"]), hyper=adam_settings, decoupled=st.booleans())
def test_adam_and_adamw_match_torch_bitwise(seed: int, dtype: torch.dtype, model_name: str, hyper: dict, decoupled: bool) -> None:
    ours_class = AdamW if decoupled else Adam
    ours, theirs = train_side_by_side(
        model_name, seed, dtype,
        lambda m: ours_class(m.parameters(), **hyper),
        lambda m: TORCH_TWIN[ours_class](m.parameters(), foreach=False, **hyper),
        steps=200,
    )
    assert_models_identical(ours, theirs)


@settings(max_examples=15)
@given(seed=seeds, dtype=dtypes, first=adam_settings, second=adam_settings, decoupled=st.booleans())
def test_adam_with_two_parameter_groups_matches_torch(seed: int, dtype: torch.dtype, first: dict, second: dict, decoupled: bool) -> None:
    ours_class = AdamW if decoupled else Adam
    ours, theirs = train_side_by_side(
        "mlp", seed, dtype,
        lambda m: ours_class(two_groups(m, first, second)),
        lambda m: TORCH_TWIN[ours_class](two_groups(m, first, second), foreach=False),
        steps=100,
    )
    assert_models_identical(ours, theirs)


@settings(max_examples=15)
@given(seed=seeds, dtype=dtypes, first=sgd_settings, second=sgd_settings)
def test_sgd_with_two_parameter_groups_matches_torch(seed: int, dtype: torch.dtype, first: dict, second: dict) -> None:
    ours, theirs = train_side_by_side(
        "conv", seed, dtype,
        lambda m: SGD(two_groups(m, first, second), lr=0.01),
        lambda m: torch.optim.SGD(two_groups(m, first, second), lr=0.01, foreach=False),
        steps=100,
    )
    assert_models_identical(ours, theirs)


def test_defaults_match_torch() -> None:
    model = nn.Linear(2, 2)
    for ours_class, torch_class in ((Adam, torch.optim.Adam), (AdamW, torch.optim.AdamW)):
        ours, theirs = ours_class(model.parameters()).defaults, torch_class(model.parameters()).defaults
        assert {key: ours[key] for key in ("lr", "betas", "eps", "weight_decay", "amsgrad")} == {
            key: theirs[key] for key in ("lr", "betas", "eps", "weight_decay", "amsgrad")
        }
    assert AdamW(model.parameters()).defaults["weight_decay"] == 1e-2


@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW])
def test_closure_is_evaluated_with_gradients_and_its_loss_returned(optimizer_class: type) -> None:
    torch.manual_seed(0)
    model = nn.Linear(3, 1, dtype=torch.float64)
    reference_model = copy.deepcopy(model)
    x, y = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 1, dtype=torch.float64)
    kwargs = {"lr": 0.1, "weight_decay": 0.01} | ({"momentum": 0.9} if optimizer_class is SGD else {})
    optimizer = optimizer_class(model.parameters(), **kwargs)
    reference = TORCH_TWIN[optimizer_class](reference_model.parameters(), foreach=False, **kwargs)

    def closure_for(m: nn.Module, o: torch.optim.Optimizer) -> Callable[[], torch.Tensor]:
        def closure() -> torch.Tensor:
            o.zero_grad()
            loss = nn.functional.mse_loss(m(x), y)
            loss.backward()
            return loss
        return closure

    with torch.no_grad():  # the closure must still get gradients
        for _ in range(5):
            loss = optimizer.step(closure_for(model, optimizer))
            reference_loss = reference.step(closure_for(reference_model, reference))
            assert loss.item() == reference_loss.item()
    assert_models_identical(model, reference_model)


@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW])
def test_step_without_closure_returns_none_and_skips_parameters_without_gradients(optimizer_class: type) -> None:
    used, unused = nn.Parameter(torch.ones(3)), nn.Parameter(torch.ones(3))
    optimizer = optimizer_class([used, unused], lr=0.1, weight_decay=0.1)
    used.sum().backward()
    assert optimizer.step() is None
    assert not torch.equal(used.detach(), torch.ones(3))
    torch.testing.assert_close(unused.detach(), torch.ones(3), rtol=0, atol=0)
    assert unused not in optimizer.state or len(optimizer.state[unused]) == 0


@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW])
def test_sparse_gradients_are_rejected(optimizer_class: type) -> None:
    embedding = nn.Embedding(10, 3, sparse=True)
    optimizer = optimizer_class(embedding.parameters(), lr=0.1)
    embedding(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse gradients"):
        optimizer.step()


# --- state_dict ---------------------------------------------------------------------------------

OPTIMIZER_FACTORIES = {
    "sgd-momentum": lambda params: SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "sgdw-nesterov": lambda params: SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2, decoupled=True),
    "adam-amsgrad": lambda params: Adam(params, lr=1e-2, weight_decay=1e-2, amsgrad=True),
    "adamw": lambda params: AdamW(params, lr=1e-2, betas=(0.9, 0.95), weight_decay=0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZER_FACTORIES))
def test_state_dict_round_trip_continues_exactly(name: str) -> None:
    make_optimizer = OPTIMIZER_FACTORIES[name]
    model = make_model("mlp", 0, torch.float64)
    optimizer = make_optimizer(model.parameters())
    generator = torch.Generator().manual_seed(1)
    batches = [make_data("mlp", torch.float64, generator) for _ in range(30)]

    def train(m: nn.Module, o: torch.optim.Optimizer, data: list) -> None:
        for x, y in data:
            o.zero_grad()
            nn.functional.mse_loss(m(x), y).backward()
            o.step()

    train(model, optimizer, batches[:10])
    saved_model, saved_optimizer = copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())
    train(model, optimizer, batches[10:])  # uninterrupted

    resumed = make_model("mlp", 99, torch.float64)
    resumed.load_state_dict(saved_model)
    resumed_optimizer = make_optimizer(resumed.parameters())
    resumed_optimizer.load_state_dict(saved_optimizer)
    train(resumed, resumed_optimizer, batches[10:])
    assert_models_identical(model, resumed)


@pytest.mark.parametrize("ours_class", [SGD, Adam, AdamW])
def test_a_state_saved_by_torch_optim_continues_identically_here(ours_class: type) -> None:
    kwargs = {"lr": 0.02, "weight_decay": 0.01} | ({"momentum": 0.9} if ours_class is SGD else {"amsgrad": True})
    model = make_model("mlp", 3, torch.float32)
    reference = TORCH_TWIN[ours_class](model.parameters(), foreach=False, **kwargs)
    generator = torch.Generator().manual_seed(4)
    for _ in range(5):
        x, y = make_data("mlp", torch.float32, generator)
        reference.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        reference.step()
    twin = copy.deepcopy(model)
    ours = ours_class(twin.parameters(), **kwargs)
    ours.load_state_dict(copy.deepcopy(reference.state_dict()))
    assert set(ours.state[next(twin.parameters())]) == set(reference.state[next(model.parameters())])
    for _ in range(20):
        x, y = make_data("mlp", torch.float32, generator)
        for m, o in ((model, reference), (twin, ours)):
            o.zero_grad()
            nn.functional.mse_loss(m(x), y).backward()
            o.step()
    assert_models_identical(model, twin)


# --- SGD: L2 versus decoupled decay ------------------------------------------------------------

@settings(max_examples=20)
@given(seed=seeds, lr=st.floats(1e-3, 0.1), weight_decay=st.floats(1e-3, 0.5))
def test_decoupled_sgd_without_momentum_equals_l2_sgd(seed: int, lr: float, weight_decay: float) -> None:
    # one step from the same weights and gradient: (1 - lr wd) w - lr g  versus  w - lr (g + wd w)
    generator = torch.Generator().manual_seed(seed)
    w_coupled = nn.Parameter(torch.rand(1000, generator=generator, dtype=torch.float64) * 2 - 1)
    w_decoupled = nn.Parameter(w_coupled.detach().clone())
    gradient = torch.randn(1000, generator=generator, dtype=torch.float64)
    for w, decoupled in ((w_coupled, False), (w_decoupled, True)):
        w.grad = gradient.clone()
        SGD([w], lr=lr, weight_decay=weight_decay, decoupled=decoupled).step()
    torch.testing.assert_close(w_coupled, w_decoupled, rtol=0.0, atol=1e-15)
    # and over 50 training steps, where rounding differences feed back through the network
    coupled, decoupled = train_side_by_side(
        "mlp", seed, torch.float64,
        lambda m: SGD(m.parameters(), lr=lr, weight_decay=weight_decay),
        lambda m: SGD(m.parameters(), lr=lr, weight_decay=weight_decay, decoupled=True),
        steps=50,
    )
    for a, b in zip(coupled.parameters(), decoupled.parameters()):
        torch.testing.assert_close(a, b, rtol=0.0, atol=1e-12)


def test_decoupled_sgd_with_momentum_differs_from_l2_sgd() -> None:
    coupled, decoupled = train_side_by_side(
        "mlp", 0, torch.float64,
        lambda m: SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=0.1),
        lambda m: SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=0.1, decoupled=True),
        steps=50,
    )
    difference = max((a - b).abs().max().item() for a, b in zip(coupled.parameters(), decoupled.parameters()))
    assert difference > 1e-3
    # the L2 run decays ~1/(1 - momentum) = 10x harder, so its weights end up smaller
    assert coupled[0].weight.norm() < decoupled[0].weight.norm()


# --- argument validation --------------------------------------------------------------------

def some_params() -> list[nn.Parameter]:
    return [nn.Parameter(torch.zeros(2))]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: SGD(some_params(), lr=-1.0), r"lr must be .*-1\.0.*Invalid learning rate"),
        (lambda: SGD(some_params(), lr=0.1, momentum=-0.5), r"momentum must be .*-0\.5"),
        (lambda: SGD(some_params(), lr=0.1, weight_decay=-1e-4), r"weight_decay must be .*-0\.0001"),
        (lambda: SGD(some_params(), lr=0.1, dampening=1.5), r"dampening must be in \[0, 1\], got 1\.5"),
        (lambda: SGD(some_params(), lr=0.1, nesterov=True), r"nesterov=True needs momentum > 0"),
        (lambda: SGD(some_params(), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), r"nesterov.*dampening=0\.1"),
        (lambda: SGD(some_params(), lr=float("nan")), r"lr must be a finite number >= 0, got nan"),
        (lambda: Adam(some_params(), lr=-1.0), r"lr must be .*-1\.0"),
        (lambda: Adam(some_params(), eps=-1e-8), r"eps must be .*-1e-08.*Invalid epsilon value"),
        (lambda: Adam(some_params(), weight_decay=-0.1), r"weight_decay must be .*-0\.1"),
        (lambda: Adam(some_params(), betas=(1.0, 0.999)), r"betas\[0\] must be in \[0, 1\), got 1\.0"),
        (lambda: Adam(some_params(), betas=(0.9, -0.1)), r"betas\[1\] must be in \[0, 1\), got -0\.1"),
        (lambda: AdamW(some_params(), betas=(0.9, 1.0)), r"betas\[1\] must be in \[0, 1\)"),
        (lambda: AdamW(some_params(), weight_decay=-0.01), r"weight_decay must be"),
        (lambda: AdamW([{"params": some_params(), "lr": -2.0}]), r"param_groups\[0\]\['lr'\] must be .*-2\.0"),
        (lambda: SGD([{"params": some_params()}, {"params": some_params(), "momentum": -1}], lr=0.1),
         r"param_groups\[1\]\['momentum'\] must be"),
        (lambda: SGD([], lr=0.1), r"empty parameter list"),
        (lambda: Adam([]), r"empty parameter list"),
        (lambda: AdamW(iter([])), r"empty parameter list"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(make: Callable[[], object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: SGD(some_params()), r"lr"),  # lr is required
        (lambda: SGD(some_params(), lr="0.1"), r"lr must be a real number, got str"),
        (lambda: SGD(some_params(), lr=0.1, nesterov=1), r"nesterov must be a bool"),
        (lambda: SGD(some_params(), lr=0.1, decoupled="yes"), r"decoupled must be a bool"),
        (lambda: Adam(some_params(), betas=0.9), r"betas must be a pair"),
        (lambda: Adam(some_params(), amsgrad=1), r"amsgrad must be a bool"),
        (lambda: AdamW(nn.Linear(2, 2)), r"got a module \(Linear\).*model.parameters\(\)"),
        (lambda: AdamW(AdamW(some_params())), r"got an optimizer \(AdamW\)"),
    ],
)
def test_bad_argument_types_raise_type_error(make: Callable[[], object], match: str) -> None:
    with pytest.raises(TypeError, match=match):
        make()


def test_a_rejected_parameter_group_is_not_added() -> None:
    optimizer = AdamW(some_params())
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['eps'\]"):
        optimizer.add_param_group({"params": some_params(), "eps": -1.0})
    assert len(optimizer.param_groups) == 1


# --- param_groups ---------------------------------------------------------------------------

def test_param_groups_counts_for_sequential_with_layer_norm(capsys: pytest.CaptureFixture[str]) -> None:
    model = nn.Sequential(nn.Linear(64, 64), nn.LayerNorm(64), nn.Linear(64, 64))
    groups = param_groups(model, 0.1, verbose=True)
    assert capsys.readouterr().out == "decay: 8,192 parameters in 2 tensors; no decay: 256 parameters in 4 tensors\n"
    assert count_parameters(groups) == (8192, 256)
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    assert groups[0]["params"] == [model[0].weight, model[2].weight]
    # the copied name filter misses the LayerNorm weight, named "1.weight" under nn.Sequential
    assert count_parameters(name_substring_groups(model, 0.1)) == (8256, 192)
    # ... and works only when the attribute happens to be called LayerNorm
    named = nn.Module()
    named.dense, named.LayerNorm = nn.Linear(64, 64), nn.LayerNorm(64)
    assert count_parameters(name_substring_groups(named, 0.1)) == count_parameters(param_groups(named, 0.1))


def test_param_groups_decays_custom_matrices_but_not_custom_vectors() -> None:
    class Bilinear(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.matrix = nn.Parameter(torch.randn(4, 5))
            self.scale = nn.Parameter(torch.ones(5))
            self.temperature = nn.Parameter(torch.tensor(1.0))

    model = nn.Sequential(Bilinear(), nn.Linear(5, 2))
    groups = param_groups(model, 0.1)
    assert groups[0]["params"] == [model[0].matrix, model[1].weight]
    assert groups[1]["params"] == [model[0].scale, model[0].temperature, model[1].bias]


def test_param_groups_for_conv_and_batch_norm() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv1d(8, 4, 1, bias=False), nn.GroupNorm(2, 4))
    groups = param_groups(model, 0.05)
    assert groups[0]["params"] == [model[0].weight, model[2].weight]
    assert groups[1]["params"] == [model[0].bias, model[1].weight, model[1].bias, model[3].weight, model[3].bias]
    assert count_parameters(groups) == (8 * 3 * 9 + 4 * 8, 8 + 16 + 8)


@pytest.mark.skipif(not hasattr(nn, "RMSNorm"), reason="nn.RMSNorm needs torch >= 2.4")
def test_param_groups_never_decays_a_normalization_weight_even_if_it_is_a_matrix() -> None:
    model = nn.Sequential(nn.Linear(6, 6), nn.RMSNorm([2, 3]), nn.LayerNorm([2, 3]))
    groups = param_groups(model, 0.1)
    assert groups[0]["params"] == [model[0].weight]
    assert count_parameters(groups) == (36, 6 + 6 + 6 + 6)


def test_param_groups_embeddings_only_on_request() -> None:
    model = nn.Sequential(nn.Embedding(100, 8), nn.Linear(8, 4))
    assert param_groups(model, 0.1)[1]["params"][0] is model[0].weight
    assert count_parameters(param_groups(model, 0.1)) == (32, 800 + 4)
    assert count_parameters(param_groups(model, 0.1, decay_embeddings=True)) == (800 + 32, 4)
    bag = nn.EmbeddingBag(10, 3)
    assert count_parameters(param_groups(bag, 0.1)) == (0, 30)


def test_param_groups_counts_tied_weights_once_and_decays_them() -> None:
    class TinyLanguageModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(50, 16)
            self.norm = nn.LayerNorm(16)
            self.head = nn.Linear(16, 50, bias=False)
            self.head.weight = self.embedding.weight  # weight tying

    model = TinyLanguageModel()
    groups = param_groups(model, 0.1)
    all_params = groups[0]["params"] + groups[1]["params"]
    assert len(all_params) == len({id(p) for p in all_params}) == len(list(model.parameters())) == 3
    assert groups[0]["params"] == [model.embedding.weight]  # decayed: one of its uses is a Linear weight
    assert count_parameters(groups) == (800, 32)
    AdamW(groups, lr=1e-3)  # a valid optimizer: no parameter appears twice


def test_param_groups_skips_frozen_parameters() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    model[0].requires_grad_(False)
    model[1].bias.requires_grad_(False)
    groups = param_groups(model, 0.1)
    assert groups[0]["params"] == [model[2].weight]
    assert groups[1]["params"] == [model[1].weight, model[2].bias]


def test_adamw_builds_and_steps_from_param_groups() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8), nn.Linear(8, 1))
    before = copy.deepcopy(model)
    optimizer = AdamW(param_groups(model, 0.1), lr=1e-2)
    model(torch.randn(4, 8)).sum().backward()
    optimizer.step()
    assert count_parameters(optimizer) == (72, 25)
    for a, b in zip(model.parameters(), before.parameters()):
        assert not torch.equal(a, b)


def test_param_groups_and_count_parameters_validate_arguments() -> None:
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        param_groups(list(nn.Linear(2, 2).parameters()), 0.1)
    with pytest.raises(ValueError, match=r"weight_decay must be a finite number >= 0, got -0\.1"):
        param_groups(nn.Linear(2, 2), -0.1)
    with pytest.raises(TypeError, match="verbose must be a bool"):
        param_groups(nn.Linear(2, 2), 0.1, verbose=1)
    with pytest.raises(TypeError, match=r"groups\[0\] must be a dict"):
        count_parameters([{"params": []}])
    with pytest.raises(TypeError, match="no_decay must be a sequence of strings"):
        name_substring_groups(nn.Linear(2, 2), 0.1, no_decay="bias")


# --- effective decay rates ------------------------------------------------------------------

def measured_decay_per_step(make_optimizer: Callable[[list], torch.optim.Optimizer], noise_scales: torch.Tensor,
                            steps: int, seed: int = 0) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Relative shrinkage per step that the decay term causes, and the optimizer's predicted rates.

    Two copies of w = 1 get the same zero-mean noise gradients (one scale per
    row), one with weight decay and one with weight_decay=0. The difference
    of their last updates, divided by w, is what the decay removed that step.
    """
    generator = torch.Generator().manual_seed(seed)
    noises = [torch.randn(noise_scales.shape[0], 400, generator=generator, dtype=torch.float64) * noise_scales[:, None]
              for _ in range(steps)]
    runs = []
    for with_decay in (True, False):
        w = nn.Parameter(torch.ones(noise_scales.shape[0], 400, dtype=torch.float64))
        optimizer = make_optimizer([w]) if with_decay else make_optimizer([{"params": [w], "weight_decay": 0.0}])
        for noise in noises[:-1]:
            w.grad = noise.clone()
            optimizer.step()
        before = w.detach().clone()
        w.grad = noises[-1].clone()
        optimizer.step()
        runs.append((before, w.detach().clone(), optimizer))
    (before, after, optimizer), (before_free, after_free, _) = runs
    shrinkage = ((after_free - before_free) - (after - before)) / before
    return shrinkage, effective_decay_rates(optimizer)


def test_adam_l2_decays_large_gradient_weights_less_as_predicted() -> None:
    scales = torch.tensor([10.0, 1.0, 0.1], dtype=torch.float64)
    shrinkage, (rates,) = measured_decay_per_step(
        lambda params: Adam(params, lr=1e-3, weight_decay=1e-2), scales, steps=300
    )
    # per weight the prediction holds up to the noise in the second moments; on average per row, closely
    assert (shrinkage / rates - 1).abs().median() < 0.02
    torch.testing.assert_close(shrinkage.mean(dim=1), rates.mean(dim=1), rtol=0.02, atol=0.0)
    row_means = rates.mean(dim=1)
    assert row_means[0] < row_means[1] < row_means[2]  # the weights with large gradients decay least
    assert row_means[2] / row_means[0] > 50
    # the prediction: lr * wd / (sqrt(v_hat) + eps) with v_hat close to the noise variance
    torch.testing.assert_close(row_means, 1e-3 * 1e-2 / scales, rtol=0.1, atol=0.0)


def test_adamw_decays_every_weight_by_the_same_proportion() -> None:
    scales = torch.tensor([10.0, 1.0, 0.1], dtype=torch.float64)
    shrinkage, (rates,) = measured_decay_per_step(
        lambda params: AdamW(params, lr=1e-3, weight_decay=1e-2, amsgrad=True), scales, steps=300
    )
    torch.testing.assert_close(rates, torch.full_like(rates, 1e-5), rtol=0, atol=0)
    torch.testing.assert_close(shrinkage, rates, rtol=1e-6, atol=0.0)


def test_adam_amsgrad_rate_uses_the_running_maximum() -> None:
    w = nn.Parameter(torch.ones(3, dtype=torch.float64))
    optimizer = Adam([w], lr=0.1, betas=(0.9, 0.5), weight_decay=0.1, eps=1e-3, amsgrad=True)
    for scale in (10.0, 0.01, 0.01, 0.01):
        w.grad = torch.full((3,), scale, dtype=torch.float64)
        optimizer.step()
    state = optimizer.state[w]
    v_hat = state["max_exp_avg_sq"] / (1 - 0.5**4)
    torch.testing.assert_close(effective_decay_rates(optimizer)[0], 0.1 * 0.1 / (v_hat.sqrt() + 1e-3))
    assert (state["max_exp_avg_sq"] > 5 * state["exp_avg_sq"]).all()  # the first, large gradient still counts


@pytest.mark.parametrize(
    "momentum, dampening, nesterov, decoupled, expected_factor",
    [
        (0.0, 0.0, False, False, 1.0),
        (0.9, 0.0, False, False, 10.0),
        (0.9, 0.5, False, False, 5.0),
        (0.8, 0.0, True, False, 5.0),
        (0.9, 0.0, False, True, 1.0),
        (0.0, 0.0, False, True, 1.0),
    ],
)
def test_sgd_rates_match_the_measured_steady_state_decay(
    momentum: float, dampening: float, nesterov: bool, decoupled: bool, expected_factor: float
) -> None:
    lr, weight_decay = 0.01, 1e-3
    scales = torch.tensor([1e-3, 0.0], dtype=torch.float64)  # weak noise: w stays near 1 while the buffer settles
    shrinkage, (rates,) = measured_decay_per_step(
        lambda params: SGD(params, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                           nesterov=nesterov, decoupled=decoupled),
        scales, steps=400,
    )
    torch.testing.assert_close(rates, torch.full_like(rates, lr * weight_decay * expected_factor), rtol=1e-12, atol=0)
    torch.testing.assert_close(shrinkage, rates, rtol=2e-3, atol=0.0)


def test_effective_decay_rates_order_shapes_and_errors() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    optimizer = AdamW(param_groups(model, 0.1), lr=0.01)
    rates = effective_decay_rates(optimizer)
    assert [r.shape for r in rates] == [p.shape for g in optimizer.param_groups for p in g["params"]]
    assert all(torch.all(r == 0.01 * 0.1) for r in rates[:1]) and all(torch.all(r == 0) for r in rates[1:])
    assert all(torch.all(r == 0.001) for r in effective_decay_rates(torch.optim.AdamW(model.parameters(), lr=0.1)))
    with pytest.raises(ValueError, match=r"no Adam state yet.*call step\(\) first"):
        effective_decay_rates(Adam(model.parameters(), weight_decay=0.1))
    with pytest.raises(TypeError, match="optimizer must be an SGD, Adam or AdamW"):
        effective_decay_rates(torch.optim.RMSprop(model.parameters()))


# --- RelativeStepMeter ------------------------------------------------------------------------

def test_relative_step_meter_records_every_step_with_any_optimizer() -> None:
    model = make_mlp((6, 5, 3), batch_norm=True, seed=0)
    weight = model[0].weight
    for optimizer in (optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1),
                      torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)):
        meter = optim.RelativeStepMeter(optimizer, weight)
        x = torch.from_numpy(np.random.default_rng(0).normal(size=(16, 6))).float()
        expected = []
        for _ in range(5):
            before = weight.detach().clone()
            optimizer.zero_grad()
            model(x).square().mean().backward()
            optimizer.step()
            expected.append(((weight.detach() - before).norm() / before.norm()).item())
        assert meter.values == pytest.approx(expected, rel=1e-6)
        assert meter.mean() == pytest.approx(np.mean(expected), rel=1e-6)
        assert meter.mean(last=2) == pytest.approx(np.mean(expected[-2:]), rel=1e-6)
        meter.remove()
        optimizer.step()  # no longer recorded
        assert len(meter.values) == 5


def test_relative_step_meter_matches_adamw_equilibrium_of_a_scale_invariant_weight() -> None:
    """Under AdamW with per-step decay d, the relative step of a normalized layer settles near sqrt(2d(1-β1)/(1+β1))."""
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(256, 16))).float()
    y = torch.from_numpy(rng.integers(0, 4, size=256))
    model = make_mlp((16, 32, 4), batch_norm=True, seed=0)
    lr, per_step_decay = 1e-2, 1e-2
    optimizer = optim.AdamW(optim.param_groups(model, weight_decay=per_step_decay / lr), lr=lr)
    meter = optim.RelativeStepMeter(optimizer, model[0].weight)
    for step in range(1500):
        batch = torch.from_numpy(rng.integers(0, 256, size=16))
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()
    predicted = math.sqrt(2 * per_step_decay * (1 - 0.9) / (1 + 0.9))
    assert meter.mean(last=300) == pytest.approx(predicted, rel=0.3)


def test_relative_step_meter_validates_its_arguments() -> None:
    w = nn.Parameter(torch.ones(3))
    optimizer = optim.SGD([w], lr=0.1)
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer, got list"):
        optim.RelativeStepMeter([w], w)
    with pytest.raises(TypeError, match="tensor must be a torch.Tensor, got float"):
        optim.RelativeStepMeter(optimizer, 1.0)
    with pytest.raises(ValueError, match=r"tensor \(shape \(2,\)\) is not a parameter"):
        optim.RelativeStepMeter(optimizer, nn.Parameter(torch.ones(2)))
    meter = optim.RelativeStepMeter(optimizer, w)
    with pytest.raises(ValueError, match="no step recorded yet"):
        meter.mean()
    w.grad = torch.ones(3)
    optimizer.step()
    with pytest.raises(ValueError, match="last=2 is more than the 1 steps recorded"):
        meter.mean(last=2)
    with pytest.raises(ValueError, match="last must be an int >= 1"):
        meter.mean(last=0)
    zero = nn.Parameter(torch.zeros(2))
    zero_optimizer = optim.SGD([zero], lr=0.1)
    zero_meter = optim.RelativeStepMeter(zero_optimizer, zero)
    zero.grad = torch.zeros(2)
    zero_optimizer.step()
    zero.grad = torch.ones(2)
    zero_optimizer.step()
    assert zero_meter.values == [0.0, math.inf]  # standing still at zero is no step; leaving zero has no finite size


# --- issue 12: hardening ---------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: SGD(None, lr=0.1), lambda: Adam(None), lambda: AdamW(None)])
def test_params_none_is_a_type_error_naming_params(make: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="params must be parameters or parameter groups.*got None"):
        make()


def test_count_parameters_rejects_ndarray_params_naming_the_group() -> None:
    with pytest.raises(TypeError, match=r"groups\[1\]\['params'\]\[0\] must be a torch.Tensor, got ndarray"):
        count_parameters([{"params": some_params(), "weight_decay": 0.1}, {"params": [np.zeros(3)], "weight_decay": 0.0}])
    with pytest.raises(TypeError, match=r"groups\[0\]\['params'\] must be a tensor or an iterable"):
        count_parameters([{"params": None, "weight_decay": 0.1}])


def test_count_parameters_rejects_groups_none() -> None:
    with pytest.raises(TypeError, match="groups must be an iterable of parameter groups"):
        count_parameters(None)


def test_count_parameters_counts_a_parameter_in_two_groups_once_in_the_first() -> None:
    shared = nn.Parameter(torch.zeros(5))
    groups = [{"params": [shared], "weight_decay": 0.1}, {"params": [shared, nn.Parameter(torch.zeros(2))], "weight_decay": 0.0}]
    assert count_parameters(groups) == (5, 2)


@pytest.mark.parametrize("no_decay", [None, 3])
def test_name_substring_groups_rejects_no_decay_that_is_not_a_sequence(no_decay) -> None:
    with pytest.raises(TypeError, match="no_decay must be a sequence of strings"):
        name_substring_groups(nn.Linear(2, 2), 0.1, no_decay)


def test_name_substring_groups_accepts_a_generator_of_substrings() -> None:
    decay, rest = name_substring_groups(nn.Linear(2, 2), 0.1, (s for s in ["bias"]))
    assert len(decay["params"]) == 1 and len(rest["params"]) == 1


@pytest.mark.parametrize("make", [lambda: Adam(some_params(), eps=0), lambda: AdamW(some_params(), eps=0.0)])
def test_eps_zero_is_rejected_because_zero_gradients_would_give_nan(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"eps must be > 0, got 0.0"):
        make()


def test_eps_zero_in_an_added_group_names_the_group() -> None:
    optimizer = Adam(some_params())
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['eps'\] must be > 0"):
        optimizer.add_param_group({"params": some_params(), "eps": 0.0})


@pytest.mark.parametrize("momentum", [1.0, 1, 1.5])
def test_momentum_of_one_or_more_is_rejected(momentum) -> None:
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\), got"):
        SGD(some_params(), lr=0.1, momentum=momentum)


def test_momentum_just_below_one_is_accepted() -> None:
    assert SGD(some_params(), lr=0.1, momentum=0.999).param_groups[0]["momentum"] == 0.999


def test_a_parameter_in_two_groups_is_a_value_error_as_in_torch() -> None:
    shared = nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [shared]}, {"params": [shared]}], lr=0.1)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: SGD(some_params(), lr=torch.tensor(0.1)), "lr"),
        (lambda: Adam(some_params(), lr=torch.tensor(1e-3)), "lr"),
        (lambda: AdamW(some_params(), weight_decay=torch.tensor(0.1)), "weight_decay"),
    ],
)
def test_zero_dim_tensor_hyperparameters_are_a_type_error(make: Callable[[], object], name: str) -> None:
    with pytest.raises(TypeError, match=rf"{name} must be a real number, got a tensor.*float\({name}\)"):
        make()


# --- issue 12: bad input found by the bad-input tests ------------------------------------------


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: SGD(some_params(), lr=10**400), ValueError, r"lr must be a real number within the float range"),
        (lambda: Adam(some_params(), betas=(10**400, 0.999)), ValueError, r"betas\[0\] must be a real number within the float range"),
        (lambda: SGD(object(), lr=0.1), TypeError, r"params must be an ordered iterable .* got object"),
        (lambda: SGD(3.0, lr=0.1), TypeError, r"params must be an ordered iterable"),
        (lambda: SGD({"params": some_params()}, lr=0.1), TypeError, r"params must be an ordered iterable"),
        (lambda: SGD(set(some_params()), lr=0.1), TypeError, r"params must be an ordered iterable"),
        (lambda: SGD(torch.zeros(2, requires_grad=True), lr=0.1), TypeError, r"params must be an iterable of parameters, got a single tensor"),
        (lambda: SGD([None], lr=0.1), TypeError, r"params \(param_groups\[0\]\)\['params'\]\[0\] must be a torch.Tensor"),
        (lambda: SGD([torch.zeros(2, dtype=torch.int64)], lr=0.1), TypeError, r"must be a floating-point tensor"),
        (lambda: SGD([torch.zeros(2, requires_grad=True) * 2], lr=0.1), ValueError, r"must be a leaf tensor"),
        (lambda: SGD([{"lr": 0.1}], lr=0.1), ValueError, r"params \(param_groups\[0\]\) must be a dict with a 'params' entry"),
    ],
)
def test_bad_params_and_huge_hyperparameters_are_named(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW])
def test_a_parameter_listed_twice_in_one_group_is_a_value_error_not_two_steps(optimizer_class) -> None:
    # torch.optim only warns, and then steps the parameter twice per step()
    w = nn.Parameter(torch.ones(2))
    kwargs = {"lr": 0.1} if optimizer_class is SGD else {}
    with pytest.raises(ValueError, match=r"listed twice in its group: it would be stepped twice"):
        optimizer_class([w, w], **kwargs)


@pytest.mark.parametrize("optimizer_class", [SGD, Adam])
def test_step_checks_the_closure_and_its_loss_before_changing_anything(optimizer_class) -> None:
    w = nn.Parameter(torch.ones(2, dtype=torch.float64))
    w.grad = torch.ones(2, dtype=torch.float64)
    optimizer = optimizer_class([w], lr=0.1)
    with pytest.raises(TypeError, match="closure must be callable or None, got float 3.0"):
        optimizer.step(3.0)
    with pytest.raises(TypeError, match="closure must return the loss as a one-element tensor, got int 0"):
        optimizer.step(int)
    with pytest.raises(ValueError, match=r"closure returned a non-finite loss \(nan\): no step is taken"):
        optimizer.step(lambda: torch.tensor(math.nan))
    assert torch.equal(w.detach(), torch.ones(2, dtype=torch.float64))
    loss = optimizer.step(lambda: (w**2).sum())
    assert loss.item() == 2.0 and not torch.equal(w.detach(), torch.ones(2, dtype=torch.float64))


def test_adam_reports_a_second_moment_that_overflows_instead_of_a_silent_zero_step() -> None:
    # With weight_decay=1e300 the L2 term makes g**2 overflow: torch then takes the step m / inf = 0.
    w = nn.Parameter(torch.full((2,), 0.5, dtype=torch.float64))
    w.grad = torch.zeros(2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"second-moment estimate v overflowed .*weight_decay \* w"):
        Adam([w], lr=0.01, weight_decay=1e300).step()
    reference = torch.optim.Adam([nn.Parameter(w.detach().clone())], lr=0.01, weight_decay=1e300)
    reference.param_groups[0]["params"][0].grad = torch.zeros(2, dtype=torch.float64)
    reference.step()
    assert torch.equal(reference.param_groups[0]["params"][0].detach(), w.detach())  # torch: no step at all


def test_adam_lets_a_non_finite_gradient_through_as_torch_does() -> None:
    w = nn.Parameter(torch.ones(2, dtype=torch.float64))
    w.grad = torch.tensor([math.inf, 0.0], dtype=torch.float64)
    Adam([w], lr=0.1).step()  # a diverged run: fit reports it as divergence
    assert not torch.isfinite(w).all()


def test_name_substring_groups_rejects_a_dict_of_substrings() -> None:
    with pytest.raises(TypeError, match="no_decay must be a sequence of strings, got dict"):
        name_substring_groups(nn.Linear(2, 2), 0.1, no_decay={"bias": 1})


# --- configure_adamw and warmup_cosine_schedule: the optimizer and schedule of the complete recipe ---


def _recipe_mlp(seed: int = 0) -> nn.Sequential:
    """Linear → LayerNorm → GELU → Dropout blocks and a bare output layer, as the recipe builds them."""
    return make_mlp((6, 8, 8, 3), layer_norm=True, activation="gelu", dropout=0.1, seed=seed)


def test_configure_adamw_builds_torch_adamw_on_the_two_param_groups() -> None:
    model = _recipe_mlp()
    optimizer = optim.configure_adamw(model, lr=2e-3, weight_decay=0.05, betas=(0.8, 0.99), eps=1e-7)
    assert type(optimizer) is torch.optim.AdamW
    expected = param_groups(model, 0.05)
    assert len(optimizer.param_groups) == 2
    for group, reference in zip(optimizer.param_groups, expected, strict=True):
        assert len(group["params"]) == len(reference["params"])
        assert all(a is b for a, b in zip(group["params"], reference["params"]))  # the same tensors in the same order
        assert group["weight_decay"] == reference["weight_decay"]
        assert (group["lr"], group["betas"], group["eps"]) == (2e-3, (0.8, 0.99), 1e-7)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    norms = [m for m in model if isinstance(m, nn.LayerNorm)]
    assert optimizer.param_groups[0]["params"] == [m.weight for m in linears]
    decayed = {id(p) for p in optimizer.param_groups[0]["params"]}
    assert not decayed & {id(p) for m in norms for p in m.parameters()}  # LayerNorm's scale and shift never decayed
    assert not decayed & {id(m.bias) for m in linears}
    assert count_parameters(optimizer) == (6 * 8 + 8 * 8 + 8 * 3, 8 + 8 + 3 + 4 * 8)
    assert optimizer.defaults["weight_decay"] == 0.05


def test_configure_adamw_steps_exactly_like_torch_adamw_built_by_hand() -> None:
    ours, theirs = _recipe_mlp(seed=1).double(), _recipe_mlp(seed=1).double()
    mine = optim.configure_adamw(ours, lr=1e-2, weight_decay=0.1)
    hand = torch.optim.AdamW(param_groups(theirs, 0.1), lr=1e-2)
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(5, 6)))
    for _ in range(3):
        for model, optimizer in ((ours, mine), (theirs, hand)):
            optimizer.zero_grad()
            model.eval()(x).square().sum().backward()
            optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters(), strict=True))


def test_configure_adamw_decays_weights_and_leaves_biases_and_norms_alone() -> None:
    model = _recipe_mlp(seed=2).double()
    before = copy.deepcopy(model)
    optimizer = optim.configure_adamw(model, lr=0.1, weight_decay=0.5)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)  # no gradient: only the decoupled decay moves anything
    optimizer.step()
    for (name, after), original in zip(model.named_parameters(), before.parameters(), strict=True):
        factor = 1 - 0.1 * 0.5 if after.ndim == 2 else 1.0
        torch.testing.assert_close(after, original * factor, rtol=1e-15, atol=0, msg=name)


def test_configure_adamw_skips_frozen_parameters_and_lists_a_tied_one_once() -> None:
    model = nn.Sequential(nn.Embedding(10, 4), nn.LayerNorm(4), nn.Linear(4, 10, bias=True))
    model[2].weight = model[0].weight  # tied head
    model[1].bias.requires_grad_(False)
    optimizer = optim.configure_adamw(model, 1e-3, 0.1)
    listed = [p for group in optimizer.param_groups for p in group["params"]]
    assert len(listed) == len({id(p) for p in listed}) == 3
    assert optimizer.param_groups[0]["params"] == [model[0].weight]  # decayed: the Linear use decides
    assert optimizer.param_groups[1]["params"] == [model[1].weight, model[2].bias]


@pytest.mark.parametrize(
    ("model", "error", "match"),
    [
        (lambda m: m.parameters(), TypeError, r"model must be a torch.nn.Module .*not model.parameters\(\)"),
        (lambda m: list(m.parameters()), TypeError, r"model must be a torch.nn.Module"),
        (lambda m: param_groups(m, 0.1), TypeError, r"model must be a torch.nn.Module"),
        (lambda m: torch.optim.AdamW(m.parameters()), TypeError, r"model must be a torch.nn.Module, got an optimizer \(AdamW\)"),
        (lambda m: nn.ReLU(), ValueError, r"model \(ReLU\) has no trainable parameters"),
        (lambda m: m.requires_grad_(False), ValueError, r"model \(Sequential\) has no trainable parameters"),
    ],
)
def test_configure_adamw_wants_the_module_itself(model, error, match) -> None:
    with pytest.raises(error, match=match):
        optim.configure_adamw(model(_recipe_mlp()), 1e-3, 0.1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(lr=0.0), ValueError, r"lr must be a finite number > 0, got 0.0"),
        (dict(lr=-1.0), ValueError, r"lr must be a finite number >= 0, got -1.0"),
        (dict(weight_decay=math.nan), ValueError, r"weight_decay must be a finite number"),
        (dict(weight_decay="0.1"), TypeError, r"weight_decay must be a real number"),
        (dict(betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be in \[0, 1\)"),
        (dict(betas=0.9), TypeError, r"betas must be a pair"),
        (dict(eps=0.0), ValueError, r"eps must be > 0, got 0.0"),
        (dict(eps=math.inf), ValueError, r"eps must be a finite number"),
    ],
)
def test_configure_adamw_validates_its_hyperparameters(kwargs, error, match) -> None:
    arguments = {"lr": 1e-3, "weight_decay": 0.1, **kwargs}
    with pytest.raises(error, match=match):
        optim.configure_adamw(_recipe_mlp(), **arguments)


def _warmup_cosine_factor(epoch: int, warmup: int, total: int, floor: float) -> float:
    """The docstring's f(e), written out again."""
    if epoch < warmup:
        return (epoch + 1) / (warmup + 1)
    if epoch > total:
        return floor
    return floor + (1 - floor) * (1 + math.cos(math.pi * (epoch - warmup) / (total - warmup))) / 2


def _scheduled_rates(scheduler, optimizer, epochs: int) -> list[list[float]]:
    rates = []
    for _ in range(epochs):
        rates.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize(("warmup", "total", "floor"), [(0, 5, 0.0), (3, 10, 0.0), (2, 6, 0.1), (4, 5, 0.5), (0, 1, 1.0)])
def test_warmup_cosine_schedule_follows_its_formula(warmup: int, total: int, floor: float) -> None:
    first, second = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(3))
    optimizer = torch.optim.AdamW([{"params": [first], "lr": 0.2}, {"params": [second], "lr": 0.05}])
    scheduler = optim.warmup_cosine_schedule(optimizer, warmup, total, floor)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
    rates = _scheduled_rates(scheduler, optimizer, total + 3)  # past the end the rate stays at the floor
    for epoch, (rate_a, rate_b) in enumerate(rates):
        factor = _warmup_cosine_factor(epoch, warmup, total, floor)
        assert rate_a == pytest.approx(0.2 * factor, rel=1e-12, abs=1e-15), epoch
        assert rate_b == pytest.approx(0.05 * factor, rel=1e-12, abs=1e-15), epoch
    factors = [rate_a / 0.2 for rate_a, _ in rates]
    if warmup:
        assert factors[0] == pytest.approx(1 / (warmup + 1)) and factors[warmup] == pytest.approx(1.0)
        assert all(b > a for a, b in zip(factors[: warmup + 1], factors[1 : warmup + 1]))  # rises in equal steps
        assert np.allclose(np.diff(factors[: warmup + 1]), 1 / (warmup + 1))
    assert factors[total] == pytest.approx(floor) and max(factors) == pytest.approx(1.0)
    assert all(b <= a + 1e-15 for a, b in zip(factors[warmup:], factors[warmup + 1 :]))  # then never rises


def test_warmup_cosine_schedule_without_warmup_is_cosine_annealing() -> None:
    a, b = [nn.Parameter(torch.zeros(2))], [nn.Parameter(torch.zeros(2))]
    ours_optimizer, torch_optimizer = torch.optim.SGD(a, lr=0.3), torch.optim.SGD(b, lr=0.3)
    ours = optim.warmup_cosine_schedule(ours_optimizer, 0, 7)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(torch_optimizer, T_max=7)
    ours_rates = _scheduled_rates(ours, ours_optimizer, 8)
    torch_rates = _scheduled_rates(reference, torch_optimizer, 8)
    np.testing.assert_allclose(ours_rates, torch_rates, rtol=1e-12, atol=1e-15)


def test_warmup_cosine_schedule_state_dict_resumes_the_schedule() -> None:
    optimizer = torch.optim.AdamW([nn.Parameter(torch.zeros(2))], lr=1.0)
    scheduler = optim.warmup_cosine_schedule(optimizer, 2, 8, 0.1)
    _scheduled_rates(scheduler, optimizer, 3)
    state = copy.deepcopy(scheduler.state_dict())
    assert state["lr_lambdas"][0] == {"warmup_epochs": 2, "total_epochs": 8, "min_factor": 0.1}
    resumed_optimizer = torch.optim.AdamW([nn.Parameter(torch.zeros(2))], lr=1.0)
    resumed = optim.warmup_cosine_schedule(resumed_optimizer, 0, 1)  # other settings, overwritten by the state
    resumed.load_state_dict(state)
    resumed_optimizer.param_groups[0]["lr"] = optimizer.param_groups[0]["lr"]
    assert _scheduled_rates(resumed, resumed_optimizer, 4) == _scheduled_rates(scheduler, optimizer, 4)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(warmup_epochs=5, total_epochs=5), ValueError, r"warmup_epochs must be less than total_epochs .*got warmup_epochs=5 and total_epochs=5"),
        (dict(warmup_epochs=-1), ValueError, r"warmup_epochs must be an int >= 0, got -1"),
        (dict(warmup_epochs=1.0), TypeError, r"warmup_epochs must be an int"),
        (dict(total_epochs=0), ValueError, r"total_epochs must be an int >= 1, got 0"),
        (dict(min_factor=1.5), ValueError, r"min_factor must be in \[0, 1\], got 1.5"),
        (dict(min_factor=math.nan), ValueError, r"min_factor must be in \[0, 1\]"),
        (dict(optimizer=[nn.Parameter(torch.zeros(2))]), TypeError, r"optimizer must be a torch.optim.Optimizer, got list"),
    ],
)
def test_warmup_cosine_schedule_validates_its_arguments(kwargs, error, match) -> None:
    arguments = {"optimizer": torch.optim.SGD([nn.Parameter(torch.zeros(2))], lr=0.1), "warmup_epochs": 1, "total_epochs": 5, **kwargs}
    with pytest.raises(error, match=match):
        optim.warmup_cosine_schedule(**arguments)
