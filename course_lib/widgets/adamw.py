"""Adam vs AdamW chapter demo: two paths on one loss, with λ and η sliders and a steps toggle.

Built as described in :mod:`course_lib.widgets`, on the figure of
:mod:`course_lib.plots.adamw`:

* :class:`AdamPathsDemo` -- Adam + L2 and AdamW paths on one loss whose
  weights have gradient scales 100 apart
  (:func:`course_lib.optimizer_paths.adam_and_adamw_paths`), with λ and η
  sliders, a toggle between 300 and :data:`ADAM_DEMO_LONG_STEPS` steps
  ("run longer") and a readout of where each optimizer ends.
"""

from __future__ import annotations

import html
from collections import OrderedDict

import ipywidgets as widgets
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_lib._validation import check_int, check_non_negative, check_positive
from course_lib.optimizer_paths import (
    ADAM_DEMO_EXTENT,
    ADAM_DEMO_LEARNING_RATE,
    ADAM_DEMO_OPTIMUM,
    ADAM_DEMO_START,
    ADAM_DEMO_STEPS,
    ADAM_DEMO_STRENGTH,
    adam_and_adamw_paths,
    adam_demo_l2_optimum,
    adam_demo_loss_numpy,
)
from course_lib.plots import adamw as adamw_plots
from course_lib.widgets import _demo_figure, _format_point, _labelled_row, _readout_panel, _show_figure

__all__ = [
    "ADAM_DEMO_LONG_STEPS",
    "adam_paths_readout_html",
    "AdamPathsDemo",
]


# ---------------------------------------------------------------------------
# Adam vs AdamW: two paths on one loss, with λ and η sliders and a steps toggle
# ---------------------------------------------------------------------------

#: The long horizon of :class:`AdamPathsDemo`'s steps toggle ("run longer"), ten times
#: :data:`course_lib.optimizer_paths.ADAM_DEMO_STEPS`: long enough to see that Adam + L2 has
#: settled after 300 steps and AdamW has not.
ADAM_DEMO_LONG_STEPS = 3000
_ADAM_STEPS_OPTIONS = (ADAM_DEMO_STEPS, ADAM_DEMO_LONG_STEPS)  # the steps toggle, in this order
# Settings whose paths a demo keeps (least recently shown dropped first): 3,000 steps of both optimizers take
# a second or so to compute and 96 kB to keep, so toggling back and forth redraws without recomputing.
_PATH_CACHE_SIZE = 64

_ADAM_STRENGTH_RANGE = (0.0, 1.0)  # the λ slider, linear (λ = 0: the two optimizers coincide)
_ADAM_LEARNING_RATE_EXPONENTS = (-3.0, -0.5)  # η may lie in 10^-3 .. 10^-0.5 ≈ 0.32
# The sliders' stops. A SelectionSlider hands the browser an index into these values, so the value
# the Python side computes with is exactly one of them: a Float(Log)Slider's front end snaps its value
# to min + k·step (η = 0.03 became 10^-1.5 ≈ 0.0316), and the widget would then disagree with the
# static figure drawn at the same defaults.
_ADAM_STRENGTH_STOPS = tuple(round(0.05 * k, 2) for k in range(21))  # 0, 0.05, ..., 1
_ADAM_LEARNING_RATE_STOPS = (0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3)


def _check_adam_demo_setting(strength: float, learning_rate: float) -> tuple[float, float]:
    strength = check_non_negative("strength", strength)
    low, high = _ADAM_STRENGTH_RANGE
    if not low <= strength <= high:
        raise ValueError(f"strength must be in [{low:g}, {high:g}] for this demo, got {strength!r}")
    learning_rate = check_positive("learning_rate", learning_rate)
    low, high = (10.0**e for e in _ADAM_LEARNING_RATE_EXPONENTS)
    if not low * (1 - 1e-12) <= learning_rate <= high * (1 + 1e-12):
        raise ValueError(f"learning_rate must be in [{low:g}, {high:.3g}] for this demo, got {learning_rate!r}")
    return strength, learning_rate


def _check_adam_demo_steps(steps: int) -> int:
    steps = check_int("steps", steps)
    if steps not in _ADAM_STEPS_OPTIONS:
        raise ValueError(f"steps must be one of the toggle's options {_ADAM_STEPS_OPTIONS}, got {steps!r}")
    return steps


def _stops_slider(description: str, stops: tuple[float, ...], value: float) -> widgets.SelectionSlider:
    """A slider over ``stops`` (``value`` added among them if it is not one) that starts at ``value`` exactly."""
    values = sorted(set(stops) | {value})
    return widgets.SelectionSlider(
        options=[(f"{v:.3g}", v) for v in values], value=value, description=description, continuous_update=True
    )


def adam_paths_readout_html(
    paths: dict[str, np.ndarray],
    decay_rates: dict[str, np.ndarray],
    strength: float,
    learning_rate: float,
) -> str:
    """The readout of :class:`AdamPathsDemo`.

    Per optimizer: its final position (4 decimals), ‖w‖₂, the share of c kept
    per coordinate and the decay per step after the last step; above them the
    setting, c and the minimum with the L2 penalty
    (:func:`course_lib.optimizer_paths.adam_demo_l2_optimum`).
    """
    optimum = np.array(ADAM_DEMO_OPTIMUM)

    lines = [
        f"<b>λ = {strength:.3g}, η = {learning_rate:.3g}</b>, {len(next(iter(paths.values()))) - 1:,} steps from "
        f"{_format_point(next(iter(paths.values()))[0])}",
        f"unregularized optimum c = {_format_point(optimum)}, ‖c‖₂ = {np.linalg.norm(optimum):.4f}; "
        f"minimum with the L2 penalty (λ/2)‖w‖² = {_format_point(adam_demo_l2_optimum(strength))}",
    ]
    for label, path in paths.items():
        final = path[-1]
        kept = ", ".join(f"{100 * x / c:.1f}% of c<sub>{i + 1}</sub>" for i, (x, c) in enumerate(zip(final, optimum)))
        rates = ", ".join(f"{r:.2e}" for r in decay_rates[label])
        lines.append(
            f"<b>{html.escape(label)}</b>: final w = {_format_point(final)}, ‖w‖₂ = {np.linalg.norm(final):.4f} "
            f"({kept}); decay per step now ({rates})"
        )
    return "<br>".join(lines)


class AdamPathsDemo:
    r"""Adam + L2 against AdamW on one loss whose two weights have very different gradient scales.

    The loss is :math:`\tfrac12 [10 (w_1 - 2)^2 + 0.1 (w_2 - 2)^2]`
    (:func:`course_lib.optimizer_paths.adam_demo_loss`):
    deterministic, minimum c = (2, 2), and at the same distance from c the
    gradient of w₁ is 100 times that of w₂. Both optimizers start at the origin
    and take :data:`course_lib.optimizer_paths.ADAM_DEMO_STEPS` = 300 steps, or
    :data:`ADAM_DEMO_LONG_STEPS` = 3,000 with the steps toggle
    (:func:`course_lib.optimizer_paths.adam_and_adamw_paths`, i.e.
    :func:`course_lib.optimizer_paths.optimizer_path` with
    :class:`course_lib.optim.Adam` and :class:`course_lib.optim.AdamW`, both
    with ``weight_decay=λ``).

    What the default picture (λ = 0.3, η = 0.03) shows, checked by the tests:

    * **Adam + L2** ends at (1.9417, 0.5000), ‖w‖₂ = 2.0051: it has converged
      to the minimum of loss + (λ/2)‖w‖², :math:`w_i = s_i c_i / (s_i + \lambda)`
      (:func:`course_lib.optimizer_paths.adam_demo_l2_optimum`). w₁, the
      large-gradient weight, keeps 97% of c₁; w₂, the small-gradient weight,
      only 25% of c₂. The L2 term is
      divided by √v̂, so its decay per step is ηλ/(√v̂ + ε): 1.7e-3 for w₁
      against 0.33 for w₂ at the end (AdamW: ηλ = 0.009 for both).
    * **AdamW** ends at (1.6439, 1.6439), ‖w‖₂ = 2.3248: both weights keep
      the same 82% of c — exactly the same proportion, because Adam's step
      m̂/√v̂ does not see a weight's gradient scale and the decoupled decay
      (1 − ηλ) is the same for every weight; its path runs along the diagonal
      w₁ = w₂. So the large-gradient weight w₁ is decayed *less* under Adam + L2
      than under AdamW (97% against 82% kept), the small-gradient weight w₂
      *more* (25% against 82%).
    * AdamW has not settled after 300 steps: it still creeps outward (by about
      0.025 over the last 50 steps), as the normalised gradient that balances
      the decay shrinks only while v̂ forgets the large early gradients.

    The steps toggle ("run longer", 3,000 steps) shows which point is an end
    point. At the defaults Adam + L2 ends at (1.9417, 0.5000) after both 300
    and 3,000 steps: it has settled at the minimum of loss + (λ/2)‖w‖², the
    point that decays the small-gradient weight most. AdamW goes from
    (1.6439, 1.6439) after 300 steps to (1.7867, 1.7867) after 1,000 and
    (1.9016, 1.9016), ‖w‖₂ = 2.6892, after 3,000: it keeps creeping towards c
    along the diagonal, both weights still keeping the same share of c (95%
    after 3,000 steps). Adam + L2's decay per step in the readout then reads
    (1.25e-02, 2.41e+00): at the settled point the loss's gradient cancels the
    L2 term, v̂ forgets the early gradients and ηλ/(√v̂ + ε) grows, but the
    point does not move -- it is a rate, not a step.

    λ = 0 makes the two paths identical. At the smallest η (0.001) the 300
    steps go only about 0.4 from the origin and the two paths barely differ;
    the larger η, the further both get and the clearer the contrast. Nothing
    is random: the picture depends only on λ, η and the number of steps. The
    paths of the last 64 settings are kept, so toggling back redraws at once
    (3,000 steps take a second or so to compute).

    Controls: ``strength_slider`` (λ in [0, 1], steps of 0.05),
    ``learning_rate_slider`` (η from 0.001 to 0.3 in 1-2-3-5 steps) and
    ``steps_toggle`` (``ToggleButtons`` labelled "steps": 300 or 3,000, "run
    longer"); the sliders start exactly at the values given (added as a stop
    if they are not one), so the widget and :meth:`static_figure` show the same setting;
    ``readout`` shows the number of steps, each optimizer's final position (4 decimals), ‖w‖₂, the share of c
    kept and its decay per step, and both optima; ``image`` shows the paths over the loss contours, the number
    of steps in its title. Display ``demo.widget``; :meth:`static_figure` draws the
    construction setting whatever the controls show.

    Args:
        strength: initial weight decay λ, in [0, 1].
        learning_rate: initial learning rate η, in [0.001, 0.32].
        steps: initial number of steps, :data:`course_lib.optimizer_paths.ADAM_DEMO_STEPS` (300) or
            :data:`ADAM_DEMO_LONG_STEPS` (3,000).
    """

    def __init__(
        self,
        strength: float = ADAM_DEMO_STRENGTH,
        learning_rate: float = ADAM_DEMO_LEARNING_RATE,
        steps: int = ADAM_DEMO_STEPS,
    ) -> None:
        strength, learning_rate = _check_adam_demo_setting(strength, learning_rate)
        steps = _check_adam_demo_steps(steps)
        self.default_setting = (strength, learning_rate, steps)
        self.start = np.array(ADAM_DEMO_START, dtype=np.float64)
        self.optimum = np.array(ADAM_DEMO_OPTIMUM, dtype=np.float64)
        self.strength_slider = _stops_slider("λ", _ADAM_STRENGTH_STOPS, strength)
        self.learning_rate_slider = _stops_slider("η", _ADAM_LEARNING_RATE_STOPS, learning_rate)
        self.steps_toggle = widgets.ToggleButtons(
            options=[(f"{ADAM_DEMO_STEPS:,}", ADAM_DEMO_STEPS),
                     (f"{ADAM_DEMO_LONG_STEPS:,} (run longer)", ADAM_DEMO_LONG_STEPS)],
            value=steps,
            tooltips=["300 steps, as in the chapter's figure", "ten times longer: which point is an end point?"],
        )
        controls = (self.strength_slider, self.learning_rate_slider, self.steps_toggle)
        rows = [widgets.HBox([self.strength_slider, self.learning_rate_slider]),
                _labelled_row("steps", self.steps_toggle)]
        self.readout, self.image, self.widget = _readout_panel(controls, self._on_change, rows=rows)
        self._path_cache: OrderedDict[tuple[float, float, int], tuple[dict, dict]] = OrderedDict()
        self.paths: dict[str, np.ndarray] = {}
        self.decay_rates: dict[str, np.ndarray] = {}
        self._update()

    @property
    def strength(self) -> float:
        return float(self.strength_slider.value)

    @property
    def learning_rate(self) -> float:
        return float(self.learning_rate_slider.value)

    @property
    def steps(self) -> int:
        return int(self.steps_toggle.value)

    @property
    def setting(self) -> tuple[float, float, int]:
        """``(strength, learning_rate, steps)`` of the controls."""
        return self.strength, self.learning_rate, self.steps

    @property
    def final_positions(self) -> dict[str, np.ndarray]:
        """label -> the ``(2,)`` position after the last step."""
        return {label: path[-1].copy() for label, path in self.paths.items()}

    @property
    def final_norms(self) -> dict[str, float]:
        """label -> ``‖w‖₂`` after the last step."""
        return {label: float(np.linalg.norm(path[-1])) for label, path in self.paths.items()}

    def _computed_paths(
        self, setting: tuple[float, float, int] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(paths, decay_rates)`` of ``setting`` (default: the controls'), as
        :func:`course_lib.optimizer_paths.adam_and_adamw_paths` returns them.

        Computed once per ``(strength, learning_rate, steps)`` and kept (the last
        64 settings), read-only, so toggling back to a setting redraws it without recomputing.
        """
        setting = self.setting if setting is None else setting
        if setting in self._path_cache:
            self._path_cache.move_to_end(setting)
            return self._path_cache[setting]
        strength, learning_rate, steps = setting
        paths, decay_rates = adam_and_adamw_paths(strength, learning_rate, steps=steps, start=self.start)
        for array in (*paths.values(), *decay_rates.values()):
            array.flags.writeable = False  # shared by every redraw of this setting
        self._path_cache[setting] = paths, decay_rates
        if len(self._path_cache) > _PATH_CACHE_SIZE:
            self._path_cache.popitem(last=False)
        return paths, decay_rates

    def static_figure(self) -> Figure:
        """The construction setting (not the controls') as an ordinary pyplot figure, for the HTML book."""
        paths, _ = self._computed_paths(self.default_setting)
        return self._draw(None, self.default_setting, paths)

    @staticmethod
    def _title(setting: tuple[float, float, int]) -> str:
        strength, learning_rate, steps = setting
        return f"Adam + L2 vs AdamW: λ = {strength:.3g}, η = {learning_rate:.3g}, {steps:,} steps"

    def _draw(self, ax: Axes | None, setting: tuple[float, float, int], paths: dict[str, np.ndarray]) -> Figure:
        return adamw_plots.plot_optimizer_paths(
            adam_demo_loss_numpy, ADAM_DEMO_EXTENT, paths, optimum=self.optimum, title=self._title(setting), ax=ax
        )

    def _on_change(self, _change: dict) -> None:
        self._update()

    def _update(self) -> None:
        setting = self.setting
        paths, decay_rates = self._computed_paths(setting)
        self.paths, self.decay_rates = dict(paths), dict(decay_rates)
        self.readout.value = adam_paths_readout_html(self.paths, self.decay_rates, self.strength, self.learning_rate)
        fig, ax = _demo_figure(adamw_plots.OPTIMIZER_PATHS_FIGSIZE)
        self._draw(ax, setting, self.paths)
        _show_figure(self.image, fig)
