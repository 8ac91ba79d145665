"""Valid calls of course_lib.optim.

The optimizers are called through wrappers with their signatures that build the optimizer on fresh
float64 parameters with gradients set and take one step; the result is ``(before, gradient, after)``
for every parameter, which :func:`_verify_step` checks against the update rule of the docstring,
computed independently in ``np.longdouble`` (so a float64 overflow in the library shows as a
difference, not as a matching overflow).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from course_lib import optim

from .runner import Case

_INITIAL = (np.array([[0.5, -0.25, 0.125], [-0.5, 0.375, 0.0]]), np.array([0.25, -0.125, 0.5]))
_GRADIENTS = (np.array([[0.25, -0.125, 0.0], [0.3, -0.2, 0.05]]), np.array([-0.25, 0.0, 0.125]))


def _parameters() -> list[nn.Parameter]:
    params = [nn.Parameter(torch.tensor(w, dtype=torch.float64)) for w in _INITIAL]
    for param, grad in zip(params, _GRADIENTS):
        param.grad = torch.tensor(grad, dtype=torch.float64)
    return params


def _unique_parameters(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    out: list[torch.Tensor] = []
    for group in optimizer.param_groups:
        for param in group["params"]:
            if not any(param is seen for seen in out):
                out.append(param)
    return out


def _one_step(optimizer: torch.optim.Optimizer, closure=None):
    """``(closure's loss, [(before, gradient or None, after)])`` of one ``optimizer.step(closure)``."""
    params = _unique_parameters(optimizer)
    before = [p.detach().clone().numpy() for p in params]
    loss = optimizer.step(closure) if closure is not None else optimizer.step()
    records = [
        (w0, None if p.grad is None else p.grad.detach().clone().numpy(), p.detach().clone().numpy())
        for w0, p in zip(before, params)
    ]
    return loss, records


# --- the update rules of the docstrings, in long double ------------------------------------------


def _sgd_reference(w, g, lr, momentum, dampening, weight_decay, nesterov, decoupled, buffer=None):
    """One SGD step from ``w`` with gradient ``g`` (``buffer``: the momentum buffer before the step)."""
    w, g = np.asarray(w, np.longdouble), np.asarray(g, np.longdouble)
    lr, momentum, dampening, weight_decay = (np.longdouble(x) for x in (lr, momentum, dampening, weight_decay))
    if weight_decay:
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
    if momentum:
        buffer = g.copy() if buffer is None else momentum * np.asarray(buffer, np.longdouble) + (1 - dampening) * g
        g = g + momentum * buffer if nesterov else buffer
    return w - lr * g


def _adam_reference(w, g, lr, betas, eps, weight_decay, amsgrad, decoupled, state=None):
    """One Adam/AdamW step from ``w`` (``state``: ``(step, m, v, v_max)`` before it, default a fresh one)."""
    w, g = np.asarray(w, np.longdouble), np.asarray(g, np.longdouble)
    lr, eps, weight_decay = (np.longdouble(x) for x in (lr, eps, weight_decay))
    beta1, beta2 = (np.longdouble(b) for b in betas)
    t, m, v, v_max = state if state is not None else (0, 0 * w, 0 * w, 0 * w)
    t += 1
    if weight_decay:
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_max = np.maximum(v_max, v)
    v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
    return w - lr / (1 - beta1**t) * m / (np.sqrt(v_hat) + eps)


def _close(actual, expected, what: str) -> None:
    expected = np.asarray(expected, np.longdouble)
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    assert np.all(np.isfinite(expected)), f"{what}: the reference overflows ({expected}) but the result is finite"
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected.astype(np.float64), rtol=1e-9, atol=1e-12 * scale, err_msg=what)


def _verify_records(records, reference) -> None:
    assert records, "no parameter was stepped"
    for index, (before, grad, after) in enumerate(records):
        if grad is None:
            np.testing.assert_array_equal(after, before)
        else:
            _close(after, reference(before, grad), f"parameter {index}")


def _sgd_hyperparameters(kwargs) -> dict:
    names = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "decoupled")
    defaults = dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, decoupled=False)
    merged = {**defaults, **kwargs}
    return {name: (float(merged[name]) if name not in ("nesterov", "decoupled") else bool(merged[name])) for name in names}


def _adam_hyperparameters(kwargs, decoupled: bool) -> dict:
    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2 if decoupled else 0.0, amsgrad=False)
    merged = {**defaults, **kwargs}
    return dict(
        lr=float(merged["lr"]), betas=tuple(float(b) for b in merged["betas"]), eps=float(merged["eps"]),
        weight_decay=float(merged["weight_decay"]), amsgrad=bool(merged["amsgrad"]), decoupled=decoupled,
    )


# --- the constructors: build on fresh parameters, take one step -----------------------------------


def _sgd(params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, decoupled=False):
    return _one_step(optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov, decoupled))[1]


def _adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    return _one_step(optim.Adam(params, lr, betas, eps, weight_decay, amsgrad))[1]


def _adamw(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
    return _one_step(optim.AdamW(params, lr, betas, eps, weight_decay, amsgrad))[1]


def _verify_sgd(records, kwargs) -> None:
    h = _sgd_hyperparameters(kwargs)
    _verify_records(records, lambda w, g: _sgd_reference(w, g, **h))


def _verify_adam(decoupled: bool):
    def verify(records, kwargs) -> None:
        h = _adam_hyperparameters(kwargs, decoupled)
        _verify_records(records, lambda w, g: _adam_reference(w, g, **h))

    return verify


_SGD_VALID = dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.1, nesterov=True, decoupled=False)
_ADAM_VALID = dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, amsgrad=True)


# --- step: the optimizer after one step (so that momentum and the moments are used), a closure -----


def _quadratic_closure(optimizer: torch.optim.Optimizer):
    """A closure for ``optimizer``'s parameters: loss ½ Σ w², gradient w."""
    params = _unique_parameters(optimizer)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = sum(0.5 * (p**2).sum() for p in params)
        loss.backward()
        return loss

    return closure


def _stepped(make) -> dict:
    optimizer = make(_parameters())
    optimizer.step()  # the momentum buffer / moments now hold one step
    _STATE[id(optimizer)] = _snapshot(optimizer)
    return dict(optimizer=optimizer, closure=_quadratic_closure(optimizer))


_STATE: dict[int, list] = {}


def _snapshot(optimizer):
    out = []
    for param in _unique_parameters(optimizer):
        state = optimizer.state[param]
        out.append({key: (value.detach().clone().numpy() if value.ndim else float(value)) for key, value in state.items()})
    return out


def _step(optimizer, closure=None):
    snapshot = _STATE[id(optimizer)]
    loss, records = _one_step(optimizer, closure)
    return loss, records, snapshot


def _verify_step(result, kwargs) -> None:
    loss, records, snapshot = result
    optimizer, closure = kwargs["optimizer"], kwargs["closure"]
    if closure is None:
        assert loss is None
    else:
        expected = sum(0.5 * np.sum(np.asarray(before, np.longdouble) ** 2) for before, _, _ in records)
        assert isinstance(loss, torch.Tensor) and math.isclose(loss.item(), float(expected), rel_tol=1e-12)
        for before, grad, _ in records:
            np.testing.assert_allclose(grad, before, rtol=0, atol=0)  # the closure's gradient is w
    group = optimizer.param_groups[0]
    for (before, grad, after), state in zip(records, snapshot):
        if isinstance(optimizer, optim.SGD):
            h = {k: group[k] for k in ("lr", "momentum", "dampening", "weight_decay", "nesterov", "decoupled")}
            expected = _sgd_reference(before, grad, **h, buffer=state.get("momentum_buffer"))
        else:
            h = {k: group[k] for k in ("lr", "betas", "eps", "weight_decay", "amsgrad")}
            adam_state = (int(state["step"]), state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq", 0 * before))
            expected = _adam_reference(before, grad, **h, decoupled=isinstance(optimizer, optim.AdamW), state=adam_state)
        _close(after, expected, "stepped parameter")


# --- groups and counts --------------------------------------------------------------------------


def _model() -> nn.Module:
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same weights in every valid call: results are compared
        model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.ReLU(), nn.Linear(4, 2))
        model.add_module("table", nn.Embedding(5, 2))  # never called: only its parameter is grouped
    return model


def _expected_split(model: nn.Module, decay_embeddings: bool):
    decay, no_decay = [], []
    for module in model.modules():
        for param in module.parameters(recurse=False):
            if not param.requires_grad or any(param is p for p in decay + no_decay):
                continue
            if isinstance(module, optim.NORMALIZATION_MODULES):
                no_decay.append(param)
            elif isinstance(module, optim.EMBEDDING_MODULES):
                (decay if decay_embeddings else no_decay).append(param)
            else:
                (decay if param.ndim >= 2 else no_decay).append(param)
    return decay, no_decay


def _same_tensors(actual, expected) -> bool:
    return len(actual) == len(expected) and all(a is b for a, b in zip(actual, expected))


def _verify_param_groups(groups, kwargs) -> None:
    decay, no_decay = _expected_split(kwargs["model"], bool(kwargs.get("decay_embeddings", False)))
    assert [set(g) for g in groups] == [{"params", "weight_decay"}] * 2
    assert _same_tensors(groups[0]["params"], decay) and _same_tensors(groups[1]["params"], no_decay)
    assert groups[0]["weight_decay"] == float(kwargs["weight_decay"]) and groups[1]["weight_decay"] == 0.0


def _verify_name_substring_groups(groups, kwargs) -> None:
    named = list(kwargs["model"].named_parameters())
    substrings = tuple(kwargs.get("no_decay", ("bias", "LayerNorm.weight")))
    excluded = [p for n, p in named if any(s in n for s in substrings)]
    kept = [p for n, p in named if not any(s in n for s in substrings)]
    assert _same_tensors(groups[0]["params"], kept) and _same_tensors(groups[1]["params"], excluded)
    assert groups[0]["weight_decay"] == float(kwargs["weight_decay"]) and groups[1]["weight_decay"] == 0.0


def _count_groups() -> list[dict]:
    model = _model()
    groups = optim.param_groups(model, 0.1)
    groups[1]["params"].append(model[0].weight)  # listed twice: counted once, in the first group
    return groups


def _verify_count_parameters(counts, kwargs) -> None:
    groups = kwargs["groups"]
    groups = groups.param_groups if isinstance(groups, torch.optim.Optimizer) else list(groups)
    seen, decayed, rest = [], 0, 0
    for group in groups:
        params = [group["params"]] if isinstance(group["params"], torch.Tensor) else group["params"]
        for p in params:
            if any(p is s for s in seen):
                continue
            seen.append(p)
            if group["weight_decay"] > 0:
                decayed += p.numel()
            else:
                rest += p.numel()
    assert counts == (decayed, rest) and all(isinstance(c, int) for c in counts)


def _stepped_adam() -> torch.optim.Optimizer:
    optimizer = optim.Adam([{"params": _parameters()[:1], "weight_decay": 0.1}, {"params": _parameters()[1:], "weight_decay": 0.0}], lr=0.01)
    optimizer.step()
    return optimizer


def _verify_effective_decay_rates(rates, kwargs) -> None:
    optimizer = kwargs["optimizer"]
    params = [p for g in optimizer.param_groups for p in g["params"]]
    assert len(rates) == len(params)
    index = 0
    for group in optimizer.param_groups:
        for param in group["params"]:
            rate = rates[index].detach().numpy()
            index += 1
            assert rate.shape == tuple(param.shape)
            if group["weight_decay"] == 0:
                assert np.all(rate == 0)
                continue
            state = optimizer.state[param]
            v_hat = np.asarray(state["exp_avg_sq"].numpy(), np.longdouble) / (1 - np.longdouble(group["betas"][1]) ** int(state["step"]))
            _close(rate, group["lr"] * group["weight_decay"] / (np.sqrt(v_hat) + group["eps"]), "decay rate")


# --- RelativeStepMeter ----------------------------------------------------------------------------


def _meter_run(optimizer, tensor):
    """Attach a meter to ``tensor``, step once, detach: ``(values, before, after)``."""
    meter = optim.RelativeStepMeter(optimizer, tensor)
    before = tensor.detach().clone().numpy()
    optimizer.step()
    meter.remove()
    return meter.values, before, tensor.detach().clone().numpy()


def _meter_valid() -> dict:
    optimizer = optim.SGD(_parameters(), lr=0.1)
    return dict(optimizer=optimizer, tensor=optimizer.param_groups[0]["params"][0])


def _verify_meter(result, kwargs) -> None:
    values, before, after = result
    size = np.sqrt(np.sum(np.asarray(before, np.longdouble) ** 2))
    moved = np.sqrt(np.sum((np.asarray(after, np.longdouble) - np.asarray(before, np.longdouble)) ** 2))
    assert len(values) == 1 and math.isclose(values[0], float(moved / size), rel_tol=1e-12)


def _meter_with_steps() -> optim.RelativeStepMeter:
    optimizer = optim.SGD(_parameters(), lr=0.1)
    meter = optim.RelativeStepMeter(optimizer, optimizer.param_groups[0]["params"][0])
    for _ in range(3):
        optimizer.step()
    return meter


def _meter_mean(meter, last=None):
    return meter.mean(last), list(meter.values)


def _verify_meter_mean(result, kwargs) -> None:
    mean, values = result
    last = kwargs.get("last")
    chosen = values if last is None else values[-int(last):]
    assert math.isclose(mean, math.fsum(chosen) / len(chosen), rel_tol=1e-12)


def _meter_remove(meter):
    """Detach the meter, then step its optimizer again: ``(values before, values after)``."""
    optimizer, recorded = meter._optimizer_for_test, list(meter.values)
    meter.remove()
    optimizer.step()
    return recorded, list(meter.values)


def _meter_remove_valid() -> dict:
    optimizer = optim.SGD(_parameters(), lr=0.1)
    meter = optim.RelativeStepMeter(optimizer, optimizer.param_groups[0]["params"][0])
    for _ in range(3):
        optimizer.step()
    meter._optimizer_for_test = optimizer
    return dict(meter=meter)


def _verify_meter_remove(result, kwargs) -> None:
    recorded, after = result
    assert recorded == after and len(recorded) == 3, "a removed meter must record no further step"


_METER = {"meter": "the RelativeStepMeter whose method is called (3 steps recorded)"}

def _configure_adamw(model, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
    """``configure_adamw(...)``, then one step with fixed gradients: its groups (as parameter indices) and the step."""
    optimizer = optim.configure_adamw(model, lr, weight_decay, betas=betas, eps=eps)
    params = list(model.parameters())
    for index, param in enumerate(params):
        param.grad = torch.linspace(-0.5, 0.5 + index, param.numel(), dtype=param.dtype).reshape(param.shape)
    groups = [
        dict(weight_decay=g["weight_decay"], lr=g["lr"], betas=tuple(g["betas"]), eps=g["eps"],
             params=[next(i for i, p in enumerate(params) if p is q) for q in g["params"]])
        for g in optimizer.param_groups
    ]
    assert type(optimizer) is torch.optim.AdamW
    return groups, _one_step(optimizer)[1]


def _verify_configure_adamw(result, kwargs) -> None:
    groups, records = result
    model = kwargs["model"]
    params = list(model.parameters())
    decay, no_decay = _expected_split(model, False)
    assert len(groups) == 2
    assert _same_tensors([params[i] for i in groups[0]["params"]], decay)
    assert _same_tensors([params[i] for i in groups[1]["params"]], no_decay)
    h = _adam_hyperparameters({k: kwargs[k] for k in ("lr", "betas", "eps") if k in kwargs}, decoupled=True)
    strengths = [float(kwargs["weight_decay"]), 0.0]
    for group, strength in zip(groups, strengths):
        assert (group["weight_decay"], group["lr"], group["betas"], group["eps"]) == (strength, h["lr"], h["betas"], h["eps"])
    order = [p for group in groups for p in group["params"]]  # _one_step records the parameters in group order
    assert sorted(order) == list(range(len(params)))
    for position, index in enumerate(order):
        strength = strengths[0] if index in groups[0]["params"] else 0.0
        before, grad, after = records[position]
        _close(after, _adam_reference(before, grad, **{**h, "weight_decay": strength}), f"parameter {index}")


def _adamw_model() -> nn.Module:
    return _model().double()


def _schedule(optimizer, warmup_epochs, total_epochs, min_factor=0.0):
    """The learning rates of every group for the first epochs (at most 40) of ``warmup_cosine_schedule``."""
    scheduler = optim.warmup_cosine_schedule(optimizer, warmup_epochs, total_epochs, min_factor)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
    rates = []
    for _ in range(min(int(total_epochs) + 2, 40)):
        rates.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return rates


def _schedule_optimizer() -> torch.optim.Optimizer:
    first, second = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(3))
    return torch.optim.SGD([{"params": [first], "lr": 0.2}, {"params": [second], "lr": 0.05}])


def _verify_schedule(rates, kwargs) -> None:
    warmup, total = int(kwargs["warmup_epochs"]), int(kwargs["total_epochs"])
    floor = float(kwargs.get("min_factor", 0.0))
    assert 0 <= warmup < total and 0.0 <= floor <= 1.0
    assert len(rates) == min(total + 2, 40)
    for epoch, row in enumerate(rates):
        if epoch < warmup:
            factor = (epoch + 1) / (warmup + 1)
        elif epoch > total:
            factor = floor
        else:
            factor = floor + (1 - floor) * (1 + math.cos(math.pi * ((epoch - warmup) / (total - warmup)))) / 2
        for rate, base in zip(row, (0.2, 0.05), strict=True):
            assert math.isclose(rate, base * factor, rel_tol=1e-12, abs_tol=1e-300), (epoch, rate, base * factor)


CASES = [
    Case("optim.SGD", _sgd, lambda: dict(params=_parameters(), **_SGD_VALID), _verify_sgd),
    Case("optim.SGD[plain]", _sgd, lambda: dict(params=_parameters(), lr=0.1), _verify_sgd),
    Case("optim.SGD[decoupled]", _sgd, lambda: dict(params=_parameters(), lr=0.1, momentum=0.5, dampening=0.5, weight_decay=0.1, decoupled=True), _verify_sgd),
    Case("optim.Adam", _adam, lambda: dict(params=_parameters(), **_ADAM_VALID), _verify_adam(False)),
    Case("optim.AdamW", _adamw, lambda: dict(params=_parameters(), **_ADAM_VALID), _verify_adam(True)),
    Case(
        "optim.SGD.step", _step, lambda: _stepped(lambda ps: optim.SGD(ps, **_SGD_VALID)), _verify_step,
        fixed={"optimizer": "the SGD whose step is called (fresh parameters, gradients set, one step taken)"},
    ),
    Case(
        "optim.Adam.step", _step, lambda: _stepped(lambda ps: optim.Adam(ps, **_ADAM_VALID)), _verify_step,
        fixed={"optimizer": "the Adam whose step is called (fresh parameters, gradients set, one step taken)"},
    ),
    Case(
        "optim.Adam.step[AdamW]", _step, lambda: _stepped(lambda ps: optim.AdamW(ps, **_ADAM_VALID)), _verify_step,
        fixed={"optimizer": "the AdamW whose step is called (fresh parameters, gradients set, one step taken)"},
    ),
    Case(
        "optim.param_groups", optim.param_groups,
        lambda: dict(model=_model(), weight_decay=0.1, decay_embeddings=True, verbose=False), _verify_param_groups,
    ),
    Case(
        "optim.name_substring_groups", optim.name_substring_groups,
        lambda: dict(model=_model(), weight_decay=0.1, no_decay=("bias", "LayerNorm.weight")), _verify_name_substring_groups,
    ),
    Case(
        "optim.configure_adamw", _configure_adamw,
        lambda: dict(model=_adamw_model(), lr=1e-2, weight_decay=0.1, betas=(0.8, 0.99), eps=1e-6), _verify_configure_adamw,
    ),
    Case(
        "optim.warmup_cosine_schedule", _schedule,
        lambda: dict(optimizer=_schedule_optimizer(), warmup_epochs=2, total_epochs=6, min_factor=0.1), _verify_schedule,
    ),
    Case("optim.count_parameters", optim.count_parameters, lambda: dict(groups=_count_groups()), _verify_count_parameters),
    Case("optim.effective_decay_rates", optim.effective_decay_rates, lambda: dict(optimizer=_stepped_adam()), _verify_effective_decay_rates),
    Case("optim.RelativeStepMeter", _meter_run, _meter_valid, _verify_meter),
    Case("optim.RelativeStepMeter.mean", _meter_mean, lambda: dict(meter=_meter_with_steps(), last=2), _verify_meter_mean, fixed=_METER),
    Case("optim.RelativeStepMeter.remove", _meter_remove, _meter_remove_valid, _verify_meter_remove, fixed=_METER),
]
