"""Dropout chapter demos: a drawn network with dropped units, and "sample ×N".

Built as described in :mod:`course_lib.widgets`, on the figures of
:mod:`course_lib.plots.dropout`:

* :class:`DropoutNetworkDemo` -- a drawn network with dropped units, a
  drop-rate slider, a train/eval toggle, a resample button and live
  statistics (the masks and counts of :func:`course_lib.dropout.keep_masks`
  and :func:`course_lib.dropout.network_statistics`).
* :class:`RunningMeanDemo` -- "sample ×N": the running mean of N
  training-mode outputs of a fixed small network
  (:func:`course_lib.dropout.training_mode_outputs`) converging to its
  eval-mode output.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from course_lib._validation import check_bool, check_probability
from course_lib.dropout import (
    NetworkStatistics,
    _check_layer_sizes,
    draw_unit_uniforms,
    eval_mode_output,
    expected_active_connections,
    keep_masks,
    network_statistics,
    running_mean_with_standard_error,
    tiny_network,
    training_mode_outputs,
)
from course_lib.plots import dropout as dropout_plots
from course_lib.widgets import _rate_slider, _readout_panel, figure_to_png

__all__ = [
    "DEFAULT_SEED",
    "statistics_html",
    "DropoutNetworkDemo",
    "running_mean_summary_html",
    "RunningMeanDemo",
]

#: Default seed of both demos: its first mask drops 6 of the 12 hidden units at
#: p = 0.5, a typical draw, so the static figures show the usual picture.
DEFAULT_SEED = 2

# ---------------------------------------------------------------------------
# Demo (a): a drawn network with dropped units
# ---------------------------------------------------------------------------


def statistics_html(stats: NetworkStatistics, expected_connections: float | None = None) -> str:
    """The live statistics line of :class:`DropoutNetworkDemo`, as a small HTML snippet."""
    mode = "training mode" if stats.training else "evaluation mode"
    expected = "" if expected_connections is None else f" (expected {expected_connections:.1f})"
    return (
        f"<b>{mode}</b>, p = {stats.p:.2f}: keep probability {stats.keep_probability:.2f}, "
        f"survivors scaled by {stats.survivor_scale:.2f}<br>"
        f"dropped units: {stats.dropped_units} of {stats.droppable_units} droppable ({stats.units} in all); "
        f"active connections: {stats.active_connections} of {stats.connections}{expected}"
    )


class DropoutNetworkDemo:
    """A fully connected network whose dropped units are drawn greyed out and crossed.

    Controls: ``p_slider`` (drop rate of the hidden layers), ``mode_toggle``
    (``"train"``/``"eval"``), ``resample_button`` (a fresh mask, as in the next
    forward pass); ``stats`` shows dropped units, active connections, keep
    probability and survivor scale; ``image`` shows the network. Display
    ``demo.widget``. Masks come from ``np.random.default_rng([seed, draw])``,
    so a demo is reproducible draw by draw.

    Args:
        layer_sizes: units per layer, input first.
        p: initial drop rate.
        seed: seed of the masks.
        drop_inputs: also drop input units (at the same rate).
    """

    def __init__(
        self,
        layer_sizes: Sequence[int] = (4, 6, 6, 2),
        p: float = 0.5,
        seed: int = DEFAULT_SEED,
        *,
        drop_inputs: bool = False,
    ) -> None:
        self.layer_sizes = _check_layer_sizes(layer_sizes)
        p = check_probability("p", p)
        if p > 0.9:
            raise ValueError(f"p must be in [0, 0.9] for this demo, got {p!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.seed = seed
        self.drop_inputs = check_bool("drop_inputs", drop_inputs)
        self.draw = 0
        self._uniforms = self._draw_uniforms()
        self.p_slider = _rate_slider(p)
        self.mode_toggle = widgets.ToggleButtons(options=["train", "eval"], value="train", description="mode")
        self.resample_button = widgets.Button(
            description="resample mask", tooltip="draw the mask of the next forward pass"
        )
        self.stats = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox(
            [widgets.HBox([self.p_slider, self.resample_button]), self.mode_toggle, self.stats, self.image]
        )
        self.p_slider.observe(self._on_change, names="value")
        self.mode_toggle.observe(self._on_change, names="value")
        self.resample_button.on_click(self.resample)
        self._update()

    @property
    def training(self) -> bool:
        return self.mode_toggle.value == "train"

    @property
    def masks(self) -> tuple[np.ndarray, ...]:
        """The keep masks of the current draw, rate and mode."""
        return keep_masks(
            self.layer_sizes, self._uniforms, self.p_slider.value, training=self.training, drop_inputs=self.drop_inputs
        )

    @property
    def statistics(self) -> NetworkStatistics:
        return network_statistics(
            self.layer_sizes, self.masks, self.p_slider.value, training=self.training, drop_inputs=self.drop_inputs
        )

    def resample(self, _button: widgets.Button | None = None) -> None:
        """Draw the next mask (the button's click handler)."""
        self.draw += 1
        self._uniforms = self._draw_uniforms()
        self._update()

    def static_figure(self) -> Figure:
        """The current picture as an ordinary pyplot figure (at construction: the defaults)."""
        return dropout_plots.plot_dropout_network(self.layer_sizes, self.masks, title=self._title())

    def _draw_uniforms(self) -> tuple[np.ndarray, ...]:
        return draw_unit_uniforms(self.layer_sizes, np.random.default_rng([self.seed, self.draw]))

    def _title(self) -> str:
        mode = f"training mode, p = {self.p_slider.value:.2f}" if self.training else "evaluation mode"
        return f"Dropout network, {mode} (mask {self.draw})"

    def _on_change(self, _change: dict) -> None:
        self._update()

    def _update(self) -> None:
        p = self.p_slider.value
        expected = expected_active_connections(
            self.layer_sizes, p, training=self.training, drop_inputs=self.drop_inputs
        )
        self.stats.value = statistics_html(self.statistics, expected)
        fig = Figure(figsize=dropout_plots.NETWORK_FIGSIZE, layout="constrained")
        dropout_plots.plot_dropout_network(self.layer_sizes, self.masks, title=self._title(), ax=fig.add_subplot())
        self.image.value = figure_to_png(fig)


# ---------------------------------------------------------------------------
# Demo (b): "sample ×N" -- the running mean of training-mode passes
# ---------------------------------------------------------------------------


def running_mean_summary_html(running_mean: np.ndarray, standard_error: np.ndarray, eval_output: np.ndarray) -> str:
    """One line per output: eval value, running mean after N passes, and their gap in standard errors."""
    mean, se, target = (np.asarray(a, dtype=np.float64) for a in (running_mean[-1], standard_error[-1], eval_output))
    n = running_mean.shape[0]
    rows = []
    for k, (m, s, t) in enumerate(zip(mean, se, target)):
        gap = "n/a" if not np.isfinite(s) or s == 0 else f"{abs(m - t) / s:.1f}"
        se_text = "n/a" if not np.isfinite(s) else f"{s:.3f}"
        rows.append(f"output {k}: eval {t:+.3f}, mean of {n} passes {m:+.3f} (standard error {se_text}; gap {gap} SE)")
    return "<br>".join(html.escape(r) for r in rows)


class RunningMeanDemo:
    """Running mean of N training-mode outputs of a fixed :class:`course_lib.dropout.TinyNetwork`, with a ±2 SE band.

    Controls: ``n_slider`` (number of passes N) and ``p_slider`` (drop rate);
    ``summary`` reports each output's eval value, running mean and gap in
    standard errors. The passes for a given ``p`` are drawn once, up to
    ``max_passes``, from ``np.random.default_rng([seed, round(1000 p)])``, so
    moving the N slider extends the same sample path. Display ``demo.widget``.
    """

    def __init__(
        self, p: float = 0.5, n_passes: int = 500, seed: int = DEFAULT_SEED, *, max_passes: int = 5000
    ) -> None:
        p = check_probability("p", p)
        if p > 0.9:
            raise ValueError(f"p must be in [0, 0.9] for this demo, got {p!r}")
        if isinstance(max_passes, bool) or not isinstance(max_passes, int) or max_passes < 2:
            raise ValueError(f"max_passes must be an int >= 2, got {max_passes!r}")
        if isinstance(n_passes, bool) or not isinstance(n_passes, int) or not 1 <= n_passes <= max_passes:
            raise ValueError(f"n_passes must be an int in [1, {max_passes}], got {n_passes!r}")
        self.network = tiny_network(seed)  # validates seed
        self.seed = seed
        self.max_passes = max_passes
        self._samples: dict[int, np.ndarray] = {}
        self.n_slider = widgets.IntSlider(value=n_passes, min=1, max=max_passes, step=1, description="passes N")
        self.p_slider = _rate_slider(p)
        self.summary, self.image, self.widget = _readout_panel((self.n_slider, self.p_slider), self._on_change)
        self._update()

    def samples(self) -> np.ndarray:
        """``(N, outputs)`` training-mode outputs for the current N and p."""
        key = round(1000 * self.p_slider.value)
        if key not in self._samples:
            rng = np.random.default_rng([self.seed, key])
            self._samples[key] = training_mode_outputs(self.network, self.p_slider.value, self.max_passes, rng)
        return self._samples[key][: self.n_slider.value]

    def data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(running_mean, standard_error, eval_output)`` for the current N and p."""
        running_mean, standard_error = running_mean_with_standard_error(self.samples())
        return running_mean, standard_error, eval_mode_output(self.network)

    def static_figure(self) -> Figure:
        """The current picture as an ordinary pyplot figure (at construction: the defaults)."""
        return dropout_plots.plot_running_mean(*self.data(), title=self._title())

    def _title(self) -> str:
        return f"Running mean of N = {self.n_slider.value} training-mode passes, p = {self.p_slider.value:.2f}"

    def _on_change(self, _change: dict) -> None:
        self._update()

    def _update(self) -> None:
        running_mean, standard_error, eval_output = self.data()
        self.summary.value = running_mean_summary_html(running_mean, standard_error, eval_output)
        fig = Figure(figsize=dropout_plots.RUNNING_MEAN_FIGSIZE, layout="constrained")
        dropout_plots.plot_running_mean(
            running_mean, standard_error, eval_output, title=self._title(), ax=fig.add_subplot()
        )
        self.image.value = figure_to_png(fig)
