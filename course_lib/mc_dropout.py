r"""Monte-Carlo dropout: keep dropout on at test time, sample, and measure the spread.

Gal & Ghahramani (2016), "Dropout as a Bayesian approximation: representing
model uncertainty in deep learning" (ICML). A network trained with dropout
defines a distribution over sub-networks :math:`\hat\theta_t = \theta \odot m_t`
(one keep mask :math:`m_t` per pass). Averaging :math:`T` stochastic passes
approximates the predictive distribution of Bayesian model averaging,

.. math::

    p(y \mid x, \mathcal D) \approx \frac1T \sum_{t=1}^{T} p(y \mid x, \hat\theta_t),
    \qquad m_t \sim \mathrm{Bernoulli}(1 - p),

and the spread of the passes measures how much the sub-networks disagree.

* :func:`mc_samples` draws the passes: only the dropout modules are switched to
  training mode (batch norm and everything else stay in eval mode), all passes
  run as one batched forward pass in memory-bounded chunks, no gradients are
  recorded, and every module's mode is restored afterwards.
* :func:`mc_predict` (regression) returns the predictive mean and standard
  deviation, optionally with the model precision :math:`\tau`;
  :func:`eval_predict` is the usual prediction it replaces, one deterministic
  pass with dropout off, whose only standard deviation is the :math:`\tau^{-1}` floor.
* :func:`predictive_entropy`, :func:`expected_entropy` and
  :func:`mutual_information` (classification) split the uncertainty of
  :math:`(T, N, C)` probability samples into total, aleatoric and epistemic
  parts; :func:`referral_curve` turns a score into selective prediction.
* :func:`ensemble_probabilities` stacks the predictions of a deep ensemble
  (Lakshminarayanan et al., 2017) in the same :math:`(T, N, C)` layout, so the
  same scores apply to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from scipy.special import entr
from torch import nn

from course_lib._validation import check_bool, check_int, check_positive, describe_value, real_array
from course_lib.dropout import InvertedDropout
from course_lib.metrics import _check_labels, _check_probs
from course_lib.train import _check_features, _check_input_width, _check_seed

__all__ = [
    "DROPOUT_TYPES",
    "DEFAULT_MAX_BATCH",
    "MAX_SAMPLES",
    "dropout_modules",
    "mc_dropout_mode",
    "mc_samples",
    "mc_predict",
    "eval_predict",
    "mc_probabilities",
    "ensemble_probabilities",
    "predictive_entropy",
    "expected_entropy",
    "mutual_information",
    "referral_curve",
]

#: Module classes that count as dropout: every torch dropout (``nn.Dropout``, ``Dropout1d/2d/3d``,
#: ``AlphaDropout``, ``FeatureAlphaDropout`` share the base class ``_DropoutNd``) and
#: :class:`course_lib.dropout.InvertedDropout`. ``dropout_types`` replaces them: pass
#: ``DROPOUT_TYPES + (MyDropout,)`` to add a class of your own.
DROPOUT_TYPES: tuple[type[nn.Module], ...] = (nn.modules.dropout._DropoutNd, InvertedDropout)
#: Rows per forward pass in :func:`mc_samples`' batched mode (all passes of all inputs are
#: split into chunks of at most this many rows, so memory does not grow with ``n_samples``).
DEFAULT_MAX_BATCH = 1024
#: The most passes :func:`mc_samples` draws (the standard error shrinks as 1/sqrt(T): 10^6 passes
#: already give three more digits than 1,000).
MAX_SAMPLES = 1_000_000


def _check_model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe_value(model)}")
    return model


def _check_dropout_types(dropout_types: Any) -> tuple[type, ...]:
    if isinstance(dropout_types, type):
        dropout_types = (dropout_types,)
    if (not isinstance(dropout_types, tuple) or not dropout_types
            or not all(isinstance(t, type) and issubclass(t, nn.Module) for t in dropout_types)):
        raise TypeError(f"dropout_types must be a non-empty tuple of nn.Module classes, got {describe_value(dropout_types)}")
    return dropout_types


def dropout_modules(model: nn.Module, dropout_types: tuple[type, ...] = DROPOUT_TYPES) -> list[nn.Module]:
    """The modules of ``model`` (itself included) that are instances of ``dropout_types``, in ``modules()`` order.

    Example:
        >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.2), nn.Linear(4, 1))
        >>> dropout_modules(net)
        [Dropout(p=0.2, inplace=False)]
    """
    model = _check_model(model)
    dropout_types = _check_dropout_types(dropout_types)
    return [module for module in model.modules() if isinstance(module, dropout_types)]


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Every module of ``model`` in eval mode inside the ``with`` block; each module's own flag back afterwards.

    ``model.train(was_training)`` would set every submodule to one flag; saving each module's
    ``training`` restores mixed modes too, also when the block raises.
    """
    saved = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        yield model
    finally:
        for module, training in saved:
            module.training = training


@contextmanager
def mc_dropout_mode(model: nn.Module, dropout_types: tuple[type, ...] = DROPOUT_TYPES) -> Iterator[nn.Module]:
    """Inside the ``with`` block only the dropout modules are in training mode; afterwards every module's mode is back.

    ``model.train()`` would also switch batch norm to the statistics of the
    current batch (and update its running averages): predictions would then
    depend on which other inputs share the batch. Here ``model.eval()`` is
    applied first and only the modules of ``dropout_types`` are put back into
    training mode. Each module's own ``training`` flag is saved and restored on
    exit, also when the block raises.

    Raises:
        ValueError: ``model`` has no dropout module (MC dropout needs dropout
            that can stay active at test time).

    Example:
        >>> net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.2))
        >>> with mc_dropout_mode(net):
        ...     [m.training for m in net]
        [False, False, True]
        >>> [m.training for m in net]
        [True, True, True]
    """
    dropouts = dropout_modules(model, dropout_types)
    if not dropouts:
        names = ", ".join(t.__name__ for t in _check_dropout_types(dropout_types))
        raise ValueError(
            f"model has no dropout module (none of {names}) among its {sum(1 for _ in model.modules())} modules: "
            "MC dropout needs dropout layers to keep active at test time; train the model with dropout "
            "(or pass dropout_types for your own dropout class)"
        )
    with _eval_mode(model):
        for module in dropouts:
            module.train()
        yield model


def _check_inputs(model: nn.Module, x: Any) -> torch.Tensor:
    """``x`` under the dtype rule, in the dtype of the model's parameters, finite, with at least one row.

    When ``model`` is an ``nn.Sequential`` starting with ``nn.Linear``, the last dimension of ``x``
    must also match its ``in_features``.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of inputs (N, ...), got {describe_value(x)}")
    x = _check_features(model, x, "x")
    if x.ndim < 1 or x.shape[0] < 1:
        raise ValueError(f"x must have a batch dimension with at least one input, got shape {tuple(x.shape)}")
    _check_input_width(model, x, "x")
    return x


def _check_seed_or_none(seed: Any) -> int | None:
    return None if seed is None else _check_seed(seed)


def _forward(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """``model(inputs)``, checked: one finite output row per input row.

    An error raised by the model (a shape or dtype mismatch inside it) is re-raised as a
    ``TypeError``/``ValueError`` naming ``model`` and ``x``, with the original chained.
    """
    try:
        outputs = model(inputs)
    except (TypeError, ValueError, RuntimeError, IndexError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(
            f"model(x) raised {type(error).__name__} on a batch of inputs of shape {tuple(inputs.shape)}, {inputs.dtype}: {error}"
        ) from error
    if not isinstance(outputs, torch.Tensor) or outputs.ndim < 1 or outputs.shape[0] != inputs.shape[0]:
        shape = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else describe_value(outputs)
        raise ValueError(
            f"model must return one output row per input row: {inputs.shape[0]} input rows gave {shape}"
        )
    if outputs.is_floating_point() and not bool(outputs.isfinite().all()):
        raise ValueError(
            "model(x) returned NaN or infinite outputs for finite x: are the model's weights finite "
            "(did its training diverge?), and are x's magnitudes within range?"
        )
    return outputs


def _batched_passes(model: nn.Module, x: torch.Tensor, n_samples: int, max_batch: int) -> torch.Tensor:
    """All passes as rows ``t * N + i`` (pass t, input i), never more than ``max_batch`` rows per forward call.

    Small inputs: each call holds ``k = max_batch // N`` whole passes (the input repeated ``k``
    times, built once). Inputs of ``max_batch`` rows or more: one pass at a time, in row chunks.
    So a forward call never sees more rows than the loop's when ``N >= max_batch``, and many
    times more (fewer calls) when ``N`` is small.
    """
    n = x.shape[0]
    result: torch.Tensor | None = None

    def store(first_row: int, outputs: torch.Tensor) -> None:
        nonlocal result
        if result is None:
            result = outputs.new_empty((n_samples * n, *outputs.shape[1:]))
        result[first_row : first_row + outputs.shape[0]] = outputs

    if n >= max_batch:
        for t in range(n_samples):
            for start in range(0, n, max_batch):
                store(t * n + start, _forward(model, x[start : start + max_batch]))
    else:
        per_call = max_batch // n
        block = x.repeat(min(per_call, n_samples), *([1] * (x.ndim - 1)))
        for t in range(0, n_samples, per_call):
            passes = min(per_call, n_samples - t)
            store(t * n, _forward(model, block[: passes * n]))
    assert result is not None
    return result.reshape(n_samples, n, *result.shape[1:])


def _looped_passes(model: nn.Module, x: torch.Tensor, n_samples: int) -> torch.Tensor:
    return torch.stack([_forward(model, x) for _ in range(n_samples)])


def mc_samples(
    model: nn.Module,
    x: torch.Tensor,
    n_samples: int,
    batched: bool = True,
    *,
    max_batch: int = DEFAULT_MAX_BATCH,
    seed: int | None = None,
    dropout_types: tuple[type, ...] = DROPOUT_TYPES,
) -> torch.Tensor:
    r"""``n_samples`` stochastic forward passes of ``model`` on ``x``, with only dropout active.

    Pass :math:`t` uses fresh dropout masks :math:`m_t`; the result stacks
    :math:`f(x;\theta\odot m_t)` for :math:`t = 1,\dots,T`. Every other module
    (batch norm in particular) is in eval mode (:func:`mc_dropout_mode`), no
    autograd graph is recorded, and the modes of all modules are restored
    afterwards, also when the forward pass raises.

    With ``batched=True`` the input is repeated :math:`T` times along the batch
    dimension and the :math:`T N` rows go through the model in chunks of at most
    ``max_batch`` rows (each chunk's input is built on its own, so memory is
    bounded by the chunk, not by :math:`T`). Each row draws its own mask, so
    this is the same distribution as ``batched=False``, a Python loop of
    :math:`T` passes -- provided the model's dropout draws masks independently
    per example, as every torch dropout does. (A dropout that shares one mask
    across a batch would share it across passes: use ``batched=False``.)

    Args:
        model: a network with at least one dropout module (of ``dropout_types``).
        x: finite inputs of shape ``(N, ...)``, ``N >= 1``, a tensor in the dtype of the
            model's parameters (the dtype rule: float16/bfloat16 are taken as float32, integers
            as float64); for an ``nn.Sequential`` starting with ``nn.Linear`` the last dimension
            must be its ``in_features``. An error the model raises on it (a shape mismatch inside)
            comes back as a ``ValueError``/``TypeError`` naming ``model(x)``, the original chained;
            NaN or infinite outputs are a ``ValueError``.
        n_samples: :math:`T`, an int in ``[1, MAX_SAMPLES]``.
        batched: one batched forward pass (default) or a loop.
        max_batch: rows per forward pass in batched mode (int >= 1).
        seed: ``None`` draws from torch's global generator (it advances); an
            int draws from a forked generator seeded with it and leaves the
            global one untouched, so the same seed gives the same samples.
        dropout_types: the module classes that count as dropout.

    Returns:
        A tensor of shape ``(T, N, *output_shape)``.

    Example:
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))
        >>> mc_samples(net, torch.randn(5, 3), n_samples=100).shape
        torch.Size([100, 5, 2])
    """
    model = _check_model(model)
    x = _check_inputs(model, x)
    n_samples = check_int("n_samples", n_samples, minimum=1)
    if n_samples > MAX_SAMPLES:
        raise ValueError(f"n_samples must be at most MAX_SAMPLES = {MAX_SAMPLES:,}, got {n_samples}")
    batched = check_bool("batched", batched)
    max_batch = check_int("max_batch", max_batch, minimum=1)
    seed = _check_seed_or_none(seed)
    with mc_dropout_mode(model, dropout_types), torch.no_grad(), torch.random.fork_rng(devices=[], enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        if batched:
            return _batched_passes(model, x, n_samples, max_batch)
        return _looped_passes(model, x, n_samples)


def mc_predict(
    model: nn.Module,
    x: torch.Tensor,
    n_samples: int,
    tau: float | None = None,
    *,
    batched: bool = True,
    max_batch: int = DEFAULT_MAX_BATCH,
    seed: int | None = None,
    dropout_types: tuple[type, ...] = DROPOUT_TYPES,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Predictive mean and standard deviation of a regression network under MC dropout.

    With :math:`T` passes :math:`\hat y_t` (:func:`mc_samples`), Gal &
    Ghahramani (2016, eqs. 6-7) estimate the first two moments of the
    predictive distribution as

    .. math::

        \mathbb E[y] \approx \frac1T \sum_t \hat y_t, \qquad
        \mathbb E[y^2] \approx \tau^{-1} + \frac1T \sum_t \hat y_t^2,

    so the predictive variance is the *population* variance of the passes
    (divided by :math:`T`, not :math:`T-1`) plus the inverse model precision:
    :math:`\operatorname{Var}[y] \approx \tau^{-1} + \frac1T\sum_t \hat y_t^2 - \bar y^2`.
    :math:`\tau^{-1}` is the observation noise variance the model assumes
    (the paper links it to the weight decay :math:`\lambda`, the prior length
    scale :math:`l` and the keep rate: :math:`\tau = (1-p) l^2 / (2 N \lambda)`).
    With ``tau=None`` only the spread of the passes (the model's epistemic
    uncertainty) is returned.

    Args:
        model, x, n_samples, batched, max_batch, seed, dropout_types: as for :func:`mc_samples`.
        tau: the model precision :math:`\tau > 0`, or ``None``.

    Returns:
        ``(mean, std)``, each of the model's output shape ``(N, ...)``.
    """
    tau = None if tau is None else check_positive("tau", tau)
    samples = mc_samples(model, x, n_samples, batched, max_batch=max_batch, seed=seed, dropout_types=dropout_types)
    mean = samples.mean(dim=0)
    variance = samples.var(dim=0, correction=0)
    if tau is not None:
        variance = variance + _noise_variance(tau, variance.dtype)
    if not bool(variance.isfinite().all()):
        raise ValueError(
            f"the spread of the passes overflows the outputs' dtype {variance.dtype}: the magnitudes of x and "
            "the model's outputs are beyond its range"
        )
    return mean, variance.sqrt()


def _noise_variance(tau: float, dtype: torch.dtype) -> float:
    """The observation noise variance 1/τ the model assumes, checked to fit the outputs' ``dtype``."""
    noise = 1.0 / tau
    if not noise <= torch.finfo(dtype).max:
        raise ValueError(
            f"tau must be large enough that the noise variance 1/tau fits the outputs' dtype {dtype}, "
            f"got tau = {tau!r} (1/tau = {noise:g})"
        )
    return noise


def eval_predict(model: nn.Module, x: torch.Tensor, tau: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The usual prediction of a regression network, dropout off, and the only standard deviation it has.

    ``model.eval()`` keeps every unit (inverted dropout needs no rescaling at
    test time), so one deterministic pass gives :math:`f(x; \theta)`, the
    weight-scaling stand-in for the MC mean
    :math:`\mathbb E_m[f(x; \theta \odot m)]` of :func:`mc_predict`: equal to it
    when dropout feeds a linear output layer, close to it but not the same
    behind a non-linearity. One pass has no spread, so of
    :math:`\operatorname{Var}[y] \approx \tau^{-1} + \frac1T\sum_t \hat y_t^2 - \bar y^2`
    only the floor is left:

    .. math::

        \mu(x) = f(x; \theta), \qquad \sigma(x) = \tau^{-1/2}
        \quad (\sigma = 0 \text{ with } \texttt{tau=None}),

    the same everywhere, on the data and far from it: predicting with dropout
    off is how a network trained with dropout loses its epistemic uncertainty.

    Every module is in eval mode for the pass (batch norm uses its running
    statistics), no autograd graph is recorded, and each module's mode is
    restored afterwards, also when the pass raises.

    Args:
        model: a regression network (dropout modules or not).
        x: finite inputs ``(N, ...)``, as for :func:`mc_samples`.
        tau: the model precision :math:`\tau > 0`, or ``None``.

    Returns:
        ``(mean, std)``, each of the model's output shape ``(N, ...)``, in its floating-point dtype.

    Example:
        >>> net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 1))
        >>> mean, std = eval_predict(net, torch.ones(3, 2), tau=4.0)
        >>> std.flatten().tolist(), net.training  # σ = τ^(-1/2) everywhere; the mode is back
        ([0.5, 0.5, 0.5], True)
        >>> torch.equal(mean, net.eval()(torch.ones(3, 2)).detach())
        True
    """
    model = _check_model(model)
    x = _check_inputs(model, x)
    tau = None if tau is None else check_positive("tau", tau)
    with _eval_mode(model), torch.no_grad():
        mean = _forward(model, x)
    if not mean.is_floating_point():
        raise TypeError(f"model must return floating-point outputs for a regression prediction, got {mean.dtype}")
    noise = 0.0 if tau is None else _noise_variance(tau, mean.dtype)
    return mean, torch.full_like(mean, noise).sqrt()  # as mc_predict's sqrt(0 + 1/tau), in the outputs' dtype


def mc_probabilities(
    model: nn.Module,
    x: torch.Tensor,
    n_samples: int,
    *,
    batched: bool = True,
    max_batch: int = DEFAULT_MAX_BATCH,
    seed: int | None = None,
    dropout_types: tuple[type, ...] = DROPOUT_TYPES,
) -> torch.Tensor:
    """Softmax class probabilities of ``n_samples`` MC-dropout passes of a classifier: shape ``(T, N, C)``.

    ``model`` returns logits of shape ``(N, C)``; the result is the input the
    uncertainty scores (:func:`predictive_entropy`, ...) expect, and its mean
    over the first axis is the MC-averaged prediction.
    """
    samples = mc_samples(model, x, n_samples, batched, max_batch=max_batch, seed=seed, dropout_types=dropout_types)
    if samples.ndim != 3:
        raise ValueError(
            f"model must return logits of shape (N, C) for a classifier, got outputs of shape {tuple(samples.shape[1:])} "
            f"for x of shape {tuple(x.shape)}"
        )
    return torch.softmax(samples.double(), dim=-1)


def ensemble_probabilities(models: Sequence[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """Softmax probabilities of every member of a deep ensemble, in eval mode: shape ``(K, N, C)``.

    Each member runs once, deterministically (``eval()``, no gradients); its
    mode is restored afterwards. The layout matches :func:`mc_probabilities`,
    so the ensemble's mean prediction and its uncertainty scores come from the
    same functions.
    """
    if isinstance(models, nn.Module) or not isinstance(models, Sequence) or not models:
        raise TypeError(f"models must be a non-empty sequence of torch.nn.Module, got {describe_value(models)}")
    for index, member in enumerate(models):
        if not isinstance(member, nn.Module):
            raise TypeError(f"models[{index}] must be a torch.nn.Module, got {describe_value(member)}")
    stacked = []
    for index, member in enumerate(models):
        member_x = _check_inputs(member, x)
        with _eval_mode(member), torch.no_grad():
            logits = _forward(member, member_x)
        if logits.ndim != 2:
            raise ValueError(
                f"every member of models must return logits of shape (N, C), got shape {tuple(logits.shape)} "
                f"from models[{index}] for x of shape {tuple(x.shape)}"
            )
        stacked.append(torch.softmax(logits.double(), dim=-1))
    shapes = {tuple(p.shape) for p in stacked}
    if len(shapes) > 1:
        raise ValueError(f"the members of models must return outputs of one shape, got {sorted(shapes)}")
    return torch.stack(stacked)


def _check_prob_samples(prob_samples: Any) -> np.ndarray:
    return _check_probs(prob_samples, name="prob_samples", shape_text="(T, N, C)")


def _entropy(probs: np.ndarray) -> np.ndarray:
    """Shannon entropy in nats along the last axis; 0 log 0 = 0 exactly (``scipy.special.entr``)."""
    return entr(probs).sum(axis=-1)


def predictive_entropy(prob_samples: Any) -> np.ndarray:
    r"""Total uncertainty: the entropy of the mean prediction, :math:`\mathbb H[\bar p] = -\sum_c \bar p_c \log \bar p_c`.

    :math:`\bar p_{ic} = \frac1T\sum_t p_{tic}`, in nats, in :math:`[0, \log C]`.

    Args:
        prob_samples: ``(T, N, C)`` probabilities (NumPy or torch; rows sum to 1,
            see :mod:`course_lib.metrics` for the tolerance).

    Returns:
        A float64 NumPy array of shape ``(N,)``.

    Example:
        >>> float(predictive_entropy([[[0.5, 0.5]]])[0]) == float(np.log(2))
        True
    """
    samples = _check_prob_samples(prob_samples)
    return _entropy(samples.mean(axis=0))


def expected_entropy(prob_samples: Any) -> np.ndarray:
    r"""Aleatoric part: the mean entropy of the individual passes, :math:`\frac1T\sum_t \mathbb H[p_t]`.

    High when every pass is itself unsure (the input looks ambiguous to every
    sub-network). In nats, shape ``(N,)``; same input rules as :func:`predictive_entropy`.
    """
    samples = _check_prob_samples(prob_samples)
    return _entropy(samples).mean(axis=0)


def mutual_information(prob_samples: Any) -> np.ndarray:
    r"""Epistemic part (BALD, Houlsby et al. 2011): :math:`\mathbb H[\bar p] - \frac1T\sum_t \mathbb H[p_t]`.

    The mutual information between the prediction and the sub-network drawn:
    zero when all passes agree, large when each pass is confident but they
    disagree. By Jensen's inequality (entropy is concave) it is >= 0; rounding
    below 0 is clamped, and rows whose passes are all identical get exactly 0.
    In nats, shape ``(N,)``; same input rules as :func:`predictive_entropy`.

    Example:
        >>> disagreeing = [[[1.0, 0.0]], [[0.0, 1.0]]]  # two confident passes, opposite answers
        >>> float(mutual_information(disagreeing)[0]) == float(np.log(2))
        True
    """
    samples = _check_prob_samples(prob_samples)
    information = np.maximum(_entropy(samples.mean(axis=0)) - _entropy(samples).mean(axis=0), 0.0)
    information[(samples == samples[:1]).all(axis=(0, 2))] = 0.0
    return information


def _check_fractions(fractions: Any) -> np.ndarray:
    array = real_array("referral_fractions", fractions)
    if array.ndim != 1 or array.size < 1:
        raise ValueError(f"referral_fractions must be a non-empty 1-D sequence, got shape {array.shape}")
    bad = ~((array >= 0.0) & (array < 1.0))
    if bad.any():
        index = int(np.argmax(bad))
        raise ValueError(f"referral_fractions must lie in [0, 1), got {array[index]} at index {index}")
    return array


def referral_curve(probs: Any, labels: Any, uncertainty: Any, referral_fractions: Any) -> np.ndarray:
    r"""Selective prediction: accuracy on the inputs kept when the most uncertain ones are referred to a human.

    For a referral fraction :math:`r`, the :math:`\lfloor rN \rfloor` inputs
    with the highest ``uncertainty`` are set aside and the accuracy of
    ``probs`` is measured on the remaining :math:`N - \lfloor rN \rfloor`.
    Ties in ``uncertainty`` are broken by input order (stable sort), so the
    curve is deterministic. A useful score gives a curve that rises with
    :math:`r`; a random score gives a flat one.

    Args:
        probs: ``(N, C)`` predicted probabilities, labels: ``(N,)`` classes
            (the rules of :mod:`course_lib.metrics`).
        uncertainty: ``(N,)`` finite scores, higher = less sure.
        referral_fractions: fractions :math:`r` in ``[0, 1)``.

    Returns:
        Accuracies on the kept inputs, one per fraction (float64 NumPy array).

    Example:
        >>> probs = [[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.55, 0.45]]
        >>> referral_curve(probs, [0, 1, 1, 0], [0.1, 0.9, 0.2, 0.8], [0.0, 0.25, 0.5]).tolist()
        [0.75, 1.0, 1.0]
    """
    probs = _check_probs(probs)
    labels = _check_labels(labels, probs)
    scores = real_array("uncertainty", uncertainty)
    if scores.shape != labels.shape:
        raise ValueError(f"uncertainty must have shape {labels.shape} (one score per input), got shape {scores.shape}")
    if not np.isfinite(scores).all():
        index = int(np.argmin(np.isfinite(scores)))
        raise ValueError(f"uncertainty must be finite, got {scores[index]} at index {index}")
    fractions = _check_fractions(referral_fractions)
    correct = probs.argmax(axis=1) == labels
    order = np.argsort(scores, kind="stable")  # most certain first
    kept_correct = np.cumsum(correct[order])
    n = len(labels)
    kept = n - np.floor(fractions * n).astype(np.int64)
    return kept_correct[kept - 1] / kept
