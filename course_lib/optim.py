r"""Optimizers from scratch: SGD, Adam and AdamW, written for reading, matching torch.optim.

Each optimizer is one loop over the parameters in ``step`` that performs the
same arithmetic, in the same order, as the single-tensor code path of its
``torch.optim`` twin (``_single_tensor_sgd`` and ``_single_tensor_adam`` with
``foreach=False``), so the two agree bit for bit in float64 and float32. The
state keys are torch's (``"step"``, ``"exp_avg"``, ``"exp_avg_sq"``,
``"max_exp_avg_sq"``, ``"momentum_buffer"``), so ``state_dict`` round-trips
and a state saved by ``torch.optim`` loads here.

* **SGD with momentum** — heavy-ball momentum and Nesterov's variant in the
  form used by deep-learning libraries (Sutskever, Martens, Dahl & Hinton,
  2013, "On the importance of initialization and momentum in deep learning",
  ICML).
* **Adam** — bias-corrected moving averages of the gradient and of its square
  (Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization", ICLR),
  with the AMSGrad variant that normalises by the running *maximum* of the
  second moment (Reddi, Kale & Kumar, 2018, "On the Convergence of Adam and
  Beyond", ICLR).
* **AdamW** — weight decay *decoupled* from the adaptive step (Loshchilov &
  Hutter, 2019, "Decoupled Weight Decay Regularization", ICLR).

Why the distinction matters. For plain SGD, adding :math:`\lambda w` to the
gradient (L2) and shrinking :math:`w \leftarrow (1 - \eta\lambda) w` (decoupled
decay) are the same update. For Adam, the L2 term passes through the moment
estimates and is divided by :math:`\sqrt{\hat v}`: weights with a large
gradient history are decayed *less*, weights with small gradients *more* —
:func:`effective_decay_rates` computes the per-weight rate. AdamW decays every
weight by the same factor :math:`1 - \eta\lambda`.

Which weights to decay is decided by :func:`param_groups` (by module type and
dimensionality: weight matrices yes; biases, normalization parameters and
embeddings no); :func:`name_substring_groups` is the widely copied name filter,
kept to show how it miscounts. :func:`configure_adamw` builds ``torch.optim.AdamW``
on those two groups, and :func:`warmup_cosine_schedule` the learning-rate
schedule (linear warm-up, then cosine decay) of the complete training recipe.
The trajectories of these optimizers on 2-D
toy losses, for the chapter's demo, are recorded by
:func:`course_lib.optimizer_paths.optimizer_path`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

from course_lib._validation import (
    check_bool,
    check_int,
    check_non_negative,
    check_probability,
    check_real,
    describe_value,
)

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "param_groups",
    "name_substring_groups",
    "count_parameters",
    "configure_adamw",
    "warmup_cosine_schedule",
    "effective_decay_rates",
    "RelativeStepMeter",
]

# Modules whose parameters are never decayed: their scale and shift set the
# statistics of activations, not a learned mapping that could overfit.
NORMALIZATION_MODULES: tuple[type[nn.Module], ...] = tuple(
    module_type
    for module_type in (
        nn.modules.batchnorm._NormBase,  # BatchNorm*d, InstanceNorm*d, SyncBatchNorm, the lazy variants
        nn.LayerNorm,
        nn.GroupNorm,
        getattr(nn, "RMSNorm", None),  # torch >= 2.4
        nn.LocalResponseNorm,
        nn.CrossMapLRN2d,
    )
    if module_type is not None
)
EMBEDDING_MODULES: tuple[type[nn.Module], ...] = (nn.Embedding, nn.EmbeddingBag)


# --- argument checks ------------------------------------------------------------------------

def _check_hyperparameter(name: str, value: Any, torch_message: str) -> float:
    """``value`` as a float after checking it is a finite real number >= 0.

    The ValueError names the argument and, in brackets, repeats torch.optim's
    wording ("Invalid learning rate: -1.0"), so either can be searched for.
    """
    if isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a real number, got a tensor {value!r}; pass float({name.split('[')[0]}) "
            "(course_lib's optimizers keep plain float hyper-parameters)"
        )
    value = check_real(name, value)
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r} ({torch_message}: {value!r})")
    return value


def _check_betas(name: str, betas: Any) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"{name} must be a pair (beta1, beta2), got {type(betas).__name__} {betas!r}")
    checked = []
    for index, beta in enumerate(betas):
        beta_name = f"{name}[{index}]"
        beta = check_real(beta_name, beta)
        if not 0.0 <= beta < 1.0:
            raise ValueError(
                f"{beta_name} must be in [0, 1), got {beta!r} (Invalid beta parameter at index {index}: {beta!r})"
            )
        checked.append(beta)
    return checked[0], checked[1]


def _check_params(params: Any) -> Any:
    """Reject ``None`` and the two common mix-ups before torch's generic message would."""
    if params is None:
        raise TypeError("params must be parameters or parameter groups (e.g. model.parameters()), got None")
    if isinstance(params, torch.optim.Optimizer):
        raise TypeError(
            f"params must be parameters or parameter groups, got an optimizer ({type(params).__name__}); "
            "pass model.parameters() or param_groups(model, weight_decay)"
        )
    if isinstance(params, nn.Module):
        raise TypeError(
            f"params must be parameters or parameter groups, got a module ({type(params).__name__}); "
            "pass model.parameters() or param_groups(model, weight_decay)"
        )
    if isinstance(params, torch.Tensor):
        raise TypeError("params must be an iterable of parameters, got a single tensor; pass [tensor]")
    if isinstance(params, (str, bytes, dict, set, frozenset)) or not isinstance(params, Iterable):
        raise TypeError(
            f"params must be an ordered iterable of parameters or parameter groups (a list, "
            f"model.parameters()), got {describe_value(params)}"
        )
    params = list(params)
    if not params:
        raise ValueError("params must hold at least one parameter, got an empty iterable (optimizer got an empty parameter list)")
    return params


def _check_group_params(group: Any, name: str, earlier: Iterable[dict[str, Any]]) -> None:
    """Check a parameter group's ``"params"`` in place: tensors, floating, leaves, none listed twice.

    ``"params"`` becomes a list. A parameter listed twice, in this group or in an earlier one, is a
    ValueError: it would be stepped twice per ``step()`` (torch only warns within one group).
    """
    if not isinstance(group, dict):
        raise TypeError(f"{name} must be a parameter or a dict with 'params', got {describe_value(group)}")
    if "params" not in group:
        raise ValueError(f"{name} must be a dict with a 'params' entry, got the keys {sorted(map(str, group))}")
    params = group["params"]
    if isinstance(params, torch.Tensor):
        params = [params]
    elif isinstance(params, (str, bytes, dict, set, frozenset)) or not isinstance(params, Iterable):
        raise TypeError(f"{name}['params'] must be a tensor or an ordered iterable of tensors, got {describe_value(params)}")
    params = list(params)
    in_earlier = {id(p) for g in earlier for p in g["params"]}
    seen: set[int] = set()
    for position, param in enumerate(params):
        where = f"{name}['params'][{position}]"
        if not isinstance(param, torch.Tensor):
            raise TypeError(f"{where} must be a torch.Tensor, got {describe_value(param)}")
        if not param.is_floating_point():
            raise TypeError(f"{where} must be a floating-point tensor, got dtype {param.dtype}")
        if not param.is_leaf:
            raise ValueError(f"{where} must be a leaf tensor (e.g. an nn.Parameter), got the result of a computation")
        if id(param) in in_earlier:
            raise ValueError(
                f"{where} (shape {tuple(param.shape)}) is already in an earlier group: it would be stepped twice "
                "(some parameters appear in more than one parameter group)"
            )
        if id(param) in seen:
            raise ValueError(
                f"{where} (shape {tuple(param.shape)}) is listed twice in its group: it would be stepped twice "
                "(torch.optim only warns about duplicate parameters)"
            )
        seen.add(id(param))
    group["params"] = params


def _dense_gradient(param: torch.Tensor, optimizer_name: str) -> torch.Tensor:
    grad = param.grad
    if grad.is_sparse:
        raise RuntimeError(
            f"{optimizer_name} does not support sparse gradients (got one for a parameter of shape "
            f"{tuple(param.shape)}); use dense gradients, e.g. nn.Embedding(..., sparse=False)"
        )
    return grad


def _group_key_name(prefix: str, key: str) -> str:
    """How an error names a hyper-parameter: ``lr`` for the constructor, ``param_groups[1]['lr']`` for a group."""
    return f"{prefix}[{key!r}]" if prefix else key


class _ValidatedOptimizer(torch.optim.Optimizer):
    """Checks every parameter group's hyper-parameters when it is added."""

    def _check_group(self, group: dict[str, Any], prefix: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        index = len(self.param_groups)
        _check_group_params(param_group, f"params (param_groups[{index}])", self.param_groups)
        super().add_param_group(param_group)
        try:
            self._check_group(self.param_groups[index], f"param_groups[{index}]")
        except (TypeError, ValueError):
            self.param_groups.pop()
            raise

    @staticmethod
    def _closure_loss(closure: Callable[[], torch.Tensor] | None) -> torch.Tensor | None:
        """``closure()`` with gradients enabled (it re-evaluates the loss and calls backward), or None.

        The closure must return the loss as a one-element tensor (TypeError otherwise), and a finite
        one: a NaN or infinite loss is a ValueError raised before any parameter is changed.
        """
        if closure is None:
            return None
        if not callable(closure):
            raise TypeError(f"closure must be callable or None, got {describe_value(closure)}")
        with torch.enable_grad():
            loss = closure()
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            got = f"shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else describe_value(loss)
            raise TypeError(f"closure must return the loss as a one-element tensor, got {got}")
        if not bool(torch.isfinite(loss.detach()).all()):
            raise ValueError(
                f"closure returned a non-finite loss ({loss.item()}): no step is taken on its gradients"
            )
        return loss


# --- SGD --------------------------------------------------------------------------------------

class SGD(_ValidatedOptimizer):
    r"""Stochastic gradient descent with momentum, Nesterov momentum, and L2 or decoupled weight decay.

    With gradient :math:`g_t = \nabla L(w_{t-1})`, learning rate :math:`\eta`,
    momentum :math:`\mu`, dampening :math:`\tau` and weight decay :math:`\lambda`:

    .. math::
        \begin{aligned}
        &\text{L2 (decoupled=False):} && g_t \leftarrow g_t + \lambda w_{t-1}, \\
        &\text{decoupled (SGDW):} && w_{t-1} \leftarrow (1 - \eta\lambda)\, w_{t-1}, \\
        &\text{momentum } (\mu > 0): && b_1 = g_1, \quad b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t, \\
        & && d_t = g_t + \mu\, b_t \;\text{(Nesterov)} \quad\text{or}\quad d_t = b_t, \\
        &\text{step:} && w_t = w_{t-1} - \eta\, d_t \qquad (d_t = g_t \text{ when } \mu = 0).
        \end{aligned}

    ``decoupled=False`` is exactly ``torch.optim.SGD``. Without momentum the two
    forms are the *same* update,
    :math:`w_t = (1 - \eta\lambda) w_{t-1} - \eta \nabla L(w_{t-1})`. With
    momentum they differ: under L2 the term :math:`\lambda w` enters the buffer,
    and a constant contribution :math:`c` accumulates there to
    :math:`c\,(1-\tau)/(1-\mu)`, so in steady state the decay is amplified by
    :math:`1/(1-\mu)` (tenfold for :math:`\mu = 0.9`), while decoupled decay
    stays at :math:`\eta\lambda` per step (:func:`effective_decay_rates`).

    Args:
        params: parameters, or parameter groups (dicts with ``"params"`` and
            per-group hyper-parameters, e.g. from :func:`param_groups`).
            ``None`` or an empty iterable is an error; a parameter listed twice
            (in one group, where torch only warns, or in two) is a ValueError,
            since it would be stepped twice. Hyper-parameters are plain real
            numbers: a 0-d tensor (which torch accepts) is a TypeError.
        lr: learning rate :math:`\eta \ge 0` (required).
        momentum: :math:`\mu \in [0, 1)`. Stricter than torch (which takes
            any :math:`\mu \ge 0`): with :math:`\mu \ge 1` the buffer never
            forgets and :math:`1/(1-\mu)` does not exist, so it is a ValueError.
        dampening: :math:`\tau \in [0, 1]`, scales the new gradient in the buffer.
        weight_decay: :math:`\lambda \ge 0`.
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        decoupled: shrink the weights directly instead of adding :math:`\lambda w` to the gradient.

    Example:
        >>> model = nn.Linear(3, 1)
        >>> optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        >>> model(torch.ones(2, 3)).sum().backward()
        >>> optimizer.step()
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        decoupled: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "decoupled": decoupled,
        }
        self._check_group(defaults, prefix="")
        super().__init__(_check_params(params), defaults)

    def _check_group(self, group: dict[str, Any], prefix: str) -> None:
        name = functools.partial(_group_key_name, prefix)
        group["lr"] = _check_hyperparameter(name("lr"), group["lr"], "Invalid learning rate")
        group["momentum"] = _check_hyperparameter(name("momentum"), group["momentum"], "Invalid momentum value")
        if group["momentum"] >= 1.0:
            raise ValueError(
                f"{name('momentum')} must be in [0, 1), got {group['momentum']!r} "
                "(with momentum >= 1 the buffer never forgets a gradient and the steps grow without bound)"
            )
        group["dampening"] = _check_hyperparameter(name("dampening"), group["dampening"], "Invalid dampening value")
        if group["dampening"] > 1.0:
            raise ValueError(f"{name('dampening')} must be in [0, 1], got {group['dampening']!r}")
        group["weight_decay"] = _check_hyperparameter(
            name("weight_decay"), group["weight_decay"], "Invalid weight_decay value"
        )
        group["nesterov"] = check_bool(name("nesterov"), group["nesterov"])
        group["decoupled"] = check_bool(name("decoupled"), group["decoupled"])
        if group["nesterov"] and (group["momentum"] <= 0.0 or group["dampening"] != 0.0):
            raise ValueError(
                f"{name('nesterov')}=True needs momentum > 0 and dampening == 0, got momentum="
                f"{group['momentum']!r} and dampening={group['dampening']!r} "
                "(Nesterov momentum requires a momentum and zero dampening)"
            )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:  # a state saved by torch.optim.SGD has no "decoupled"
            group.setdefault("nesterov", False)
            group.setdefault("decoupled", False)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Update every parameter that has a gradient; return ``closure()`` if given (a finite loss tensor)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov, decoupled = group["weight_decay"], group["nesterov"], group["decoupled"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = _dense_gradient(param, "SGD")
                if weight_decay != 0:
                    if decoupled:
                        param.mul_(1 - lr * weight_decay)  # w <- (1 - lr*wd) w
                    else:
                        grad = grad.add(param, alpha=weight_decay)  # g <- g + wd*w (a new tensor)
                if momentum != 0:
                    state = self.state[param]
                    buffer = state.get("momentum_buffer")
                    if buffer is None:  # first step: the buffer starts as the gradient itself
                        buffer = state["momentum_buffer"] = grad.detach().clone()
                    else:
                        buffer.mul_(momentum).add_(grad, alpha=1 - dampening)
                    grad = grad.add(buffer, alpha=momentum) if nesterov else buffer
                param.add_(grad, alpha=-lr)
        return loss


# --- Adam and AdamW ---------------------------------------------------------------------------

def _scalar_step_dtype() -> torch.dtype:
    """torch.optim keeps Adam's step count as a float tensor: float64 if that is the default dtype."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


class Adam(_ValidatedOptimizer):
    r"""Adam (Kingma & Ba, 2015) with L2 weight decay added to the gradient, and optional AMSGrad.

    With gradient :math:`g_t`, learning rate :math:`\eta`, betas
    :math:`(\beta_1, \beta_2)`, :math:`\epsilon` and weight decay :math:`\lambda`:

    .. math::
        \begin{aligned}
        g_t &\leftarrow g_t + \lambda w_{t-1} &&\text{(L2: the decay term enters both moments)} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat v_t &= \frac{v_t}{1 - \beta_2^t}
            \quad\text{or, with AMSGrad,}\quad \frac{\max(v_1, \dots, v_t)}{1 - \beta_2^t} \\
        w_t &= w_{t-1} - \frac{\eta}{1 - \beta_1^t}\; \frac{m_t}{\sqrt{\hat v_t} + \epsilon}
        \end{aligned}

    As in torch, :math:`m_t` is computed as ``exp_avg.lerp_(grad, 1 - beta1)``
    and the denominator as ``sqrt(v_t) / sqrt(1 - beta2**t) + eps``. Because
    :math:`\lambda w` is divided by :math:`\sqrt{\hat v}`, weights with a large
    gradient history are decayed *less* (:func:`effective_decay_rates`); use
    :class:`AdamW` for decay that treats all weights alike.

    Args:
        params: parameters or parameter groups.
            ``None`` or an empty iterable is an error; a parameter listed twice
            (in one group, where torch only warns, or in two) is a ValueError,
            since it would be stepped twice. Hyper-parameters are plain real
            numbers: a 0-d tensor (which torch accepts) is a TypeError.
        lr: learning rate :math:`\eta \ge 0`.
        betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
        eps: :math:`\epsilon > 0`, added to :math:`\sqrt{\hat v}`. ``eps=0``
            (which torch accepts) is a ValueError: a weight with an all-zero
            gradient history would get the step :math:`0/0` = NaN.
        weight_decay: L2 strength :math:`\lambda \ge 0`.
        amsgrad: normalise by the running maximum of :math:`v_t` (Reddi et al., 2018).

    ``step`` raises a ValueError when squaring a finite gradient overflows
    :math:`v_t` (e.g. ``weight_decay=1e300``): torch silently takes the step
    :math:`m / \infty = 0` then, for that step and every later one.

    Example:
        >>> model = nn.Linear(3, 1)
        >>> optimizer = Adam(model.parameters(), lr=1e-3)
        >>> model(torch.ones(2, 3)).sum().backward()
        >>> optimizer.step()
        >>> sorted(optimizer.state[model.weight])
        ['exp_avg', 'exp_avg_sq', 'step']
    """

    decoupled_weight_decay = False  # AdamW: True

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad}
        self._check_group(defaults, prefix="")
        super().__init__(_check_params(params), defaults)

    def _check_group(self, group: dict[str, Any], prefix: str) -> None:
        name = functools.partial(_group_key_name, prefix)
        group["lr"] = _check_hyperparameter(name("lr"), group["lr"], "Invalid learning rate")
        group["betas"] = _check_betas(name("betas"), group["betas"])
        group["eps"] = _check_hyperparameter(name("eps"), group["eps"], "Invalid epsilon value")
        if group["eps"] == 0.0:
            raise ValueError(
                f"{name('eps')} must be > 0, got 0.0 (a weight whose gradients have all been zero "
                "would get the step 0 / 0 = NaN)"
            )
        group["weight_decay"] = _check_hyperparameter(
            name("weight_decay"), group["weight_decay"], "Invalid weight_decay value"
        )
        group["amsgrad"] = check_bool(name("amsgrad"), group["amsgrad"])

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Update every parameter that has a gradient; return ``closure()`` if given (a finite loss tensor)."""
        loss = self._closure_loss(closure)
        name = type(self).__name__
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = _dense_gradient(param, name)
                if torch.is_complex(param):
                    raise RuntimeError(f"{name} here supports real parameters only, got dtype {param.dtype}")
                state = self.state[param]
                if len(state) == 0:  # lazy initialisation, as torch.optim
                    state["step"] = torch.tensor(0.0, dtype=_scalar_step_dtype())
                    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                    if amsgrad:
                        state["max_exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                state["step"] += 1
                step = state["step"].item()

                if weight_decay != 0:
                    if self.decoupled_weight_decay:
                        param.mul_(1 - lr * weight_decay)  # AdamW: w <- (1 - lr*wd) w
                    else:
                        grad = grad.add(param, alpha=weight_decay)  # Adam + L2: g <- g + wd*w

                exp_avg.lerp_(grad, 1 - beta1)  # m <- beta1 m + (1 - beta1) g
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # v <- beta2 v + (1 - beta2) g^2
                _check_second_moment(exp_avg_sq, grad, weight_decay and not self.decoupled_weight_decay, param.dtype)

                bias_correction1 = 1 - beta1**step
                bias_correction2_sqrt = (1 - beta2**step) ** 0.5  # ** 0.5, not math.sqrt: torch's rounding
                step_size = lr / bias_correction1
                if amsgrad:
                    max_exp_avg_sq = state["max_exp_avg_sq"]
                    torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    second_moment = max_exp_avg_sq
                else:
                    second_moment = exp_avg_sq
                denom = second_moment.sqrt().div_(bias_correction2_sqrt).add_(eps)  # sqrt(v_hat) + eps
                param.addcdiv_(exp_avg, denom, value=-step_size)  # w <- w - lr/bc1 * m / denom
        return loss


def _check_second_moment(exp_avg_sq: torch.Tensor, grad: torch.Tensor, l2: bool, dtype: torch.dtype) -> None:
    """ValueError if squaring a *finite* gradient overflowed :math:`v` (every later step would be 0).

    A non-finite gradient (a diverged run) is left to the caller (e.g. :func:`course_lib.train.fit`
    reports it as divergence), as in torch.
    """
    # v >= 0, so one sum finds an infinite entry (the exact check runs only when the sum is infinite).
    if math.isinf(float(exp_avg_sq.sum())) and bool(torch.isinf(exp_avg_sq).any()) and bool(torch.isfinite(grad).all()):
        cause = " (the gradient includes the L2 term weight_decay * w)" if l2 else ""
        raise ValueError(
            f"the second-moment estimate v overflowed {dtype}: a gradient of size "
            f"{grad.abs().max().item():.3g}{cause} is too large to square, and with v = inf the weight "
            "would never move again; scale the loss or the weight_decay down"
        )


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with weight decay decoupled from the adaptive step.

    .. math::
        \begin{aligned}
        w_{t-1} &\leftarrow (1 - \eta\lambda)\, w_{t-1} &&\text{(decay first, outside the moments)} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        w_t &= w_{t-1} - \frac{\eta}{1 - \beta_1^t}\; \frac{m_t}{\sqrt{\hat v_t} + \epsilon},
        \qquad \hat v_t = \frac{v_t \text{ (or } \max_{s \le t} v_s)}{1 - \beta_2^t}
        \end{aligned}

    The gradient :math:`g_t` is the data gradient alone, so every weight loses
    the same fraction :math:`\eta\lambda` per step whatever its gradient
    history — the decay that L2 gives plain SGD. Matches ``torch.optim.AdamW``
    (whose default ``weight_decay`` is also ``1e-2``). Like torch, the decay is
    multiplied by the learning rate, :math:`(1 - \eta\lambda)`; in the paper's
    Algorithm 2 it is multiplied only by the schedule multiplier
    :math:`\eta_t`, not by the base step size :math:`\alpha`.

    Args:
        params: parameters or parameter groups (usually :func:`param_groups`).
        lr: learning rate :math:`\eta \ge 0`.
        betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
        eps: :math:`\epsilon \ge 0`.
        weight_decay: :math:`\lambda \ge 0`.
        amsgrad: normalise by the running maximum of :math:`v_t`.

    Example:
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 1))
        >>> optimizer = AdamW(param_groups(model, weight_decay=0.1), lr=3e-4, betas=(0.9, 0.95))
        >>> model(torch.ones(2, 4)).sum().backward()
        >>> optimizer.step()
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


# --- parameter groups -------------------------------------------------------------------------

def _parameter_is_decayed(module: nn.Module, param: nn.Parameter, decay_embeddings: bool) -> bool:
    """The rule for one use of a parameter: by the owning module's type, then by dimensionality."""
    if isinstance(module, NORMALIZATION_MODULES):
        return False
    if isinstance(module, EMBEDDING_MODULES):
        return decay_embeddings
    return param.ndim >= 2  # weight matrices and kernels (Linear, conv, custom); not biases or scales


def _count(params: Iterable[torch.Tensor]) -> tuple[int, int]:
    params = list(params)
    return sum(p.numel() for p in params), len(params)


def param_groups(
    model: nn.Module, weight_decay: float, *, decay_embeddings: bool = False, verbose: bool = False
) -> list[dict[str, Any]]:
    r"""Split a model's trainable parameters into a decayed and a not-decayed group.

    Returns ``[{"params": decay, "weight_decay": weight_decay},
    {"params": no_decay, "weight_decay": 0.0}]``, ready for :class:`AdamW` or
    ``torch.optim.AdamW``. The decision is made by *module type and
    dimensionality*, never by parameter name:

    * **decayed**: weights with ``ndim >= 2`` — ``nn.Linear`` and convolution
      weights, attention projections, and matrices held by custom modules;
    * **not decayed**: every parameter of a normalization module
      (``NORMALIZATION_MODULES``: BatchNorm/InstanceNorm, LayerNorm, GroupNorm,
      RMSNorm), every other parameter with ``ndim <= 1`` (biases, scales), and
      ``nn.Embedding``/``nn.EmbeddingBag`` weights unless ``decay_embeddings``.

    Shared (tied) parameters appear once, at their first position in
    ``model.parameters()`` order. **Tying rule**: a parameter used by several
    modules is decayed if *any* of its uses is decayed — a language-model head
    tied to the token embedding is decayed because the head is an
    ``nn.Linear`` (as nanoGPT decays every 2-D tensor). Frozen parameters
    (``requires_grad=False``) are left out.

    Args:
        model: the module whose parameters to group.
        weight_decay: :math:`\lambda \ge 0` for the decayed group.
        decay_embeddings: also decay embedding tables.
        verbose: print the counts, e.g.
            ``decay: 8,192 parameters in 2 tensors; no decay: 256 parameters in 4 tensors``.

    Returns:
        The two parameter groups (either may have an empty ``"params"`` list).

    Example:
        >>> model = nn.Sequential(nn.Linear(64, 64), nn.LayerNorm(64), nn.Linear(64, 64))
        >>> groups = param_groups(model, weight_decay=0.1, verbose=True)
        decay: 8,192 parameters in 2 tensors; no decay: 256 parameters in 4 tensors
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    weight_decay = check_non_negative("weight_decay", weight_decay)
    decay_embeddings = check_bool("decay_embeddings", decay_embeddings)
    verbose = check_bool("verbose", verbose)

    decided: dict[int, bool] = {}  # id(param) -> decayed? (True if any use says so)
    order: list[nn.Parameter] = []
    for module in model.modules():
        for param in module.parameters(recurse=False):
            if not param.requires_grad:
                continue
            decayed = _parameter_is_decayed(module, param, decay_embeddings)
            if id(param) not in decided:
                order.append(param)
                decided[id(param)] = decayed
            else:
                decided[id(param)] = decided[id(param)] or decayed
    decay = [p for p in order if decided[id(p)]]
    no_decay = [p for p in order if not decided[id(p)]]
    if verbose:
        (n_decay, t_decay), (n_rest, t_rest) = _count(decay), _count(no_decay)
        print(f"decay: {n_decay:,} parameters in {t_decay} tensors; no decay: {n_rest:,} parameters in {t_rest} tensors")
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _check_substrings(no_decay: Any) -> tuple[str, ...]:
    if isinstance(no_decay, (str, bytes, dict)) or not isinstance(no_decay, Iterable):
        raise TypeError(f"no_decay must be a sequence of strings, got {type(no_decay).__name__} {no_decay!r}")
    no_decay = tuple(no_decay)
    if not all(isinstance(s, str) for s in no_decay):
        raise TypeError(f"no_decay must be a sequence of strings, got {no_decay!r}")
    return no_decay


def name_substring_groups(
    model: nn.Module, weight_decay: float, no_decay: tuple[str, ...] = ("bias", "LayerNorm.weight")
) -> list[dict[str, Any]]:
    """The widely copied *name filter* for weight-decay groups — fragile, kept to show why.

    Reproduces the snippet found in many fine-tuning scripts::

        no_decay = ["bias", "LayerNorm.weight"]
        [{"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], ...},
         {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], ...}]

    It only works when the LayerNorm attribute happens to be *called*
    ``LayerNorm``. Under ``nn.Sequential`` a LayerNorm's weight is named
    ``"1.weight"``, so it is decayed: for Linear(64,64) → LayerNorm(64) →
    Linear(64,64) this gives 8,256 decayed and 192 not decayed parameters
    instead of 8,192 and 256. Use :func:`param_groups` instead. As in the
    snippet, frozen parameters are not filtered out.

    Args:
        model: the module.
        weight_decay: :math:`\\lambda \\ge 0` for the first group.
        no_decay: substrings; a parameter whose name contains any is not decayed
            (a sequence of str; a single str or ``None`` is a TypeError).

    Returns:
        ``[{"params": ..., "weight_decay": weight_decay}, {"params": ..., "weight_decay": 0.0}]``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    weight_decay = check_non_negative("weight_decay", weight_decay)
    no_decay = _check_substrings(no_decay)
    named = list(model.named_parameters())
    return [
        {"params": [p for n, p in named if not any(nd in n for nd in no_decay)], "weight_decay": weight_decay},
        {"params": [p for n, p in named if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]


def _group_tensors(params: Any, name: str) -> list[torch.Tensor]:
    """A group's ``"params"`` as a list of tensors; anything else (None, ndarrays, numbers) is a TypeError."""
    if isinstance(params, torch.Tensor):
        return [params]
    if params is None or isinstance(params, (str, dict)) or not isinstance(params, Iterable):
        raise TypeError(f"{name} must be a tensor or an iterable of tensors, got {type(params).__name__}")
    params = list(params)
    for position, param in enumerate(params):
        if not isinstance(param, torch.Tensor):
            raise TypeError(f"{name}[{position}] must be a torch.Tensor, got {type(param).__name__}")
    return params


def count_parameters(groups: Iterable[dict[str, Any]] | torch.optim.Optimizer) -> tuple[int, int]:
    """Numbers of scalar parameters in decayed and in not-decayed groups.

    A group counts as decayed when its ``"weight_decay"`` is > 0 (so with
    ``weight_decay=0`` everything is "not decayed"). A tensor listed twice,
    in one group or in two, is deliberately accepted and counted once (in the
    first group that lists it). ``groups=None``, and a group whose
    ``"params"`` are not torch tensors (e.g. NumPy arrays), are a TypeError
    naming the argument or the group.

    Args:
        groups: parameter groups (dicts with ``"params"`` and ``"weight_decay"``),
            or an optimizer, whose ``param_groups`` are used.

    Returns:
        ``(decayed, not_decayed)`` scalar counts.

    Example:
        >>> model = nn.Sequential(nn.Linear(64, 64), nn.LayerNorm(64), nn.Linear(64, 64))
        >>> count_parameters(param_groups(model, 0.1))
        (8192, 256)
    """
    if isinstance(groups, torch.optim.Optimizer):
        groups = groups.param_groups
    if groups is None or isinstance(groups, (dict, str)) or not isinstance(groups, Iterable):
        raise TypeError(
            f"groups must be an iterable of parameter groups or an optimizer, got {type(groups).__name__} {groups!r}"
        )
    decayed, not_decayed, seen = 0, 0, set()
    for index, group in enumerate(groups):
        if not isinstance(group, dict) or "params" not in group or "weight_decay" not in group:
            raise TypeError(f"groups[{index}] must be a dict with 'params' and 'weight_decay', got {group!r}")
        strength = _check_hyperparameter(f"groups[{index}]['weight_decay']", group["weight_decay"], "Invalid weight_decay value")
        for param in _group_tensors(group["params"], f"groups[{index}]['params']"):
            if id(param) in seen:
                continue
            seen.add(id(param))
            if strength > 0:
                decayed += param.numel()
            else:
                not_decayed += param.numel()
    return decayed, not_decayed


# --- the optimizer and schedule of a complete training recipe ---------------------------------

def configure_adamw(
    model: nn.Module, lr: float, weight_decay: float, *, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
) -> torch.optim.AdamW:
    r"""``torch.optim.AdamW`` on ``model`` with weight decay only where it regularizes (Loshchilov & Hutter, 2019).

    AdamW applies the decay *decoupled* from the adaptive step,

    .. math::

        w \leftarrow (1 - \eta\lambda_g)\,w - \eta\,\hat m / (\sqrt{\hat v} + \epsilon),

    with a per-group strength :math:`\lambda_g`. The two groups are those of
    :func:`param_groups` (decided by module type and dimensionality, never by
    name), in its order:

    * ``param_groups[0]``, :math:`\lambda_g = \text{weight\_decay}`: the weights
      with ``ndim >= 2`` — ``nn.Linear`` and convolution weights, attention
      projections;
    * ``param_groups[1]``, :math:`\lambda_g = 0`: biases and other parameters
      with ``ndim <= 1``, every parameter of a normalization module (BatchNorm,
      LayerNorm, GroupNorm, RMSNorm …) and embedding tables.

    Decaying a normalization layer's scale :math:`\gamma` or a bias only
    pulls the network towards a different function (a zero gain, a zero
    shift) without limiting its capacity, so they are left alone. Frozen
    parameters (``requires_grad=False``) are in no group; a tied parameter is
    in exactly one (decayed if any of its uses is). The groups are always two,
    even when one is empty, so ``optimizer.param_groups[0]`` is always the
    decayed one.

    Args:
        model: the ``torch.nn.Module`` to optimize (not its ``parameters()``,
            not an optimizer: the rule needs the modules), with at least one
            trainable parameter.
        lr: the learning rate :math:`\eta` (a finite number > 0).
        weight_decay: :math:`\lambda \ge 0` of the decayed group; the
            per-step shrink factor is :math:`1 - \eta\lambda`.
        betas: :math:`(\beta_1, \beta_2)`, each in ``[0, 1)``.
        eps: :math:`\epsilon > 0` added to :math:`\sqrt{\hat v}` (finite).

    Returns:
        The ``torch.optim.AdamW`` (its ``defaults`` hold ``lr``, ``betas``,
        ``eps`` and ``weight_decay``; each group its own ``weight_decay``).

    Example:
        >>> model = nn.Sequential(nn.Linear(64, 64), nn.LayerNorm(64), nn.GELU(), nn.Linear(64, 10))
        >>> optimizer = configure_adamw(model, lr=3e-3, weight_decay=0.05)
        >>> [group["weight_decay"] for group in optimizer.param_groups], count_parameters(optimizer)
        ([0.05, 0.0], (4736, 202))
    """
    if isinstance(model, torch.optim.Optimizer):
        raise TypeError(
            f"model must be a torch.nn.Module, got an optimizer ({type(model).__name__}); "
            "configure_adamw builds the optimizer itself from the model's modules"
        )
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module (the network itself, not model.parameters(): the decay rule needs "
            f"the module of each parameter), got {describe_value(model)}"
        )
    lr = _check_hyperparameter("lr", lr, "Invalid learning rate")
    if lr == 0.0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    weight_decay = _check_hyperparameter("weight_decay", weight_decay, "Invalid weight_decay value")
    betas = _check_betas("betas", betas)
    eps = _check_hyperparameter("eps", eps, "Invalid epsilon value")
    if eps == 0.0:
        raise ValueError("eps must be > 0, got 0.0 (a weight whose gradients have all been zero would get the step 0 / 0 = NaN)")
    groups = param_groups(model, weight_decay)
    if not any(group["params"] for group in groups):
        raise ValueError(
            f"model ({type(model).__name__}) has no trainable parameters (none with requires_grad=True): nothing to optimize"
        )
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


class _WarmupCosineFactor:
    """The factor :func:`warmup_cosine_schedule` multiplies each group's learning rate by, as a function of the epoch.

    A callable object rather than a closure, so ``LambdaLR.state_dict()`` saves
    its settings and the scheduler can be pickled.
    """

    def __init__(self, warmup_epochs: int, total_epochs: int, min_factor: float) -> None:
        self.warmup_epochs, self.total_epochs, self.min_factor = warmup_epochs, total_epochs, min_factor

    def __call__(self, epoch: int) -> float:
        warmup, total, floor = self.warmup_epochs, self.total_epochs, self.min_factor
        if epoch < warmup:
            return (epoch + 1) / (warmup + 1)
        if epoch >= total:
            return floor
        progress = (epoch - warmup) / (total - warmup)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(warmup_epochs={self.warmup_epochs}, total_epochs={self.total_epochs}, "
            f"min_factor={self.min_factor})"
        )


def warmup_cosine_schedule(
    optimizer: torch.optim.Optimizer, warmup_epochs: int, total_epochs: int, min_factor: float = 0.0
) -> torch.optim.lr_scheduler.LambdaLR:
    r"""A linear warm-up followed by a cosine decay, as a ``LambdaLR`` stepped once per epoch.

    The learning rate of epoch :math:`e = 0, 1, \dots` (the scheduler's
    ``last_epoch`` after :math:`e` calls of ``step()``, as
    :func:`course_lib.train.fit` makes them, one after each epoch) is
    :math:`\eta_e = f(e)\,\eta` for each group's initial rate :math:`\eta`, with
    :math:`W` = ``warmup_epochs``, :math:`E` = ``total_epochs`` and
    :math:`m` = ``min_factor``:

    .. math::

        f(e) = \begin{cases}
            \dfrac{e + 1}{W + 1} & 0 \le e < W \quad\text{(warm-up)},\\[1ex]
            m + (1 - m)\,\tfrac12\bigl(1 + \cos\bigl(\pi\,\tfrac{e - W}{E - W}\bigr)\bigr) & W \le e \le E,\\[1ex]
            m & e > E.
        \end{cases}

    The warm-up rises in equal steps :math:`\tfrac{1}{W+1}, \tfrac{2}{W+1},
    \dots, \tfrac{W}{W+1}` to the full rate at epoch :math:`W` (never from 0,
    which would waste an epoch): Adam's second-moment estimate :math:`\hat v`
    rests on few gradients in the first steps, and small steps keep its noise
    from throwing the weights far. The cosine then anneals from :math:`\eta`
    to :math:`m\eta` at epoch :math:`E`, so the last epochs of a run of
    :math:`E` epochs take small steps. With :math:`W = 0` and :math:`m = 0`
    this is ``CosineAnnealingLR(optimizer, T_max=E)`` in closed form (the
    same rates up to rounding).

    Args:
        optimizer: a ``torch.optim.Optimizer`` (each group's ``lr`` at the call
            is its :math:`\eta`).
        warmup_epochs: :math:`W`, an int >= 0 and < ``total_epochs`` (0 = no warm-up).
        total_epochs: :math:`E`, an int >= 1: the run's number of epochs.
        min_factor: :math:`m \in [0, 1]`, the final rate as a share of :math:`\eta`.

    Returns:
        The ``torch.optim.lr_scheduler.LambdaLR``; building it sets the rates of epoch 0.

    Example:
        >>> optimizer = torch.optim.AdamW([nn.Parameter(torch.zeros(2))], lr=1.0)
        >>> scheduler = warmup_cosine_schedule(optimizer, warmup_epochs=3, total_epochs=7)
        >>> rates = []
        >>> for epoch in range(8):
        ...     rates.append(round(optimizer.param_groups[0]["lr"], 4))
        ...     optimizer.step(); scheduler.step()
        >>> rates
        [0.25, 0.5, 0.75, 1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {describe_value(optimizer)}")
    warmup_epochs = check_int("warmup_epochs", warmup_epochs, minimum=0)
    total_epochs = check_int("total_epochs", total_epochs, minimum=1)
    if warmup_epochs >= total_epochs:
        raise ValueError(
            f"warmup_epochs must be less than total_epochs (the cosine needs at least one epoch), "
            f"got warmup_epochs={warmup_epochs} and total_epochs={total_epochs}"
        )
    min_factor = check_probability("min_factor", min_factor, allow_one=True)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, _WarmupCosineFactor(warmup_epochs, total_epochs, min_factor))


# --- how strongly each weight is decayed ------------------------------------------------------

def effective_decay_rates(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    r"""Per weight, the fraction of the weight that weight decay removes per step, in steady state.

    Write the update caused by the decay term as :math:`w \leftarrow (1 - r)\,w`.

    * **SGD, decoupled**: :math:`r = \eta\lambda` by construction.
    * **SGD with L2**, no momentum: the step contains :math:`\eta\lambda w`, so
      :math:`r = \eta\lambda`. With momentum :math:`\mu` and dampening
      :math:`\tau`, the buffer :math:`b \leftarrow \mu b + (1-\tau)\lambda w`
      accumulates the (slowly varying) term to
      :math:`b = (1-\tau)\lambda w / (1-\mu)`, so
      :math:`r = \eta\lambda(1-\tau)/(1-\mu)` (with Nesterov, :math:`\tau = 0`:
      :math:`\lambda w + \mu b = \lambda w/(1-\mu)`, the same).
    * **Adam with L2**: the moving average of the constant part
      :math:`\lambda w` of the gradient is :math:`\lambda w` (after bias
      correction), and it is divided by :math:`\sqrt{\hat v} + \epsilon`, so
      :math:`r = \eta\lambda / (\sqrt{\hat v} + \epsilon)` with
      :math:`\hat v = v/(1-\beta_2^t)` (``max_exp_avg_sq`` under AMSGrad). A
      weight with a large gradient history (large :math:`\hat v`) is decayed
      *less* — the opposite of what a regularizer should do.
    * **AdamW**: :math:`r = \eta\lambda` for every weight.

    Args:
        optimizer: a :class:`SGD`, :class:`Adam` or :class:`AdamW` from this
            module (or the ``torch.optim`` class of the same name).

    Returns:
        One tensor per parameter, in the order of
        ``[p for g in optimizer.param_groups for p in g["params"]]``, each of
        the parameter's shape. For Adam with L2 the rate depends on
        :math:`\hat v`, so every decayed parameter must have been stepped.
    """
    if isinstance(optimizer, (SGD, torch.optim.SGD)):
        kind = "sgd"
    elif isinstance(optimizer, (AdamW, torch.optim.AdamW)):
        kind = "adamw"
    elif isinstance(optimizer, (Adam, torch.optim.Adam)):
        decoupled = getattr(optimizer, "decoupled_weight_decay", False)
        kind = "adamw" if decoupled is True else "adam"
    else:
        raise TypeError(f"optimizer must be an SGD, Adam or AdamW optimizer, got {type(optimizer).__name__}")
    rates = []
    for group_index, group in enumerate(optimizer.param_groups):
        lr, weight_decay = float(group["lr"]), float(group["weight_decay"])
        if kind == "adam" and group.get("decoupled_weight_decay", False):  # torch.optim.Adam(..., decoupled_weight_decay=True)
            group_kind = "adamw"
        else:
            group_kind = kind
        for param_index, param in enumerate(group["params"]):
            if weight_decay == 0:
                rate = torch.zeros_like(param)
            elif group_kind == "sgd":
                momentum, dampening = group["momentum"], group["dampening"]
                if group.get("decoupled", False) or momentum == 0:
                    rate = torch.full_like(param, lr * weight_decay)
                elif momentum >= 1:
                    raise ValueError(f"param_groups[{group_index}] has momentum {momentum!r} >= 1: no steady state")
                else:
                    rate = torch.full_like(param, lr * weight_decay * (1 - dampening) / (1 - momentum))
            elif group_kind == "adamw":
                rate = torch.full_like(param, lr * weight_decay)
            else:
                state = optimizer.state.get(param, {})
                if "exp_avg_sq" not in state:
                    raise ValueError(
                        f"param_groups[{group_index}]['params'][{param_index}] has no Adam state yet: "
                        "the L2 rate depends on its gradient history, call step() first"
                    )
                beta2 = group["betas"][1]
                second_moment = state["max_exp_avg_sq"] if group["amsgrad"] else state["exp_avg_sq"]
                v_hat = second_moment / (1 - beta2 ** float(state["step"]))
                rate = lr * weight_decay / (v_hat.sqrt() + group["eps"])
            rates.append(rate)
    return rates


# --- how far each step moves a weight, relative to its size ---------------------------------

class RelativeStepMeter:
    r"""Records :math:`\lVert w_t - w_{t-1}\rVert_2 / \lVert w_{t-1}\rVert_2` for one tensor at every optimizer step.

    For a weight whose layer is followed by a normalization (batch norm, layer
    norm, …), the network computes the same function for :math:`w` and
    :math:`c\,w`; only the *direction* of :math:`w` matters, and the relative
    step is the learning rate the direction actually sees (van Laarhoven, 2017,
    "L2 regularization versus batch and weight normalization"). Weight decay
    acts on such a weight only through this quantity: it keeps
    :math:`\lVert w\rVert` from growing, and so keeps the relative step from
    shrinking.

    The meter hooks into ``optimizer.step`` (``register_step_pre_hook`` /
    ``register_step_post_hook``, which every ``torch.optim.Optimizer`` has), so
    it works inside any training loop, e.g. :func:`course_lib.train.fit`.

    Args:
        optimizer: the optimizer that updates ``tensor``.
        tensor: a parameter of one of ``optimizer``'s groups.

    Attributes:
        values: one relative step per ``optimizer.step()`` so far (floats;
            from :math:`w = 0` a step that moves it counts as ``inf``).

    Example:
        >>> w = nn.Parameter(torch.tensor([3.0, 4.0]))
        >>> optimizer = SGD([w], lr=0.5)
        >>> meter = RelativeStepMeter(optimizer, w)
        >>> w.grad = torch.tensor([2.0, 0.0]); optimizer.step()  # w moves by 1, from a norm of 5
        >>> meter.values
        [0.2]
        >>> meter.remove()
    """

    def __init__(self, optimizer: torch.optim.Optimizer, tensor: torch.Tensor) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
        if not any(param is tensor for group in optimizer.param_groups for param in group["params"]):
            raise ValueError(f"tensor (shape {tuple(tensor.shape)}) is not a parameter of the optimizer's groups")
        self.tensor = tensor
        self.values: list[float] = []
        self._before: torch.Tensor | None = None
        self._handles = [
            optimizer.register_step_pre_hook(lambda *_: self._remember()),
            optimizer.register_step_post_hook(lambda *_: self._record()),
        ]

    def _remember(self) -> None:
        self._before = self.tensor.detach().clone()

    def _record(self) -> None:
        assert self._before is not None
        size = torch.linalg.vector_norm(self._before).item()
        moved = torch.linalg.vector_norm(self.tensor.detach() - self._before).item()
        if size > 0:
            self.values.append(moved / size)
        else:  # from w = 0: no step is a step, any other step is infinitely large relative to |w| = 0
            self.values.append(0.0 if moved == 0 else math.inf)
        self._before = None

    def mean(self, last: int | None = None) -> float:
        """Mean relative step over all recorded steps, or over the ``last`` ones (int >= 1)."""
        if last is not None:
            last = check_int("last", last, minimum=1)
            if last > len(self.values):
                raise ValueError(f"last={last} is more than the {len(self.values)} steps recorded")
        if not self.values:
            raise ValueError("no step recorded yet: call optimizer.step() first")
        return float(np.mean(self.values[-last:] if last is not None else self.values))

    def remove(self) -> None:
        """Detach from the optimizer (recorded values are kept)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
