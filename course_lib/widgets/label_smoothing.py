r"""Label-smoothing chapter demo: the smoothed target and its optimal logits, with ε and K sliders and a view toggle.

Built as described in :mod:`course_lib.widgets`, on the figures of
:mod:`course_lib.plots.label_smoothing`:

* :class:`SmoothingDemo` -- the one-hot target and the two smoothed targets
  (PyTorch's, :func:`course_lib.losses.smooth_targets`, and the
  :math:`\varepsilon/(K-1)` convention, :func:`others_convention_targets`)
  as grouped bars, or (toggle) the logits that minimise the cross-entropy
  against each (:func:`course_lib.losses.optimal_logits`), with sliders for ε
  and the number of classes K, and a readout of both optimal logit gaps
  (:func:`course_lib.losses.optimal_logit_gap`).
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_lib._validation import check_choice, check_int, check_probability
from course_lib.losses import optimal_logit_gap, optimal_logits, smooth_targets
from course_lib.plots import label_smoothing as label_smoothing_plots
from course_lib.widgets import _demo_figure, _labelled_row, _readout_panel, _show_figure

__all__ = [
    "SMOOTHING_RANGE",
    "SMOOTHING_STEP",
    "NUM_CLASSES_RANGE",
    "VIEWS",
    "OPTIMAL_LOGITS_YLIM",
    "others_convention_targets",
    "smoothing_readout_text",
    "optimal_logits_readout_text",
    "SmoothingDemo",
]

#: The ε slider's range.
SMOOTHING_RANGE = (0.0, 0.5)
#: The ε slider's step: every value it takes has two decimals.
SMOOTHING_STEP = 0.01
#: The K slider's range (inclusive).
NUM_CLASSES_RANGE = (2, 20)
#: What the picture and the readout of :class:`SmoothingDemo` show: the targets q, or their optimal logits.
VIEWS = ("targets", "logits")
#: The y-range of the logit view, the same for every setting of the sliders, so that the logits are seen
#: to shrink as ε grows: it holds the largest, z*_y ≈ 7.21 (K = 20, ε = 0.01), and the most negative,
#: z*_c ≈ −2.65 (K = 2, ε = 0.01).
OPTIMAL_LOGITS_YLIM = (-3.0, 8.0)


def others_convention_targets(num_classes: int, smoothing: float, target_class: int) -> np.ndarray:
    r"""The smoothed target of the other convention: :math:`q_y = 1-\varepsilon`, :math:`q_{c\ne y} = \varepsilon/(K-1)`.

    Here ε is shared by the :math:`K-1` wrong classes only, unlike PyTorch's
    ``label_smoothing`` (:func:`course_lib.losses.smooth_targets`), which
    spreads it over all :math:`K` classes, the target included.

    Args:
        num_classes: :math:`K \ge 2`.
        smoothing: :math:`\varepsilon` in ``[0, 1)``.
        target_class: :math:`y` in ``[0, K)``.

    Returns:
        A ``(K,)`` float64 array summing to 1.

    Example:
        >>> others_convention_targets(4, 0.3, 1)
        array([0.1, 0.7, 0.1, 0.1])
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    smoothing = check_probability("smoothing", smoothing)
    target_class = check_int("target_class", target_class, minimum=0)
    if target_class >= num_classes:
        raise ValueError(f"target_class must be in [0, {num_classes}), got {target_class}")
    targets = np.full(num_classes, smoothing / (num_classes - 1))
    targets[target_class] = 1.0 - smoothing
    return targets


_NO_OPTIMUM = "the cross-entropy keeps pushing z_y − z_c towards infinity"


def _readout_setting(num_classes: int, smoothing: float) -> tuple[int, float, str]:
    """The checked ``(num_classes, smoothing)`` and the readout's bold part, ``"K = …, ε = …"``."""
    num_classes = check_int("num_classes", num_classes, minimum=2)
    smoothing = check_probability("smoothing", smoothing)
    return num_classes, smoothing, f"K = {num_classes}, ε = {smoothing:g}"


def smoothing_readout_text(num_classes: int, smoothing: float) -> str:
    r"""The readout of :class:`SmoothingDemo`: the target probabilities and both optimal logit gaps.

    The gaps are :func:`course_lib.losses.optimal_logit_gap` under the two
    conventions, :math:`\log(1 + K(1-\varepsilon)/\varepsilon)` (ε over all K
    classes, PyTorch's) and :math:`\log((K-1)(1-\varepsilon)/\varepsilon)` (ε over
    the K − 1 others), to 3 decimals; with ε = 0 there is no finite optimum.

    Example:
        >>> print(smoothing_readout_text(10, 0.1))
        K = 10, ε = 0.1: optimal logit gap 4.511 with ε spread over all K classes (PyTorch: q_y = 0.910, q_c = 0.0100), 4.394 with ε spread over the K − 1 others (q_y = 0.900, q_c = 0.0111); ε = 0: no finite optimum
        >>> print(smoothing_readout_text(10, 0.0))
        K = 10, ε = 0: one-hot targets (q_y = 1), no finite optimal logit gap: the cross-entropy keeps pushing z_y − z_c towards infinity
    """
    num_classes, smoothing, setting = _readout_setting(num_classes, smoothing)
    if smoothing == 0.0:
        return f"{setting}: one-hot targets (q_y = 1), no finite optimal logit gap: {_NO_OPTIMUM}"
    uniform = optimal_logit_gap(num_classes, smoothing, "uniform")
    others = optimal_logit_gap(num_classes, smoothing, "others")
    q_target = 1.0 - smoothing + smoothing / num_classes
    return (
        f"{setting}: optimal logit gap {uniform:.3f} with ε spread over all K classes (PyTorch: q_y = {q_target:.3f}, "
        f"q_c = {smoothing / num_classes:.4f}), {others:.3f} with ε spread over the K − 1 others "
        f"(q_y = {1.0 - smoothing:.3f}, q_c = {smoothing / (num_classes - 1):.4f}); ε = 0: no finite optimum"
    )


def optimal_logits_readout_text(num_classes: int, smoothing: float) -> str:
    r"""The readout of :class:`SmoothingDemo`'s logit view: both conventions' optimal logits and their gap.

    For each convention, the centred optimal logits
    :math:`z^*_c = \log q_c - \frac1K \sum_k \log q_k`
    (:func:`course_lib.losses.optimal_logits`) of the target class,
    :math:`z^*_y = \tfrac{K-1}{K}\,\mathrm{gap}`, and of a wrong class,
    :math:`z^*_c = -\tfrac1K\,\mathrm{gap}`, to 3 decimals, and their gap
    :math:`z^*_y - z^*_c` (:func:`course_lib.losses.optimal_logit_gap`). They are
    the same for every target class (by symmetry). With ε = 0 there is no finite
    optimum.

    Example:
        >>> print(optimal_logits_readout_text(10, 0.1))
        K = 10, ε = 0.1: optimal logits (mean 0) with ε spread over all K classes (PyTorch): z*_y = 4.060, z*_c = -0.451, gap 4.511; with ε spread over the K − 1 others: z*_y = 3.955, z*_c = -0.439, gap 4.394
        >>> print(optimal_logits_readout_text(10, 0.0))
        K = 10, ε = 0: one-hot targets (q_y = 1, q_c = 0), no finite optimal logits: the cross-entropy keeps pushing z_y − z_c towards infinity
    """
    num_classes, smoothing, setting = _readout_setting(num_classes, smoothing)
    if smoothing == 0.0:
        return f"{setting}: one-hot targets (q_y = 1, q_c = 0), no finite optimal logits: {_NO_OPTIMUM}"
    y, c = 0, 1  # any target class and any wrong class give the same numbers
    targets = {
        "with ε spread over all K classes (PyTorch)":
            smooth_targets(torch.tensor([y]), num_classes, smoothing, dtype=torch.float64)[0].numpy(),
        "with ε spread over the K − 1 others": others_convention_targets(num_classes, smoothing, y),
    }
    parts = []
    for convention, target in targets.items():
        logits = optimal_logits(target)
        numbers = (logits[y], logits[c], logits[y] - logits[c])
        target_logit, wrong_logit, gap = (round(float(v), 3) + 0.0 for v in numbers)  # + 0.0: never "-0.000"
        parts.append(f"{convention}: z*_y = {target_logit:.3f}, z*_c = {wrong_logit:.3f}, gap {gap:.3f}")
    return f"{setting}: optimal logits (mean 0) " + "; ".join(parts)


def _check_view(view: object) -> str:
    return check_choice("view", view, VIEWS, described=f"one of {VIEWS} (the targets q, or their optimal logits)")


def _check_demo_setting(num_classes: int, smoothing: float, target_class: int) -> tuple[int, float, int]:
    num_classes = check_int("num_classes", num_classes, minimum=2)
    low, high = NUM_CLASSES_RANGE
    if num_classes > high:
        raise ValueError(f"num_classes must be in [{low}, {high}] (the K slider's range), got {num_classes}")
    smoothing = check_probability("smoothing", smoothing)
    stop = round(smoothing / SMOOTHING_STEP)
    if smoothing > SMOOTHING_RANGE[1] or not math.isclose(smoothing, stop * SMOOTHING_STEP, abs_tol=1e-12):
        raise ValueError(f"smoothing must be one of the ε slider's stops 0, {SMOOTHING_STEP:g}, ..., "
                         f"{SMOOTHING_RANGE[1]:g}, got {smoothing!r}")
    target_class = check_int("target_class", target_class, minimum=0)
    if target_class >= num_classes:
        raise ValueError(f"target_class must be in [0, num_classes) = [0, {num_classes}), got {target_class}")
    return num_classes, round(stop * SMOOTHING_STEP, 2), target_class


class SmoothingDemo:
    r"""The smoothed target of one example and its optimal logits, with sliders for ε and K and a view toggle.

    The picture of the view ``"targets"`` (the default) is
    :func:`course_lib.plots.label_smoothing.plot_smoothed_targets` of three
    targets for the class :math:`y`: the one-hot target, PyTorch's smoothed
    target :math:`(1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/K`
    (:func:`course_lib.losses.smooth_targets`) and the other convention,
    :math:`1-\varepsilon` on :math:`y` and :math:`\varepsilon/(K-1)` on each other
    class (:func:`others_convention_targets`). The readout
    (:func:`smoothing_readout_text`) gives both targets' probabilities and the
    logit gap :math:`z_y - z_c` each one makes optimal
    (:func:`course_lib.losses.optimal_logit_gap`): for K = 10, ε = 0.1,
    :math:`\log 91 \approx 4.511` (PyTorch) against :math:`\log 81 \approx 4.394`.

    The view ``"logits"`` shows instead the logits that minimise the
    cross-entropy against each smoothed target,
    :math:`z^*_c = \log q_c - \frac1K \sum_k \log q_k`
    (:func:`course_lib.losses.optimal_logits`; softmax is shift-invariant, and
    centring at mean 0 picks one representative), as grouped bars
    (:func:`course_lib.plots.label_smoothing.plot_optimal_logits`, on the fixed
    range :data:`OPTIMAL_LOGITS_YLIM`); the one-hot target has no finite
    optimum (:math:`z_y - z_c \to \infty`) and is named in the legend, not drawn.
    Its readout (:func:`optimal_logits_readout_text`) gives, per convention,
    :math:`z^*_y`, :math:`z^*_c` of a wrong class and their gap.

    What to look for: the two conventions differ by ε/K on the target class,
    which matters little for large K and a lot for K = 2; the optimal gap falls
    as ε grows and rises (like log K) with the number of classes; at ε = 0 the
    three targets coincide and there is no finite optimum. In the logit view the
    optimal logits stay finite and shrink towards 0 as ε grows.

    Controls: ``smoothing_slider`` (a ``FloatSlider``, ε from 0 to 0.5 in
    steps of 0.01; its value is read rounded to two decimals, so a front end's
    floating-point snapping cannot change the numbers),
    ``num_classes_slider`` (an ``IntSlider``, K from 2 to 20) and
    ``view_toggle`` (``ToggleButtons``: "targets q" or "optimal logits",
    values :data:`VIEWS`). The target class is ``target_class``, or the last
    class while K is not larger than it. ``readout`` shows :meth:`readout_text`
    (setting in bold); ``image`` the picture. Display ``demo.widget``;
    :meth:`static_figure` draws the default state (sliders and view of the
    construction).

    Args:
        num_classes: K of the default state, in [2, 20].
        smoothing: ε of the default state, one of 0, 0.01, ..., 0.5.
        target_class: the class :math:`y` whose target is shown, in ``[0, num_classes)``.
        view: the view of the default state, ``"targets"`` or ``"logits"``.
    """

    def __init__(self, num_classes: int = 10, smoothing: float = 0.1, target_class: int = 3,
                 view: str = "targets") -> None:
        num_classes, smoothing, target_class = _check_demo_setting(num_classes, smoothing, target_class)
        view = _check_view(view)
        self.target_class = target_class
        self.default_setting = (num_classes, smoothing)
        self.default_view = view
        self.smoothing_slider = widgets.FloatSlider(
            value=smoothing, min=SMOOTHING_RANGE[0], max=SMOOTHING_RANGE[1], step=SMOOTHING_STEP,
            description="ε", readout_format=".2f")
        self.num_classes_slider = widgets.IntSlider(
            value=num_classes, min=NUM_CLASSES_RANGE[0], max=NUM_CLASSES_RANGE[1], step=1, description="classes K")
        self.view_toggle = widgets.ToggleButtons(options=[("targets q", "targets"), ("optimal logits", "logits")],
                                                 value=view)
        controls = (self.smoothing_slider, self.num_classes_slider, self.view_toggle)
        rows = [widgets.HBox([self.smoothing_slider, self.num_classes_slider]), _labelled_row("show", self.view_toggle)]
        self.readout, self.image, self.widget = _readout_panel(controls, self._on_change, rows)
        self._update()

    # --- the current setting --------------------------------------------------------------

    @property
    def smoothing(self) -> float:
        """ε of the slider, rounded to its two decimals."""
        return round(float(self.smoothing_slider.value), 2)

    @property
    def num_classes(self) -> int:
        return int(self.num_classes_slider.value)

    @property
    def setting(self) -> tuple[int, float]:
        """``(num_classes, smoothing)`` of the sliders."""
        return self.num_classes, self.smoothing

    @property
    def view(self) -> str:
        """What the picture and the readout show: ``"targets"`` or ``"logits"`` (the toggle's value)."""
        return str(self.view_toggle.value)

    def shown_class(self, setting: tuple[int, float] | None = None) -> int:
        """The target class drawn for ``setting``: ``target_class``, or the last class if K is not larger."""
        num_classes, _ = self.setting if setting is None else setting
        return min(self.target_class, num_classes - 1)

    def targets(self, setting: tuple[int, float] | None = None) -> dict[str, np.ndarray]:
        """label -> ``(K,)`` target for ``setting`` (default: the sliders'): one-hot, PyTorch's, the other convention."""
        num_classes, smoothing = self.setting if setting is None else setting
        y = self.shown_class((num_classes, smoothing))
        label = torch.tensor([y])
        return {
            "one-hot": smooth_targets(label, num_classes, 0.0, dtype=torch.float64)[0].numpy(),
            f"ε = {smoothing:g} (PyTorch: ε/K to every class)":
                smooth_targets(label, num_classes, smoothing, dtype=torch.float64)[0].numpy(),
            f"ε = {smoothing:g} (ε/(K − 1) to the others)": others_convention_targets(num_classes, smoothing, y),
        }

    def optimal_logits(self, setting: tuple[int, float] | None = None) -> dict[str, np.ndarray | None]:
        """label -> the centred optimal logits of each target of :meth:`targets`, ``None`` where none is finite.

        :func:`course_lib.losses.optimal_logits` of each target with no zero entry; the one-hot target
        (and, at ε = 0, every target) has no finite optimum.
        """
        return {label: optimal_logits(target) if np.all(target > 0) else None
                for label, target in self.targets(setting).items()}

    def readout_text(self, setting: tuple[int, float] | None = None, view: str | None = None) -> str:
        """The readout of ``setting`` and ``view`` (default: the controls'), as plain text (what ``readout`` shows)."""
        num_classes, smoothing = self.setting if setting is None else setting
        view = self.view if view is None else _check_view(view)
        if view == "logits":
            return optimal_logits_readout_text(num_classes, smoothing)
        return smoothing_readout_text(num_classes, smoothing)

    # --- drawing ----------------------------------------------------------------------------

    def static_figure(self) -> Figure:
        """The default state (not the controls') as an ordinary pyplot figure, for the HTML book."""
        fig, ax = plt.subplots(figsize=label_smoothing_plots.SMOOTHED_TARGETS_FIGSIZE, layout="constrained")
        self._draw(ax, self.default_setting, self.default_view)
        return fig

    def _title(self, setting: tuple[int, float], view: str) -> str:
        num_classes, smoothing = setting
        shown = "Optimal logits" if view == "logits" else "Targets"
        return f"{shown} for class y = {self.shown_class(setting)} of K = {num_classes} classes, ε = {smoothing:g}"

    def _draw(self, ax: Axes, setting: tuple[int, float], view: str) -> None:
        if view == "logits":
            label_smoothing_plots.plot_optimal_logits(
                self.optimal_logits(setting), target_class=self.shown_class(setting), num_classes=setting[0],
                ylim=OPTIMAL_LOGITS_YLIM, ax=ax, title=self._title(setting, view))
            return
        label_smoothing_plots.plot_smoothed_targets(
            self.targets(setting), target_class=self.shown_class(setting), ax=ax, title=self._title(setting, view)
        )

    def _on_change(self, _change: dict) -> None:
        self._update()

    def _update(self) -> None:
        setting, numbers = html.escape(self.readout_text()).split(": ", 1)
        self.readout.value = f"<b>{setting}</b>: {numbers}"
        fig, ax = _demo_figure(label_smoothing_plots.SMOOTHED_TARGETS_FIGSIZE)
        self._draw(ax, self.setting, self.view)
        _show_figure(self.image, fig)
