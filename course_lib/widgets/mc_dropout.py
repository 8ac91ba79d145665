r"""Monte-Carlo dropout chapter demo: a regression network's predictive band, with p, τ, M sliders and an eval toggle.

Built as described in :mod:`course_lib.widgets`, on the figure of
:mod:`course_lib.plots.mc_dropout`:

* :class:`MCRegressionDemo` -- the MC-dropout predictive mean and its
  :math:`\pm 2\sigma` band (:func:`course_lib.mc_dropout.mc_predict`) of
  networks trained with several dropout rates p on the gap-regression data
  (:func:`course_lib.synthetic.make_gap_regression`), with sliders for p, the
  model precision τ and the number of passes M, a toggle between MC dropout
  and the usual ``model.eval()`` prediction
  (:func:`course_lib.mc_dropout.eval_predict`: one pass, only the τ⁻¹ floor as
  σ), and a readout of the mean σ on the training range, in the gap and beyond
  the data (:func:`mean_std_by_region`).

The demo trains nothing: the notebook trains one network per p and hands them
over.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from course_lib._validation import check_choice, check_int, check_probability, describe_value, real_array
from course_lib.mc_dropout import MAX_SAMPLES, dropout_modules, eval_predict, mc_predict
from course_lib.plots import mc_dropout as mc_dropout_plots
from course_lib.synthetic import GAP_REGRESSION_INTERVALS
from course_lib.train import _check_seed
from course_lib.widgets import _demo_figure, _labelled_row, _readout_panel, _show_figure

__all__ = [
    "DEFAULT_N_SAMPLES",
    "NO_TAU",
    "RegionStd",
    "mean_std_by_region",
    "band_readout_text",
    "MCRegressionDemo",
]

#: The number of passes M the demo starts at (added to the M slider's stops if it is not one).
DEFAULT_N_SAMPLES = 100
#: The τ slider's value for "no τ⁻¹ term" (τ = ∞: the observation noise the model assumes is 0).
NO_TAU = math.inf
#: The two ways the demo predicts (the values of its ``mode`` and of ``mode_toggle``), with their labels:
#: ``"mc"``, dropout on and M stochastic passes; ``"eval"``, dropout off and one deterministic pass.
_MODE_LABELS = {"mc": "MC dropout", "eval": "model.eval()"}


def _check_mode(mode: Any) -> str:
    return check_choice("mode", mode, _MODE_LABELS, described="'mc' (MC dropout) or 'eval' (model.eval())")


class RegionStd(NamedTuple):
    """Mean predictive σ over the grid points of each region (NaN for a region without grid points)."""

    training: float  #: inside a training interval
    gap: float  #: between two training intervals
    beyond: float  #: below the first or above the last training interval


def _check_intervals(intervals: Any) -> tuple[tuple[float, float], ...]:
    """Sorted, disjoint ``(low, high)`` pairs with ``low < high``, at least one."""
    try:
        array = real_array("intervals", intervals)
    except TypeError:
        raise TypeError(f"intervals must be a sequence of (low, high) pairs, got {describe_value(intervals)}") from None
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] < 1 or not np.isfinite(array).all():
        raise ValueError(f"intervals must be at least one finite (low, high) pair, got {intervals!r}")
    if np.any(array[:, 0] >= array[:, 1]) or np.any(array[1:, 0] <= array[:-1, 1]):
        raise ValueError(f"intervals must be increasing, disjoint (low, high) pairs with low < high, got {intervals!r}")
    return tuple((float(low), float(high)) for low, high in array)


def _grid_vector(name: str, values: Any) -> np.ndarray:
    array = real_array(name, values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (or an (n, 1) column), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite, got {array[~np.isfinite(array)][0]!r}")
    return array


def mean_std_by_region(x_grid: Any, std: Any, intervals: Any = GAP_REGRESSION_INTERVALS) -> RegionStd:
    r"""The mean of ``std`` over the grid points on the training range, in the gaps and beyond the data.

    With training intervals :math:`[a_1, b_1], \dots, [a_k, b_k]` (increasing,
    disjoint), a grid point :math:`x` is on the *training range* if it lies in
    one of them (ends included), in the *gap* if :math:`b_j < x < a_{j+1}` for
    some :math:`j`, and *beyond the data* if :math:`x < a_1` or :math:`x > b_k`.
    Each number is the plain mean of ``std`` over that region's grid points
    (NaN for a region with none), so an evenly spaced grid gives the average
    band half-width per unit of :math:`x`.

    Args:
        x_grid: ``(m,)`` (or ``(m, 1)``) inputs.
        std: ``(m,)`` (or ``(m, 1)``) predictive standard deviations there, >= 0.
        intervals: the training intervals (default
            :data:`course_lib.synthetic.GAP_REGRESSION_INTERVALS`, ``[-3, -1]`` and ``[1, 3]``).

    Example:
        >>> mean_std_by_region([-4, -2, 0, 2, 4], [0.5, 0.1, 0.3, 0.2, 0.7])
        RegionStd(training=0.15000000000000002, gap=0.3, beyond=0.6)
    """
    x = _grid_vector("x_grid", x_grid)
    sigma = _grid_vector("std", std)
    if sigma.shape != x.shape:
        raise ValueError(f"std must have one value per grid point ({x.size}), got {sigma.size}")
    if np.any(sigma < 0):
        raise ValueError(f"std must be >= 0 (standard deviations), got {sigma.min()!r}")
    bounds = _check_intervals(intervals)
    training = np.zeros(x.shape, dtype=bool)
    for low, high in bounds:
        training |= (x >= low) & (x <= high)
    beyond = (x < bounds[0][0]) | (x > bounds[-1][1])
    gap = ~training & ~beyond
    return RegionStd(*(float(sigma[region].mean()) if region.any() else math.nan for region in (training, gap, beyond)))


def _format_tau(tau: float | None) -> str:
    return "none" if tau is None else f"{tau:g}"


def _format_sigma(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"


def band_readout_text(
    p: float, tau: float | None, n_samples: int, region_std: RegionStd, *, mode: str = "mc"
) -> str:
    r"""The readout of :class:`MCRegressionDemo` for a setting and its :func:`mean_std_by_region`.

    ``mode`` is how the network predicted: ``"mc"`` (MC dropout, M passes) or
    ``"eval"`` (``model.eval()``: one pass, so ``n_samples`` is not shown, and
    σ is only the τ⁻¹ floor :math:`\sqrt{1/\tau}`, or 0 without τ).

    Example:
        >>> band_readout_text(0.1, 100.0, 100, RegionStd(0.08, 0.171, math.nan))
        'p = 0.1, τ = 100, M = 100: mean σ on the training range 0.080, in the gap 0.171, beyond the data n/a'
        >>> band_readout_text(0.1, 100.0, 100, RegionStd(0.1, 0.1, 0.1), mode="eval")  # doctest: +NORMALIZE_WHITESPACE
        'model.eval(), p = 0.1, τ = 100, M not used (one pass, dropout off): mean σ on the training range 0.100,
        in the gap 0.100, beyond the data 0.100 (only the τ⁻¹ floor √(1/τ): no epistemic uncertainty)'
    """
    if not isinstance(region_std, RegionStd):
        raise TypeError(f"region_std must be a RegionStd (from mean_std_by_region), got {describe_value(region_std)}")
    mode = _check_mode(mode)
    sigmas = (
        f"mean σ on the training range {_format_sigma(region_std.training)}, "
        f"in the gap {_format_sigma(region_std.gap)}, beyond the data {_format_sigma(region_std.beyond)}"
    )
    if mode == "mc":
        return f"p = {p:g}, τ = {_format_tau(tau)}, M = {n_samples}: {sigmas}"
    floor = "σ = 0: no τ⁻¹ term and" if tau is None else "only the τ⁻¹ floor √(1/τ):"
    return (f"model.eval(), p = {p:g}, τ = {_format_tau(tau)}, M not used (one pass, dropout off): {sigmas} "
            f"({floor} no epistemic uncertainty)")


# --- argument checks of the demo ---------------------------------------------------------------


def _check_models(models: Any) -> dict[float, nn.Module]:
    """p -> network, sorted by p; every network has dropout modules, and those with a rate use the key's rate."""
    if not isinstance(models, Mapping):
        raise TypeError(f"models must be a mapping of dropout rates p to networks, got {describe_value(models)}")
    if not models:
        raise ValueError("models must map at least one dropout rate p to a network, got an empty mapping")
    checked = {}
    for key, model in models.items():
        p = check_probability("models key", key)
        if p == 0.0:
            raise ValueError("models keys must be dropout rates p in (0, 1): a network without dropout has no MC spread")
        if not isinstance(model, nn.Module):
            raise TypeError(f"models[{key!r}] must be a torch.nn.Module, got {describe_value(model)}")
        dropouts = dropout_modules(model)
        if not dropouts:
            raise ValueError(f"models[{key!r}] has no dropout module: MC dropout needs the dropout it was trained with")
        rates = sorted({float(m.p) for m in dropouts if isinstance(getattr(m, "p", None), (int, float))})
        if rates and rates != [p]:
            raise ValueError(f"models[{key!r}] must have been built with dropout rate {p:g}, but its dropout modules "
                             f"have p = {', '.join(f'{r:g}' for r in rates)}")
        checked[p] = model
    return dict(sorted(checked.items()))


def _check_data(data: Any) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = getattr(data, "X_train", None), getattr(data, "y_train", None)
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"data must have X_train and y_train tensors (a DataSplits), got {describe_value(data)}")
    if x.ndim != 2 or x.shape[1] != 1 or x.shape[0] < 1:
        raise ValueError(f"data.X_train must have shape (n, 1) (1-D regression inputs), got {tuple(x.shape)}")
    if y.reshape(len(y), -1).shape != (x.shape[0], 1):
        raise ValueError(f"data.y_train must have shape ({x.shape[0]},) or ({x.shape[0]}, 1), got {tuple(y.shape)}")
    return x, y


def _check_tau_values(tau_values: Any) -> tuple[float, ...]:
    if tau_values is None:
        return ()
    if isinstance(tau_values, (str, bytes)) or not isinstance(tau_values, Sequence) or not tau_values:
        raise TypeError(f"tau_values must be None or a non-empty sequence of numbers τ > 0, got {describe_value(tau_values)}")
    values = []
    for tau in tau_values:
        if isinstance(tau, (bool, np.bool_)) or not isinstance(tau, (int, float, np.integer, np.floating)):
            raise TypeError(f"tau_values must hold numbers τ > 0, got {describe_value(tau)}")
        if not (math.isfinite(tau) and tau > 0):
            raise ValueError(f"tau_values must hold finite numbers τ > 0, got {tau!r}")
        values.append(float(tau))
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"tau_values must be strictly increasing, got {tuple(tau_values)!r}")
    return tuple(values)


def _check_n_samples_values(n_samples_values: Any) -> tuple[int, ...]:
    if isinstance(n_samples_values, (str, bytes)) or not isinstance(n_samples_values, Sequence) or not n_samples_values:
        raise TypeError(f"n_samples_values must be a non-empty sequence of ints, got {describe_value(n_samples_values)}")
    values = [check_int("n_samples_values entry", m, minimum=1) for m in n_samples_values]
    if max(values) > MAX_SAMPLES:
        raise ValueError(f"n_samples_values must be at most MAX_SAMPLES = {MAX_SAMPLES:,}, got {max(values)}")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"n_samples_values must be strictly increasing, got {tuple(n_samples_values)!r}")
    return tuple(sorted(set(values) | {DEFAULT_N_SAMPLES}))


def _check_truth(truth: Any, x_grid: np.ndarray) -> np.ndarray | None:
    if truth is None:
        return None
    if callable(truth):
        truth = truth(x_grid.copy())
    values = _grid_vector("truth", truth)
    if values.shape != x_grid.shape:
        raise ValueError(f"truth must have one value per grid point ({x_grid.size}), got {values.size}")
    return values


class MCRegressionDemo:
    r"""The MC-dropout predictive band of a regression network, with sliders for p, τ and M and an eval toggle.

    The picture is :func:`course_lib.plots.mc_dropout.draw_predictive_band` of
    ``mc_predict(models[p], x_grid, M, tau, seed=seed)``
    (:func:`course_lib.mc_dropout.mc_predict`): the mean of M stochastic
    passes and the band :math:`\pm 2\sigma` with
    :math:`\sigma^2 = \tau^{-1} + \frac1M\sum_t \hat y_t^2 - \bar y^2`
    (Gal & Ghahramani, 2016). A fixed seed makes every setting give the same
    picture whenever it is chosen; moving M changes the passes drawn, so the
    band moves a little as it converges.

    What to look for: τ⁻¹ is a floor under the variance everywhere; the
    epistemic part (the spread of the passes) grows beyond the data, and a
    larger p widens it; between the two clusters it often grows much less
    (MC dropout is known to under-estimate this "in-between" uncertainty:
    Foong et al., 2019); M only makes the estimate less noisy (its standard
    error shrinks as :math:`1/\sqrt M`).

    The toggle shows the most common mistake: predicting with dropout off.
    "model.eval()" draws ``eval_predict(models[p], x_grid, tau)``
    (:func:`course_lib.mc_dropout.eval_predict`): one deterministic pass, whose
    σ is only the τ⁻¹ floor :math:`\sqrt{1/\tau}` (0 with τ "none") on the data
    and far from it alike -- no epistemic uncertainty at all; its mean is close
    to the MC mean, but not the same.

    Controls: ``p_slider`` over the keys of ``models``; ``tau_slider`` over
    "none" followed by ``tau_values`` (value :data:`NO_TAU`: no τ⁻¹ term, only
    the spread of the passes); ``n_samples_slider`` over ``n_samples_values``
    (with :data:`DEFAULT_N_SAMPLES` added if it is not among them), all
    ``SelectionSlider``, so the browser hands back exactly one of the listed
    values; ``mode_toggle`` (``ToggleButtons``: "MC dropout" ``"mc"`` or
    "model.eval()" ``"eval"``; in eval mode M does not matter, and
    ``n_samples_slider`` is disabled). ``readout`` shows :meth:`readout_text`;
    ``image`` the picture. Display ``demo.widget``.

    The default state: the middle p (``sorted(models)[len(models) // 2]``),
    ``tau`` (default "none": the spread of the passes alone),
    M = :data:`DEFAULT_N_SAMPLES` and ``mode`` (default MC dropout).
    :meth:`static_figure` draws that state.

    Args:
        models: dropout rate p in (0, 1) -> a network trained with that rate
            (inputs and outputs of shape ``(n, 1)``, e.g.
            ``course_lib.models.make_mlp((1, 32, 32, 1), dropout=p)``).
        data: the training data, anything with ``X_train`` ``(n, 1)`` and
            ``y_train`` tensors (a :class:`course_lib.data.DataSplits`).
        x_grid: ``(m,)`` or ``(m, 1)`` strictly increasing inputs of the picture.
        tau_values: ``None`` or strictly increasing precisions τ > 0.
        n_samples_values: strictly increasing numbers of passes M.
        tau: the τ of the default state: ``None`` ("none") or one of ``tau_values``.
        truth: the noiseless target: ``None``, ``(m,)`` values on ``x_grid``, or
            a function of the ``(m,)`` NumPy grid (e.g.
            :func:`course_lib.synthetic.gap_regression_function`).
        seed: the seed of the passes (an int >= 0).
        mode: the prediction of the default state: ``"mc"`` (MC dropout) or ``"eval"`` (``model.eval()``).
    """

    def __init__(
        self,
        models: Mapping[float, nn.Module],
        data: Any,
        *,
        x_grid: Any,
        tau_values: Sequence[float] | None = None,
        n_samples_values: Sequence[int] = (10, 30, 100, 300),
        tau: float | None = None,
        truth: Any = None,
        seed: int = 0,
        mode: str = "mc",
    ) -> None:
        self.models = _check_models(models)
        self.x_train, self.y_train = _check_data(data)
        grid = _grid_vector("x_grid", x_grid)
        if np.any(np.diff(grid) <= 0):
            raise ValueError("x_grid must be strictly increasing")
        self.x_grid = grid
        self.tau_values = _check_tau_values(tau_values)
        self.n_samples_values = _check_n_samples_values(n_samples_values)
        self.truth = _check_truth(truth, grid)
        self.seed = _check_seed(seed)
        mode = _check_mode(mode)
        rates = list(self.models)
        if tau is not None and tau not in self.tau_values:
            raise ValueError(f"tau must be None or one of tau_values {self.tau_values}, got {describe_value(tau)}")
        self.default_setting = (rates[len(rates) // 2], None if tau is None else float(tau), DEFAULT_N_SAMPLES, mode)
        self.p_slider = widgets.SelectionSlider(
            options=[(f"{p:g}", p) for p in rates], value=self.default_setting[0], description="dropout p")
        self.tau_slider = widgets.SelectionSlider(
            options=[("none", NO_TAU)] + [(f"{tau:g}", tau) for tau in self.tau_values],
            value=NO_TAU if self.default_setting[1] is None else self.default_setting[1], description="τ")
        self.n_samples_slider = widgets.SelectionSlider(
            options=[(str(m), m) for m in self.n_samples_values], value=DEFAULT_N_SAMPLES, description="passes M")
        self.mode_toggle = widgets.ToggleButtons(
            options=[(label, value) for value, label in _MODE_LABELS.items()], value=mode,
            tooltips=["dropout on: the mean and spread of M stochastic passes",
                      "dropout off: one deterministic pass, the usual prediction"])
        sliders = (self.p_slider, self.tau_slider, self.n_samples_slider)
        rows = [widgets.HBox(list(sliders)), _labelled_row("predict", self.mode_toggle)]
        self.readout, self.image, self.widget = _readout_panel((*sliders, self.mode_toggle), self._on_change, rows)
        # (p, tau, M or None in eval mode, mode) -> (mean, std)
        self._predictions: dict[tuple[float, float | None, int | None, str], tuple[np.ndarray, np.ndarray]] = {}
        self._update()

    # --- the current setting --------------------------------------------------------------

    @property
    def p(self) -> float:
        return float(self.p_slider.value)

    @property
    def tau(self) -> float | None:
        """The model precision τ, or ``None`` for "none" (no τ⁻¹ term)."""
        value = float(self.tau_slider.value)
        return None if value == NO_TAU else value

    @property
    def n_samples(self) -> int:
        return int(self.n_samples_slider.value)

    @property
    def mode(self) -> str:
        """``"mc"`` (MC dropout) or ``"eval"`` (``model.eval()``), as the toggle says."""
        return str(self.mode_toggle.value)

    @property
    def setting(self) -> tuple[float, float | None, int, str]:
        """``(p, tau, n_samples, mode)`` of the controls."""
        return self.p, self.tau, self.n_samples, self.mode

    def prediction(self, setting: tuple[float, float | None, int, str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)`` on ``x_grid`` for ``setting`` (default: the controls'), as ``(m,)`` float64 arrays.

        MC dropout: :func:`course_lib.mc_dropout.mc_predict` with M passes and the demo's seed;
        ``model.eval()``: :func:`course_lib.mc_dropout.eval_predict`, the same for every M.
        """
        p, tau, n_samples, mode = self.setting if setting is None else setting
        mode = _check_mode(mode)
        key = (p, tau, n_samples if mode == "mc" else None, mode)
        if key not in self._predictions:
            model = self.models[p]
            parameter = next(model.parameters(), None)
            dtype = parameter.dtype if parameter is not None and parameter.is_floating_point() else torch.float32
            inputs = torch.as_tensor(self.x_grid[:, None], dtype=dtype)
            if mode == "mc":
                mean, std = mc_predict(model, inputs, n_samples, tau, seed=self.seed)
            else:
                mean, std = eval_predict(model, inputs, tau)
            self._predictions[key] = tuple(t.detach().double().reshape(-1).numpy() for t in (mean, std))
        return self._predictions[key]

    def region_std(self, setting: tuple[float, float | None, int, str] | None = None) -> RegionStd:
        """:func:`mean_std_by_region` of the setting's σ on ``x_grid``."""
        return mean_std_by_region(self.x_grid, self.prediction(setting)[1])

    def readout_text(self, setting: tuple[float, float | None, int, str] | None = None) -> str:
        """The readout of ``setting`` (default: the controls'), as plain text (what ``readout`` shows)."""
        p, tau, n_samples, mode = self.setting if setting is None else setting
        return band_readout_text(p, tau, n_samples, self.region_std((p, tau, n_samples, mode)), mode=mode)

    # --- drawing ----------------------------------------------------------------------------

    def static_figure(self) -> Figure:
        """The default state (not the sliders') as an ordinary pyplot figure, for the HTML book."""
        fig, ax = plt.subplots(figsize=mc_dropout_plots.PREDICTIVE_BAND_FIGSIZE, layout="constrained")
        self._draw(ax, self.default_setting)
        return fig

    def _title(self, setting: tuple[float, float | None, int, str]) -> str:
        p, tau, n_samples, mode = setting
        if mode == "eval":
            floor = "σ = 0 (no τ⁻¹ term)" if tau is None else f"σ = √(1/τ) (τ = {tau:g})"
            return f"model.eval(), p = {p:g}: one pass ± 2σ, {floor}"
        noise = "no τ⁻¹ term" if tau is None else f"τ = {tau:g}"
        return f"MC dropout, p = {p:g}: mean ± 2σ of M = {n_samples} passes ({noise})"

    def _draw(self, ax: Axes, setting: tuple[float, float | None, int, str]) -> None:
        mean, std = self.prediction(setting)
        gap = (GAP_REGRESSION_INTERVALS[0][1], GAP_REGRESSION_INTERVALS[1][0])  # (-1, 1)
        mc_dropout_plots.draw_predictive_band(
            ax, self.x_train, self.y_train, self.x_grid, mean, std, truth=self.truth, gap=gap,
            title=self._title(setting),
        )

    def _on_change(self, _change: dict) -> None:
        self._update()

    def _update(self) -> None:
        self.n_samples_slider.disabled = self.mode == "eval"  # one deterministic pass: M does not matter
        text = html.escape(self.readout_text())
        setting, numbers = text.split(": ", 1)
        self.readout.value = f"<b>{setting}</b>: {numbers}"
        fig, ax = _demo_figure(mc_dropout_plots.PREDICTIVE_BAND_FIGSIZE)
        self._draw(ax, self.setting)
        _show_figure(self.image, fig)
