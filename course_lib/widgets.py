"""Interactive demos of the book's chapters, built on pure, tested functions.

Each demo is a small class holding ipywidgets controls; the controls only call
the pure functions below and the figures of :mod:`course_lib.plots`. The
figure is rendered off-screen to PNG bytes and shown in an ``Image`` widget,
so a demo is deterministic given its seed, can be built and driven outside a
kernel (``demo.p_slider.value = 0.3``; ``demo.resample_button.click()``), and
offers ``static_figure()``: the same picture as an ordinary figure, for the
HTML book and readers without a kernel.

* :class:`DropoutNetworkDemo` -- a drawn network with dropped units, a drop-rate
  slider, a train/eval toggle, a resample button and live statistics.
* :class:`RunningMeanDemo` -- "sample ×N": the running mean of N training-mode
  outputs of a fixed small network converging to its eval-mode output.
* :class:`ConstraintGeometryDemo` -- weight decay chapter: a penalty is a
  constraint; loss ellipses, the L2 disc or L1 diamond, and the exact optima.
* :class:`PriorVarianceQuiz` -- "given the prior variance σ², what is λ?",
  judged by :func:`judge_prior_strength_answer` with a hint per typical mistake.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from course_lib import plots
from course_lib._validation import check_bool, check_generator, check_positive, check_probability
from course_lib.dropout import dropout_forward, running_mean_with_standard_error
from course_lib.regularizers import l2_strength_from_prior_variance, penalized_quadratic_optimum

__all__ = [
    "DEFAULT_SEED",
    "NetworkStatistics",
    "draw_unit_uniforms",
    "keep_masks",
    "network_statistics",
    "expected_active_connections",
    "statistics_html",
    "TinyNetwork",
    "tiny_network",
    "eval_mode_output",
    "training_mode_outputs",
    "running_mean_summary_html",
    "figure_to_png",
    "DropoutNetworkDemo",
    "RunningMeanDemo",
    "rotated_hessian",
    "CONSTRAINT_DEMO_HESSIAN",
    "CONSTRAINT_DEMO_CENTER",
    "CONSTRAINT_DEMO_STRENGTH",
    "shrinkage_percent",
    "constraint_readout_html",
    "ConstraintGeometryDemo",
    "QUIZ_VARIANCES",
    "QUIZ_RELATIVE_TOLERANCE",
    "judge_prior_strength_answer",
    "prior_question_text",
    "PriorVarianceQuiz",
]

#: Default seed of both demos: its first mask drops 6 of the 12 hidden units at
#: p = 0.5, a typical draw, so the static figures show the usual picture.
DEFAULT_SEED = 2

# ---------------------------------------------------------------------------
# Demo (a): a drawn network with dropped units
# ---------------------------------------------------------------------------


def _check_layer_sizes(layer_sizes: Sequence[int]) -> tuple[int, ...]:
    sizes = tuple(layer_sizes)
    if len(sizes) < 2 or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
        raise ValueError(f"layer_sizes must list at least two positive ints, got {sizes!r}")
    return tuple(int(n) for n in sizes)


def _droppable_layers(n_layers: int, drop_inputs: bool) -> list[bool]:
    """Hidden layers are droppable, the input layer only on request, the output layer never."""
    return [drop_inputs if i == 0 else i < n_layers - 1 for i in range(n_layers)]


def draw_unit_uniforms(layer_sizes: Sequence[int], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """One U(0, 1) number per unit, per layer: the randomness behind one dropout pass.

    A unit is dropped when its number falls below ``p`` (:func:`keep_masks`), so
    for fixed uniforms raising ``p`` only ever drops *more* units: a slider
    moves smoothly instead of reshuffling the whole picture.
    """
    sizes = _check_layer_sizes(layer_sizes)
    rng = check_generator("rng", rng)
    return tuple(rng.random(n) for n in sizes)


def keep_masks(
    layer_sizes: Sequence[int],
    uniforms: Sequence[np.ndarray],
    p: float,
    *,
    training: bool = True,
    drop_inputs: bool = False,
) -> tuple[np.ndarray, ...]:
    """Boolean keep masks, one per layer, as a dropout network uses them in one forward pass.

    In training mode a droppable unit is kept when its uniform is ``>= p``
    (probability ``1 - p``); hidden layers are droppable, the input layer only
    if ``drop_inputs``, the output layer never. In evaluation mode every unit is kept.
    """
    sizes = _check_layer_sizes(layer_sizes)
    p = check_probability("p", p)
    training, drop_inputs = check_bool("training", training), check_bool("drop_inputs", drop_inputs)
    uniforms = [np.asarray(u, dtype=np.float64) for u in uniforms]
    if len(uniforms) != len(sizes) or any(u.shape != (n,) for u, n in zip(uniforms, sizes)):
        raise ValueError(f"uniforms must hold one array per layer with shapes {[(n,) for n in sizes]}")
    droppable = _droppable_layers(len(sizes), drop_inputs)
    return tuple(
        (u >= p) if (training and can_drop) else np.ones(n, dtype=bool)
        for u, n, can_drop in zip(uniforms, sizes, droppable)
    )


@dataclass(frozen=True)
class NetworkStatistics:
    """What one forward pass of a dropout network looks like.

    Attributes:
        training: whether the network is in training mode.
        p: the drop rate of the droppable layers.
        units, droppable_units, dropped_units: unit counts (all layers; droppable layers; dropped now).
        connections, active_connections: weights between consecutive layers; those whose two
            end units are both kept (the weights that carry signal and get a gradient in this pass).
        keep_probability: probability that a droppable unit survives (``1 - p`` in training, 1 in eval).
        survivor_scale: factor applied to kept units (``1 / (1 - p)`` in training, 1 in eval).
    """

    training: bool
    p: float
    units: int
    droppable_units: int
    dropped_units: int
    connections: int
    active_connections: int
    keep_probability: float
    survivor_scale: float


def network_statistics(
    layer_sizes: Sequence[int],
    masks: Sequence[np.ndarray],
    p: float,
    *,
    training: bool,
    drop_inputs: bool = False,
) -> NetworkStatistics:
    """Count dropped units and active connections of a fully connected network under ``masks``."""
    sizes = _check_layer_sizes(layer_sizes)
    p = check_probability("p", p)
    training, drop_inputs = check_bool("training", training), check_bool("drop_inputs", drop_inputs)
    masks = [np.asarray(m) for m in masks]
    if len(masks) != len(sizes) or any(m.dtype != np.bool_ or m.shape != (n,) for m, n in zip(masks, sizes)):
        raise ValueError(f"masks must hold one boolean array per layer with shapes {[(n,) for n in sizes]}")
    kept = [int(m.sum()) for m in masks]
    droppable = _droppable_layers(len(sizes), drop_inputs)
    return NetworkStatistics(
        training=training,
        p=p,
        units=sum(sizes),
        droppable_units=sum(n for n, d in zip(sizes, droppable) if d),
        dropped_units=sum(sizes) - sum(kept),
        connections=sum(a * b for a, b in zip(sizes[:-1], sizes[1:])),
        active_connections=sum(a * b for a, b in zip(kept[:-1], kept[1:])),
        keep_probability=1.0 - p if training else 1.0,
        survivor_scale=1.0 / (1.0 - p) if training else 1.0,
    )


def expected_active_connections(
    layer_sizes: Sequence[int], p: float, *, training: bool = True, drop_inputs: bool = False
) -> float:
    r"""Expected number of active connections, :math:`\sum_l n_l n_{l+1} q_l q_{l+1}`.

    :math:`n_l` is the width and :math:`q_l` the keep probability of layer l
    (``1 - p`` for a droppable layer in training mode, otherwise 1).
    """
    sizes = _check_layer_sizes(layer_sizes)
    p = check_probability("p", p)
    training, drop_inputs = check_bool("training", training), check_bool("drop_inputs", drop_inputs)
    keep = [1.0 - p if (training and d) else 1.0 for d in _droppable_layers(len(sizes), drop_inputs)]
    return float(sum(a * b * qa * qb for a, b, qa, qb in zip(sizes[:-1], sizes[1:], keep[:-1], keep[1:])))


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


def _rate_slider(p: float) -> widgets.FloatSlider:
    return widgets.FloatSlider(value=p, min=0.0, max=0.9, step=0.05, description="drop rate p", readout_format=".2f")


def figure_to_png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes (no timestamp in the metadata, so the bytes are reproducible)."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


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
        return plots.plot_dropout_network(self.layer_sizes, self.masks, title=self._title())

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
        fig = Figure(figsize=plots.NETWORK_FIGSIZE, layout="constrained")
        plots.plot_dropout_network(self.layer_sizes, self.masks, title=self._title(), ax=fig.add_subplot())
        self.image.value = figure_to_png(fig)


# ---------------------------------------------------------------------------
# Demo (b): "sample ×N" -- the running mean of training-mode passes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TinyNetwork:
    r"""A fixed input and a two-layer network with dropout on its hidden units.

    ``h = relu(W1 x + b1)``; training: ``y = W2 dropout(h) + b2``; eval: ``y = W2 h + b2``.
    Dropout feeds the last, linear layer, so :math:`\mathbb{E}[y_{\text{train}}] = y_{\text{eval}}` exactly.
    """

    x: np.ndarray
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray

    @property
    def hidden(self) -> np.ndarray:
        return np.maximum(self.W1 @ self.x + self.b1, 0.0)


def tiny_network(seed: int = 0, inputs: int = 5, hidden: int = 16, outputs: int = 3) -> TinyNetwork:
    """A reproducible :class:`TinyNetwork` with standard-normal input and ``1/sqrt(fan_in)``-scaled weights."""
    for name, value in (("inputs", inputs), ("hidden", hidden), ("outputs", outputs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    rng = np.random.default_rng(seed)
    return TinyNetwork(
        x=rng.standard_normal(inputs),
        W1=rng.standard_normal((hidden, inputs)) / np.sqrt(inputs),
        b1=np.full(hidden, 0.1),
        W2=rng.standard_normal((outputs, hidden)) / np.sqrt(hidden),
        b2=np.zeros(outputs),
    )


def eval_mode_output(network: TinyNetwork) -> np.ndarray:
    """The deterministic evaluation-mode output (all hidden units, no scaling)."""
    return network.W2 @ network.hidden + network.b2


def training_mode_outputs(network: TinyNetwork, p: float, n_passes: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_passes, outputs)``: one training-mode output per pass, each with a fresh inverted-dropout mask."""
    if not isinstance(network, TinyNetwork):
        raise TypeError(f"network must be a TinyNetwork, got {type(network).__name__}")
    p = check_probability("p", p)
    if isinstance(n_passes, bool) or not isinstance(n_passes, (int, np.integer)) or n_passes < 1:
        raise ValueError(f"n_passes must be a positive int, got {n_passes!r}")
    rng = check_generator("rng", rng)
    hidden = np.broadcast_to(network.hidden, (int(n_passes), network.hidden.size)).copy()
    dropped, _ = dropout_forward(hidden, p, rng=rng)
    return dropped @ network.W2.T + network.b2


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
    """Running mean of N training-mode outputs of a fixed :class:`TinyNetwork`, with a ±2 SE band.

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
        self.summary = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([widgets.HBox([self.n_slider, self.p_slider]), self.summary, self.image])
        self.n_slider.observe(self._on_change, names="value")
        self.p_slider.observe(self._on_change, names="value")
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
        return plots.plot_running_mean(*self.data(), title=self._title())

    def _title(self) -> str:
        return f"Running mean of N = {self.n_slider.value} training-mode passes, p = {self.p_slider.value:.2f}"

    def _on_change(self, _change: dict) -> None:
        self._update()

    def _update(self) -> None:
        running_mean, standard_error, eval_output = self.data()
        self.summary.value = running_mean_summary_html(running_mean, standard_error, eval_output)
        fig = Figure(figsize=plots.RUNNING_MEAN_FIGSIZE, layout="constrained")
        plots.plot_running_mean(running_mean, standard_error, eval_output, title=self._title(), ax=fig.add_subplot())
        self.image.value = figure_to_png(fig)


# ---------------------------------------------------------------------------
# Weight decay: a penalty is a constraint (L2 disc, L1 diamond)
# ---------------------------------------------------------------------------


def rotated_hessian(eigenvalues: Sequence[float] = (1.0, 8.0), angle_degrees: float = 30.0) -> np.ndarray:
    r"""The 2x2 curvature :math:`H = R_\theta \operatorname{diag}(\lambda_1, \lambda_2) R_\theta^\top`.

    Its loss ellipses have axes along the rotated coordinate directions; the
    flat direction (the smaller eigenvalue) points at ``angle_degrees``.
    """
    values = np.asarray(eigenvalues, dtype=np.float64)
    if values.shape != (2,) or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"eigenvalues must be two positive numbers, got {eigenvalues!r}")
    if isinstance(angle_degrees, bool) or not isinstance(angle_degrees, (int, float)) or not np.isfinite(angle_degrees):
        raise ValueError(f"angle_degrees must be a finite number, got {angle_degrees!r}")
    angle = np.deg2rad(angle_degrees)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return rotation @ np.diag(values) @ rotation.T


#: Default curvature of :class:`ConstraintGeometryDemo`: eigenvalues 1 and 8
#: (ellipses √8 ≈ 2.8 times longer than wide), flat direction rotated 30°.
CONSTRAINT_DEMO_HESSIAN = rotated_hessian((1.0, 8.0), 30.0)
#: Default unregularized optimum. With the Hessian above and λ = 1 the L1
#: optimum is (0.9750, 0) -- w₂ exactly zero -- while the L2 optimum
#: (1.0934, 0.1382) keeps both coordinates.
CONSTRAINT_DEMO_CENTER = (2.0, 0.6)
#: Default penalty strength λ of :class:`ConstraintGeometryDemo`.
CONSTRAINT_DEMO_STRENGTH = 1.0
_STRENGTH_EXPONENTS = (-2.0, 1.0)  # the λ slider spans 10^-2 .. 10^1


def shrinkage_percent(optimum: np.ndarray, center: np.ndarray) -> float:
    """``100 (1 − ‖optimum‖₂ / ‖center‖₂)``: the penalty's shortening of w, in percent."""
    optimum, center = np.asarray(optimum, dtype=np.float64), np.asarray(center, dtype=np.float64)
    if optimum.shape != center.shape or optimum.ndim != 1:
        raise ValueError(f"optimum and center must be 1-D arrays of one shape, got {optimum.shape} and {center.shape}")
    if not np.any(center):
        raise ValueError("center must not be the origin (nothing to shrink)")
    return float(100.0 * (1.0 - np.linalg.norm(optimum) / np.linalg.norm(center)))


def _coordinate(index: int) -> str:
    return f"w<sub>{index + 1}</sub>"


def constraint_readout_html(center: np.ndarray, optimum: np.ndarray, strength: float, norm: str) -> str:
    """The readout of :class:`ConstraintGeometryDemo`: both optima (4 decimals), norms, shrinkage, exact zeros."""
    center, optimum = np.asarray(center, dtype=np.float64), np.asarray(optimum, dtype=np.float64)
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
    percent = round(shrinkage_percent(optimum, center), 1) + 0.0  # rounding error must not print "-0.0%"

    def point(w: np.ndarray) -> str:
        return "(" + ", ".join(f"{x:.4f}" for x in w) + ")"

    zeros = [_coordinate(i) for i in np.flatnonzero(optimum == 0.0)]
    if zeros:
        zero_line = " = ".join(zeros) + " = 0 exactly: the optimum sits on a corner of the L1 diamond"
    elif norm == "l1":
        zero_line = "no coordinate is exactly zero yet: raise λ until the optimum reaches a corner"
    else:
        zero_line = "no coordinate is exactly zero: L2 shrinks every coordinate but never zeroes one"
    return (
        f"<b>{norm.upper()} penalty, λ = {strength:.4g}</b><br>"
        f"unregularized optimum c = {point(center)}<br>"
        f"regularized optimum w<sub>λ</sub> = {point(optimum)}, "
        f"‖w<sub>λ</sub>‖₂ = {np.linalg.norm(optimum):.4f}, "
        f"‖w<sub>λ</sub>‖₁ = {np.abs(optimum).sum():.4f}<br>"
        f"‖w‖₂ shrunk by {percent:.1f}% (‖c‖₂ = {np.linalg.norm(center):.4f})<br>"
        f"{zero_line}"
    )


class ConstraintGeometryDemo:
    r"""Penalty ≡ constraint: the loss ellipses, the L2 disc or L1 diamond, and both optima.

    The data loss is :math:`\tfrac12 (w-c)^\top H (w-c)`; the penalized optimum
    :math:`w_\lambda` (:func:`course_lib.regularizers.penalized_quadratic_optimum`,
    exact) is where the loss ellipse through it touches the ball of radius
    :math:`\|w_\lambda\|` (:func:`course_lib.plots.plot_constraint_geometry`).

    Controls: ``strength_slider`` (λ, log scale 0.01 .. 10) and ``norm_toggle``
    (``"l2"``/``"l1"``); ``readout`` reports both optima, the norm, the
    shrinkage and the exactly-zero coordinates; ``image`` shows the picture.
    Display ``demo.widget``. Nothing is random: the picture depends only on
    ``H``, ``c``, λ and the norm.

    Args:
        hessian: ``(2, 2)`` symmetric positive-definite ``H`` (default
            :data:`CONSTRAINT_DEMO_HESSIAN`).
        center: ``(2,)`` unregularized optimum ``c`` (default :data:`CONSTRAINT_DEMO_CENTER`).
        strength: initial λ, in [0.01, 10].
        norm: initial penalty, ``"l2"`` or ``"l1"``.
    """

    def __init__(
        self,
        hessian: np.ndarray | None = None,
        center: Sequence[float] | None = None,
        strength: float = CONSTRAINT_DEMO_STRENGTH,
        norm: str = "l2",
    ) -> None:
        hessian = CONSTRAINT_DEMO_HESSIAN if hessian is None else hessian
        center = CONSTRAINT_DEMO_CENTER if center is None else center
        self.hessian = np.array(hessian, dtype=np.float64)
        self.center = np.array(center, dtype=np.float64)
        if self.hessian.shape != (2, 2) or self.center.shape != (2,):
            raise ValueError(
                f"hessian must be 2x2 and center have 2 entries (a picture in the plane), "
                f"got shapes {self.hessian.shape} and {self.center.shape}"
            )
        if not np.any(self.center):
            raise ValueError("center must not be the origin (nothing to shrink)")
        penalized_quadratic_optimum(self.hessian, self.center, 0.0)  # validates H (symmetric positive definite)
        strength = check_positive("strength", strength)
        low, high = (10.0**e for e in _STRENGTH_EXPONENTS)
        if not low <= strength <= high:
            raise ValueError(f"strength must be in [{low:g}, {high:g}] for this demo, got {strength!r}")
        if norm not in ("l1", "l2"):
            raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
        self.strength_slider = widgets.FloatLogSlider(
            value=strength, base=10, min=_STRENGTH_EXPONENTS[0], max=_STRENGTH_EXPONENTS[1], step=0.05,
            description="λ", readout_format=".3g",
        )
        self.norm_toggle = widgets.ToggleButtons(
            options=[("L2", "l2"), ("L1", "l1")], value=norm, description="penalty"
        )
        self.readout = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox(
            [widgets.HBox([self.strength_slider, self.norm_toggle]), self.readout, self.image]
        )
        self.strength_slider.observe(self._on_change, names="value")
        self.norm_toggle.observe(self._on_change, names="value")
        self._update()

    @property
    def strength(self) -> float:
        return float(self.strength_slider.value)

    @property
    def norm(self) -> str:
        return str(self.norm_toggle.value)

    @property
    def optimum(self) -> np.ndarray:
        """The exact penalized optimum :math:`w_\\lambda` for the current λ and norm."""
        return penalized_quadratic_optimum(self.hessian, self.center, self.strength, norm=self.norm)

    @property
    def constraint_radius(self) -> float:
        """Radius of the equivalent constraint ball: ``‖w_λ‖₂`` (L2) or ``‖w_λ‖₁`` (L1)."""
        optimum = self.optimum
        return float(np.abs(optimum).sum() if self.norm == "l1" else np.linalg.norm(optimum))

    @property
    def shrinkage_percent(self) -> float:
        """``100 (1 − ‖w_λ‖₂ / ‖c‖₂)``."""
        return shrinkage_percent(self.optimum, self.center)

    @property
    def zero_coordinates(self) -> tuple[int, ...]:
        """0-based indices of the coordinates of :math:`w_\\lambda` that are exactly ``0.0``."""
        return tuple(int(i) for i in np.flatnonzero(self.optimum == 0.0))

    def static_figure(self) -> Figure:
        """The current picture as an ordinary pyplot figure (at construction: the defaults)."""
        return plots.plot_constraint_geometry(self.hessian, self.center, self.strength, self.norm)

    def _on_change(self, _change: dict) -> None:
        self._update()

    def _update(self) -> None:
        self.readout.value = constraint_readout_html(self.center, self.optimum, self.strength, self.norm)
        fig = Figure(figsize=plots.CONSTRAINT_GEOMETRY_FIGSIZE, layout="constrained")
        plots.plot_constraint_geometry(self.hessian, self.center, self.strength, self.norm, ax=fig.add_subplot())
        self.image.value = figure_to_png(fig)


# ---------------------------------------------------------------------------
# Weight decay: "which λ is this prior?" -- a quiz with targeted feedback
# ---------------------------------------------------------------------------

#: The quiz's prior variances. Not 1 (where σ², 1/σ and 1/σ² coincide) nor
#: 0.25 (where 1/σ = 1/(2σ²)), so every typical mistake gives its own number.
QUIZ_VARIANCES = (0.01, 0.04, 4.0)
QUIZ_RELATIVE_TOLERANCE = 1e-3


def _matches(answer: float, target: float) -> bool:
    return abs(answer - target) <= QUIZ_RELATIVE_TOLERANCE * abs(target)


def judge_prior_strength_answer(variance: float, answer: object) -> tuple[bool, str]:
    r"""Judge an answer to "which L2 strength λ is a Gaussian prior of variance σ²?".

    The right answer is :math:`\lambda = 1/\sigma^2`
    (:func:`course_lib.regularizers.l2_strength_from_prior_variance` with a
    unit-variance likelihood), accepted within a relative tolerance of
    :data:`QUIZ_RELATIVE_TOLERANCE`. Typical mistakes get their own hint, tried
    in this order: σ² itself, 1/σ, 1/(2σ²), σ; a negative, zero or
    non-numeric answer is explained too.

    Args:
        variance: the prior variance σ² > 0 of the question.
        answer: the student's λ (a number, or text from an input box).

    Returns:
        ``(correct, message)``; the message is plain text, one sentence or two.
    """
    variance = check_positive("variance", variance)
    expected = l2_strength_from_prior_variance(variance)
    try:
        value = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False, f"{answer!r} is not a number: enter the penalty strength λ as a number, e.g. 2.5."
    if not np.isfinite(value):
        return False, "λ must be a finite number: a Gaussian prior with σ² > 0 gives a finite penalty."
    if _matches(value, expected):
        return True, (
            f"Correct: λ = 1/σ² = {expected:g}. The prior's −log density ‖w‖²/(2σ²) is exactly the "
            f"penalty (λ/2)‖w‖² with λ = {expected:g}."
        )
    if value < 0:
        return False, "A penalty strength is never negative: a negative λ would reward large weights."
    if value == 0:
        return False, f"λ = 0 means no penalty at all: that is a flat prior (σ² → ∞), not σ² = {variance:g}."
    hint = "Hint: match the prior's −log density ‖w‖²/(2σ²) with the penalty (λ/2)‖w‖²."
    mistakes = (
        (variance, "that is σ² itself — the penalty strength is its inverse"),
        (1.0 / math.sqrt(variance), "that is 1/σ — square σ first"),
        (0.5 / variance, "that is 1/(2σ²) — the ½ is already in the penalty (λ/2)‖w‖²"),
        (math.sqrt(variance), "that is σ, the prior's standard deviation — the strength is 1/σ²"),
    )
    for target, explanation in mistakes:
        if _matches(value, target):
            return False, f"Not quite, {value:g}: {explanation}."
    return False, f"Not quite: {value:g} is not the strength for σ² = {variance:g}. {hint}"


def prior_question_text(variance: float) -> str:
    """The question, in words, for one prior variance."""
    variance = check_positive("variance", variance)
    return (
        f"A Gaussian prior w ~ N(0, σ² I) with σ² = {variance:g}, and a Gaussian likelihood of unit noise "
        "variance: MAP estimation minimises ½ Σ (yᵢ − xᵢᵀw)² + (λ/2)‖w‖². What is λ?"
    )


class PriorVarianceQuiz:
    r"""Quiz: "given the prior variance σ², what is the L2 strength λ?" (answer :math:`1/\sigma^2`).

    Controls: ``variance_dropdown`` (one question per variance),
    ``answer_text`` (the student's λ) and ``check_button``; ``feedback`` shows
    the verdict of :func:`judge_prior_strength_answer`, including a specific
    hint for each typical mistake. Display ``quiz.widget``; ``static_html()``
    gives the questions (answers folded away) for readers without a kernel.

    Args:
        variances: the prior variances asked about (distinct, > 0).
    """

    def __init__(self, variances: Sequence[float] = QUIZ_VARIANCES) -> None:
        self.variances = tuple(check_positive("variances", v) for v in variances)
        if not self.variances or len(set(self.variances)) != len(self.variances):
            raise ValueError(f"variances must be distinct positive numbers, at least one, got {tuple(variances)!r}")
        self.correct: bool | None = None
        self.variance_dropdown = widgets.Dropdown(
            options=[(f"σ² = {v:g}", v) for v in self.variances], value=self.variances[0], description="prior"
        )
        self.question = widgets.HTML()
        self.answer_text = widgets.FloatText(value=0.0, description="λ =")
        self.check_button = widgets.Button(description="Check", tooltip="check your λ")
        self.feedback = widgets.HTML()
        self.widget = widgets.VBox(
            [self.variance_dropdown, self.question, widgets.HBox([self.answer_text, self.check_button]), self.feedback]
        )
        self.variance_dropdown.observe(self._on_variance_change, names="value")
        self.check_button.on_click(self.check)
        self._show_question()

    @property
    def variance(self) -> float:
        return float(self.variance_dropdown.value)

    def check(self, _button: widgets.Button | None = None) -> bool:
        """Judge the current answer and show the feedback (the button's click handler)."""
        self.correct, message = judge_prior_strength_answer(self.variance, self.answer_text.value)
        mark, color = ("✔", "#2e7d32") if self.correct else ("✘", "#c62828")
        self.feedback.value = f'<span style="color: {color}">{mark} {html.escape(message)}</span>'
        return self.correct

    def static_html(self) -> str:
        """All questions as HTML, each answer folded in a ``<details>`` element."""
        items = "".join(
            f"<li>{html.escape(prior_question_text(v))}<details><summary>answer</summary>"
            f"λ = 1/σ² = {l2_strength_from_prior_variance(v):g}</details></li>"
            for v in self.variances
        )
        return f"<p><b>Which L2 strength is this prior?</b></p><ol>{items}</ol>"

    def _show_question(self) -> None:
        self.question.value = html.escape(prior_question_text(self.variance))

    def _on_variance_change(self, _change: dict) -> None:
        self.correct = None
        self.feedback.value = ""
        self._show_question()
