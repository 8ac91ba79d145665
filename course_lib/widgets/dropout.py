"""Dropout chapter demos: a drawn network with dropped units, and "sample ×N".

Built as described in :mod:`course_lib.widgets`, on the figures of
:mod:`course_lib.plots.dropout`:

* :class:`DropoutNetworkDemo` -- a drawn network with dropped units, a
  drop-rate slider, a train/eval toggle, a resample button and live
  statistics (the masks and counts of :func:`course_lib.dropout.keep_masks`
  and :func:`course_lib.dropout.network_statistics`); when a draw empties a
  layer, the readout says that the pass outputs only the output bias.
* :class:`RunningMeanDemo` -- "sample ×N": the running mean of N
  training-mode outputs of a fixed small network
  (:func:`course_lib.dropout.training_mode_outputs`) converging to its
  eval-mode output.

Each demo's ``widget`` is a :class:`course_lib.widgets.DemoBox`: displayed in a live kernel it is
the interactive demo; its text form, the only output a notebook stores (no
widget state is stored), is one readable line (:data:`STORED_TEXT`) instead
of the repr of its children.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from course_lib._validation import check_bool, check_int, check_probability
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
from course_lib.plots.dropout import _layer_names
from course_lib.widgets import _demo_figure, _labelled_row, _rate_slider, _readout_panel, _show_figure

__all__ = [
    "DEFAULT_SEED",
    "empty_layers",
    "statistics_lines",
    "statistics_text",
    "statistics_html",
    "network_readout",
    "DropoutNetworkDemo",
    "running_mean_summary_html",
    "RunningMeanDemo",
]

#: Default seed of both demos: its first mask drops 6 of the 12 hidden units at
#: p = 0.5, a typical draw, so the static figures show the usual picture. The
#: same draw drops every hidden unit from p = 0.75 on (the readout says so).
DEFAULT_SEED = 2

# ---------------------------------------------------------------------------
# Demo (a): a drawn network with dropped units
# ---------------------------------------------------------------------------


def empty_layers(layer_sizes: Sequence[int], masks: Sequence[np.ndarray]) -> tuple[int, ...]:
    """Indices of the layers before the output whose every unit this draw dropped (then no signal gets through)."""
    _, masks = dropout_plots._check_layer_masks(layer_sizes, masks)
    return tuple(i for i, keep in enumerate(masks[:-1]) if not keep.any())


def statistics_lines(
    stats: NetworkStatistics,
    expected_connections: float | None = None,
    layer_sizes: Sequence[int] | None = None,
    emptied: Sequence[int] = (),
) -> list[str]:
    """The lines of :class:`DropoutNetworkDemo`'s readout, as plain text.

    Args:
        stats: the draw's counts (:func:`course_lib.dropout.network_statistics`).
        expected_connections: the expected number of active connections, shown beside the count.
        layer_sizes: units per layer, needed to name the layers in ``emptied``.
        emptied: the layers with every unit dropped (:func:`empty_layers`); if any, a last line says
            that the pass outputs only the output bias, and how likely a layer of that size is to be
            emptied, :math:`p^n` per pass.
    """
    mode = "training mode" if stats.training else "evaluation mode"
    expected = "" if expected_connections is None else f" (expected {expected_connections:.1f})"
    lines = [
        f"{mode}, p = {stats.p:.2f}: keep probability {stats.keep_probability:.2f}, "
        f"survivors scaled by {stats.survivor_scale:.2f}",
        f"dropped units: {stats.dropped_units} of {stats.droppable_units} droppable ({stats.units} in all); "
        f"active connections: {stats.active_connections} of {stats.connections}{expected}",
    ]
    if emptied:
        if layer_sizes is None:
            raise ValueError("layer_sizes is needed to name the emptied layers")
        sizes = list(layer_sizes)
        names = _layer_names(len(sizes))
        layers = " and ".join(names[i] for i in emptied)
        chances = "; ".join(
            f"a layer of {n} units loses all of them with probability p^{n} = {stats.p ** n:.2g} per pass"
            for n in sorted({sizes[i] for i in emptied})
        )
        lines.append(
            f"every unit of {layers} dropped: no signal reaches the output, so this pass outputs only the "
            f"output layer's bias, and only that bias gets a gradient ({chances})"
        )
    return lines


def statistics_text(
    stats: NetworkStatistics,
    expected_connections: float | None = None,
    layer_sizes: Sequence[int] | None = None,
    emptied: Sequence[int] = (),
) -> str:
    """:func:`statistics_lines` joined by newlines: the readout as a chapter prints it."""
    return "\n".join(statistics_lines(stats, expected_connections, layer_sizes, emptied))


def statistics_html(
    stats: NetworkStatistics,
    expected_connections: float | None = None,
    layer_sizes: Sequence[int] | None = None,
    emptied: Sequence[int] = (),
) -> str:
    """The live statistics of :class:`DropoutNetworkDemo`, as a small HTML snippet (mode in bold, a warning in red)."""
    lines = [html.escape(line) for line in statistics_lines(stats, expected_connections, layer_sizes, emptied)]
    mode, rest = lines[0].split(",", 1)
    lines[0] = f"<b>{mode}</b>,{rest}"
    if emptied:
        lines[-1] = f'<span style="color: {dropout_plots.CROSS_COLOR}">{lines[-1]}</span>'
    return "<br>".join(lines)


def network_readout(
    layer_sizes: Sequence[int] = (4, 6, 6, 2),
    p: float = 0.5,
    seed: int = DEFAULT_SEED,
    draw: int = 0,
    *,
    training: bool = True,
    drop_inputs: bool = False,
) -> str:
    """The readout of :class:`DropoutNetworkDemo` for the given draw, as plain text, without drawing the network.

    ``DropoutNetworkDemo(layer_sizes, p, seed).readout_text()`` after ``draw``
    resamples gives the same text; a chapter prints it for other settings than
    the widget's defaults, without building and rendering another demo.
    """
    sizes = _check_layer_sizes(layer_sizes)
    p = check_probability("p", p)
    training, drop_inputs = check_bool("training", training), check_bool("drop_inputs", drop_inputs)
    seed, draw = check_int("seed", seed, minimum=0), check_int("draw", draw, minimum=0)
    masks = keep_masks(sizes, _unit_uniforms(sizes, seed, draw), p, training=training, drop_inputs=drop_inputs)
    return statistics_text(*_readout_arguments(sizes, masks, p, training=training, drop_inputs=drop_inputs))


def _unit_uniforms(layer_sizes: Sequence[int], seed: int, draw: int) -> tuple[np.ndarray, ...]:
    """Draw ``draw``'s uniforms, from ``np.random.default_rng([seed, draw])``: reproducible draw by draw."""
    return draw_unit_uniforms(layer_sizes, np.random.default_rng([seed, draw]))


def _readout_arguments(
    layer_sizes: Sequence[int], masks: Sequence[np.ndarray], p: float, *, training: bool, drop_inputs: bool
) -> tuple[NetworkStatistics, float, Sequence[int], tuple[int, ...]]:
    """The arguments of :func:`statistics_lines` for one draw's ``masks``."""
    stats = network_statistics(layer_sizes, masks, p, training=training, drop_inputs=drop_inputs)
    expected = expected_active_connections(layer_sizes, p, training=training, drop_inputs=drop_inputs)
    return stats, expected, layer_sizes, empty_layers(layer_sizes, masks)


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
        mode: initial position of the toggle, ``"train"`` or ``"eval"``.

    Raising ``p`` with the same draw only removes more units; in a network this
    small a draw can empty a whole layer (the default draw does from
    ``p = 0.75``), and the readout then says that the pass outputs only the
    output bias.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int] = (4, 6, 6, 2),
        p: float = 0.5,
        seed: int = DEFAULT_SEED,
        *,
        drop_inputs: bool = False,
        mode: str = "train",
    ) -> None:
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        self.layer_sizes = _check_layer_sizes(layer_sizes)
        p = check_probability("p", p)
        if p > 0.9:
            raise ValueError(f"p must be in [0, 0.9] for this demo, got {p!r}")
        self.seed = check_int("seed", seed, minimum=0)
        self.drop_inputs = check_bool("drop_inputs", drop_inputs)
        self.draw = 0
        self._uniforms = self._draw_uniforms()
        self.p_slider = _rate_slider(p)
        self.mode_toggle = widgets.ToggleButtons(options=["train", "eval"], value=mode, tooltips=[
            "training mode: drop units and rescale the survivors", "evaluation mode: every unit, no rescaling"])
        self.resample_button = widgets.Button(
            description="resample mask", tooltip="draw the mask of the next forward pass"
        )
        rows = [widgets.HBox([self.p_slider, self.resample_button]), _labelled_row("mode", self.mode_toggle)]
        self.stats, self.image, self.widget = _readout_panel((self.p_slider, self.mode_toggle), self._on_change, rows)
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

    def readout_text(self) -> str:
        """The readout of the current draw, rate and mode, as plain text (what ``stats`` shows)."""
        return statistics_text(*self._readout_arguments())

    def _readout_arguments(self) -> tuple:
        return _readout_arguments(
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
        return _unit_uniforms(self.layer_sizes, self.seed, self.draw)

    def _title(self) -> str:
        mode = f"training mode, p = {self.p_slider.value:.2f}" if self.training else "evaluation mode"
        title = f"Dropout network, {mode} (mask {self.draw})"
        if empty_layers(self.layer_sizes, self.masks):
            title += "\na whole layer dropped: output is only the bias"
        return title

    def _on_change(self, _change: dict) -> None:
        self._update()

    def _update(self) -> None:
        self.stats.value = statistics_html(*self._readout_arguments())
        fig, ax = _demo_figure(dropout_plots.NETWORK_FIGSIZE)
        dropout_plots.plot_dropout_network(self.layer_sizes, self.masks, title=self._title(), ax=ax)
        _show_figure(self.image, fig)


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
        controls = (self.n_slider, self.p_slider)
        self.summary, self.image, self.widget = _readout_panel(controls, self._on_change)
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
        fig, ax = _demo_figure(dropout_plots.RUNNING_MEAN_FIGSIZE)
        dropout_plots.plot_running_mean(running_mean, standard_error, eval_output, title=self._title(), ax=ax)
        _show_figure(self.image, fig)
