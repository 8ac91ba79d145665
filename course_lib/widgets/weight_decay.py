"""Weight decay chapter demos: a penalty is a constraint, and which λ is a prior.

Built as described in :mod:`course_lib.widgets`, on the figure of
:mod:`course_lib.plots.weight_decay`:

* :class:`ConstraintGeometryDemo` -- loss ellipses, the L2 disc or L1 diamond,
  and the exact penalized optimum
  (:func:`course_lib.regularizers.penalized_quadratic_optimum`), with a λ
  slider and an L2/L1 toggle.
* :class:`PriorVarianceQuiz` -- "given the prior variance σ², what is λ?",
  judged by :func:`judge_prior_strength_answer` with a hint per typical mistake.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from course_lib._validation import check_positive
from course_lib.plots import weight_decay as weight_decay_plots
from course_lib.regularizers import (
    l2_strength_from_prior_variance,
    penalized_quadratic_optimum,
    rotated_hessian,
    shrinkage_percent,
)
from course_lib.widgets import _demo_figure, _format_point, _labelled_row, _readout_panel, _show_figure

__all__ = [
    "CONSTRAINT_DEMO_HESSIAN",
    "CONSTRAINT_DEMO_CENTER",
    "CONSTRAINT_DEMO_STRENGTH",
    "constraint_readout_html",
    "ConstraintGeometryDemo",
    "QUIZ_VARIANCES",
    "QUIZ_RELATIVE_TOLERANCE",
    "judge_prior_strength_answer",
    "prior_question_text",
    "PriorVarianceQuiz",
]


# ---------------------------------------------------------------------------
# Weight decay: a penalty is a constraint (L2 disc, L1 diamond)
# ---------------------------------------------------------------------------


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
# The slider's readout (a d3 format, drawn in the browser) in the precision of
# plots.weight_decay.format_strength: d3's type-less ".3" is "~g", 3 significant digits with
# trailing zeros trimmed, like Python's ".3g" -- slider, readout and figure title all show
# 5.01 for 10^0.7 and 1 (not 1.00) for λ = 1.
_SLIDER_FORMAT = ".3"


def _coordinate(index: int) -> str:
    return f"w<sub>{index + 1}</sub>"


def constraint_readout_html(center: np.ndarray, optimum: np.ndarray, strength: float, norm: str) -> str:
    """The readout of :class:`ConstraintGeometryDemo`: both optima (4 decimals), norms, shrinkage, exact zeros.

    λ is printed as everywhere in the chapter (:func:`course_lib.plots.weight_decay.format_strength`,
    3 significant digits, as the slider shows it). When every coordinate is zero the ball has
    shrunk to a point: the readout then says the optimum is the origin, not a corner.
    """
    center, optimum = np.asarray(center, dtype=np.float64), np.asarray(optimum, dtype=np.float64)
    if norm not in ("l1", "l2"):
        raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
    percent = round(shrinkage_percent(optimum, center), 1) + 0.0  # rounding error must not print "-0.0%"

    zeros = [_coordinate(i) for i in np.flatnonzero(optimum == 0.0)]
    if zeros and len(zeros) == optimum.size:
        zero_line = (" = ".join(zeros) + f" = 0 exactly: the optimum is the origin, the {norm.upper()} ball has "
                     "shrunk to a point (λ is at least the data loss's slope at 0 along every axis)")
    elif zeros:
        zero_line = " = ".join(zeros) + " = 0 exactly: the optimum sits on a corner of the L1 diamond"
    elif norm == "l1":
        zero_line = "no coordinate is exactly zero yet: raise λ until the optimum reaches a corner"
    else:
        zero_line = "no coordinate is exactly zero: L2 shrinks every coordinate but never zeroes one"
    return (
        f"<b>{norm.upper()} penalty, λ = {weight_decay_plots.format_strength(strength)}</b><br>"
        f"unregularized optimum c = {_format_point(center)}<br>"
        f"regularized optimum w<sub>λ</sub> = {_format_point(optimum)}, "
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
    :math:`\|w_\lambda\|` (:func:`course_lib.plots.weight_decay.plot_constraint_geometry`).

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
            description="λ", readout_format=_SLIDER_FORMAT,
        )
        self.norm_toggle = widgets.ToggleButtons(options=[("L2", "l2"), ("L1", "l1")], value=norm)
        controls = (self.strength_slider, self.norm_toggle)
        rows = [widgets.HBox([self.strength_slider, _labelled_row("penalty", self.norm_toggle)])]
        self.readout, self.image, self.widget = _readout_panel(controls, self._on_change, rows)
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
        return weight_decay_plots.plot_constraint_geometry(self.hessian, self.center, self.strength, self.norm)

    def _on_change(self, _change: dict) -> None:
        self._update()

    def _picture(self) -> Figure:
        """The current picture as the widget renders it (off-screen, at the demos' dpi), not yet laid out."""
        fig, ax = _demo_figure(weight_decay_plots.CONSTRAINT_GEOMETRY_FIGSIZE)
        weight_decay_plots.plot_constraint_geometry(self.hessian, self.center, self.strength, self.norm, ax=ax)
        return fig

    def _update(self) -> None:
        self.readout.value = constraint_readout_html(self.center, self.optimum, self.strength, self.norm)
        _show_figure(self.image, self._picture())


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


def _answer_text(variance: float) -> str:
    return f"λ = 1/σ² = {l2_strength_from_prior_variance(variance):g}"


class PriorVarianceQuiz:
    r"""Quiz: "given the prior variance σ², what is the L2 strength λ?" (answer :math:`1/\sigma^2`).

    Controls: ``variance_dropdown`` (one question per variance),
    ``answer_text`` (the student's λ) and ``check_button``; ``feedback`` shows
    the verdict of :func:`judge_prior_strength_answer`, including a specific
    hint for each typical mistake; ``answer`` (folded, below the question)
    holds the worked answer.

    Display the quiz object itself (the last line of a cell): its output
    carries the live widget *and*, as its HTML form, :meth:`static_html`, every
    question once with its answer folded below it. A running kernel shows the
    widget; a notebook opened without one (or the HTML book, where no widget
    state is stored) shows the HTML. Each question therefore appears once,
    never as widget and text one above the other.

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
        self.answer = widgets.Accordion(children=[widgets.HTML()], titles=("answer",))
        self.widget = widgets.VBox(
            [self.variance_dropdown, self.question, widgets.HBox([self.answer_text, self.check_button]), self.feedback,
             self.answer]
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
        """All questions as HTML, each once, with its answer folded below it in a ``<details>`` element."""
        items = "".join(
            f"<li>{html.escape(prior_question_text(v))}<details><summary>answer</summary>"
            f"{html.escape(_answer_text(v))}</details></li>"
            for v in self.variances
        )
        return f"<p><b>Which L2 strength is this prior?</b></p><ol>{items}</ol>"

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        """The widget's view for a live kernel, :meth:`static_html` as the HTML form, a one-line text form."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"] = self.static_html()
        bundle["text/plain"] = (f"Quiz: which L2 strength λ is a Gaussian prior of variance σ²? "
                                f"({len(self.variances)} questions; run the cell to answer them interactively)")
        return bundle

    def _show_question(self) -> None:
        self.question.value = html.escape(prior_question_text(self.variance))
        self.answer.children[0].value = html.escape(_answer_text(self.variance))
        self.answer.selected_index = None  # folded again for every new question

    def _on_variance_change(self, _change: dict) -> None:
        self.correct = None
        self.feedback.value = ""
        self._show_question()
