"""Tests for course_lib.widgets.weight_decay: the constraint-geometry demo and the prior-variance quiz."""

from __future__ import annotations

import html
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib.plots import weight_decay as weight_decay_plots
from course_lib.regularizers import penalized_quadratic_optimum, rotated_hessian
from course_lib.widgets.weight_decay import (
    CONSTRAINT_DEMO_CENTER,
    CONSTRAINT_DEMO_HESSIAN,
    CONSTRAINT_DEMO_STRENGTH,
    QUIZ_VARIANCES,
    ConstraintGeometryDemo,
    PriorVarianceQuiz,
    constraint_readout_html,
    judge_prior_strength_answer,
    prior_question_text,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- the default geometry --------------------------------------------------------------------


def test_the_default_hessian_is_the_rotated_one():
    hessian = rotated_hessian((1.0, 8.0), 30.0)
    np.testing.assert_array_equal(CONSTRAINT_DEMO_HESSIAN, hessian)


def test_default_geometry_l1_snaps_a_coordinate_to_zero_and_l2_does_not():
    l1 = penalized_quadratic_optimum(CONSTRAINT_DEMO_HESSIAN, CONSTRAINT_DEMO_CENTER, CONSTRAINT_DEMO_STRENGTH, "l1")
    l2 = penalized_quadratic_optimum(CONSTRAINT_DEMO_HESSIAN, CONSTRAINT_DEMO_CENTER, CONSTRAINT_DEMO_STRENGTH, "l2")
    assert l1[1] == 0.0 and l1[0] > 0.5
    assert np.all(np.abs(l2) > 0.1)
    np.testing.assert_allclose(l1, [0.975035, 0.0], atol=1e-6)  # the values quoted in the module
    np.testing.assert_allclose(l2, [1.093408, 0.138212], atol=1e-6)
    # w₂ = 0 is no knife edge: the KKT condition |∂f/∂w₂| <= λ holds with a margin
    gradient = CONSTRAINT_DEMO_HESSIAN @ (l1 - np.asarray(CONSTRAINT_DEMO_CENTER))
    assert abs(gradient[1]) < CONSTRAINT_DEMO_STRENGTH - 0.2


def test_constraint_readout_reports_the_numbers():
    text = constraint_readout_html(np.array([2.0, 0.6]), np.array([0.975035, 0.0]), 1.0, "l1")
    for piece in ("L1 penalty, λ = 1", "c = (2.0000, 0.6000)", "= (0.9750, 0.0000)", "₂ = 0.9750",
                  "shrunk by 53.3%", "w<sub>2</sub> = 0 exactly"):
        assert piece in text
    l2 = constraint_readout_html(np.array([2.0, 0.6]), np.array([1.0934, 0.1382]), 1.0, "l2")
    assert "never zeroes" in l2 and "0 exactly" not in l2
    none_yet = constraint_readout_html(np.array([2.0, 0.6]), np.array([1.8, 0.5]), 0.1, "l1")
    assert "no coordinate is exactly zero yet" in none_yet
    origin = constraint_readout_html(np.array([2.0, 0.6]), np.zeros(2), 5.0, "l1")
    assert "the optimum is the origin" in origin and "corner" not in origin  # a point, not a corner
    assert "w<sub>1</sub> = w<sub>2</sub> = 0 exactly" in origin
    unchanged = constraint_readout_html(np.array([2.0, 0.6]), np.array([2.0, 0.6]) * (1 + 1e-16), 0.01, "l2")
    assert "shrunk by 0.0%" in unchanged
    with pytest.raises(ValueError, match="norm must be 'l1' or 'l2'"):
        constraint_readout_html(np.ones(2), np.ones(2), 1.0, "l0")


# --- the constraint-geometry demo, driven like a user ------------------------------------------


def test_constraint_demo_default_state():
    demo = ConstraintGeometryDemo()
    assert demo.strength == CONSTRAINT_DEMO_STRENGTH and demo.norm == "l2"
    expected = penalized_quadratic_optimum(CONSTRAINT_DEMO_HESSIAN, CONSTRAINT_DEMO_CENTER, 1.0, "l2")
    np.testing.assert_array_equal(demo.optimum, expected)
    assert demo.zero_coordinates == ()
    assert demo.constraint_radius == pytest.approx(np.linalg.norm(expected))
    assert demo.shrinkage_percent == pytest.approx(100 * (1 - np.linalg.norm(expected) / np.linalg.norm(demo.center)))
    assert f"({expected[0]:.4f}, {expected[1]:.4f})" in demo.readout.value
    assert f"shrunk by {demo.shrinkage_percent:.1f}%" in demo.readout.value
    assert bytes(demo.image.value).startswith(b"\x89PNG")
    slider, penalty = demo.widget.children[0].children
    assert slider is demo.strength_slider and penalty.children[1] is demo.norm_toggle
    assert penalty.children[0].value == "penalty" and not demo.norm_toggle.description  # the label beside, not above


def test_constraint_demo_slider_recomputes_the_exact_optimum_and_redraws():
    demo = ConstraintGeometryDemo()
    image = demo.image.value
    demo.strength_slider.value = 0.3
    expected = penalized_quadratic_optimum(demo.hessian, demo.center, 0.3, "l2")
    np.testing.assert_array_equal(demo.optimum, expected)
    assert "λ = 0.3" in demo.readout.value and f"{expected[0]:.4f}" in demo.readout.value
    assert demo.image.value != image


def test_constraint_demo_l1_toggle_gives_an_exact_zero_and_l2_does_not():
    demo = ConstraintGeometryDemo()
    demo.norm_toggle.value = "l1"
    assert demo.zero_coordinates == (1,)
    assert demo.optimum[1] == 0.0 and demo.optimum[0] != 0.0
    assert demo.constraint_radius == pytest.approx(abs(demo.optimum[0]))
    assert "w<sub>2</sub> = 0 exactly" in demo.readout.value
    demo.norm_toggle.value = "l2"
    assert demo.zero_coordinates == () and np.all(demo.optimum != 0.0)
    assert "never zeroes" in demo.readout.value


def test_constraint_demo_at_large_l1_strength_says_the_optimum_is_the_origin():
    demo = ConstraintGeometryDemo(norm="l1")
    demo.strength_slider.value = 10**0.7  # a slider position: 5.011872…
    assert demo.zero_coordinates == (0, 1)
    assert "the optimum is the origin" in demo.readout.value and "corner" not in demo.readout.value
    demo.strength_slider.value = 1.0
    assert "corner of the L1 diamond" in demo.readout.value  # one zero: a corner indeed


def test_constraint_demo_shows_lambda_with_one_precision_everywhere():
    """Slider, readout and figure title: 3 significant digits (5.01), not 5.01 / 5.012 / 5.01187."""
    demo = ConstraintGeometryDemo(norm="l1")
    assert demo.strength_slider.readout_format == ".3"  # d3's trimmed ~g with 3 digits, as Python's .3g
    for value, shown in ((10**0.7, "5.01"), (1.0, "1"), (10**-1.5, "0.0316"), (0.01, "0.01")):
        demo.strength_slider.value = value
        assert weight_decay_plots.format_strength(demo.strength) == shown
        assert f"λ = {shown}</b>" in demo.readout.value
        fig = demo.static_figure()
        assert fig.axes[0].get_title().startswith(f"L1 penalty, λ = {shown}:")
        plt.close(fig)


@pytest.mark.parametrize("norm", ["l1", "l2"])
def test_constraint_demo_shrinkage_grows_with_the_strength(norm):
    demo = ConstraintGeometryDemo(norm=norm)
    shrinkage = []
    for strength in (0.01, 0.1, 0.5, 1.0, 2.0, 5.0):
        demo.strength_slider.value = strength
        shrinkage.append(demo.shrinkage_percent)
    assert shrinkage[0] > 0 and shrinkage[-1] > shrinkage[0] + 40
    assert all(later > earlier for earlier, later in zip(shrinkage, shrinkage[1:]) if earlier < 100.0)
    assert max(shrinkage) <= 100.0  # L1 stops at the origin (100 %)


def test_constraint_demo_is_deterministic_and_its_static_figure_shows_the_defaults():
    a, b = ConstraintGeometryDemo(norm="l1"), ConstraintGeometryDemo(norm="l1")
    assert a.image.value == b.image.value and a.readout.value == b.readout.value
    fig = a.static_figure()
    assert plt.fignum_exists(fig.number)
    assert tuple(fig.get_size_inches()) == weight_decay_plots.CONSTRAINT_GEOMETRY_FIGSIZE
    ax = fig.axes[0]
    assert ax.get_title().startswith("L1 penalty, λ = 1:")
    (marker,) = [line for line in ax.get_lines() if line.get_gid() == "regularized-optimum"]
    np.testing.assert_array_equal([marker.get_xdata()[0], marker.get_ydata()[0]], a.optimum)


@pytest.mark.parametrize(("strength", "norm"), [(1.0, "l2"), (1.0, "l1"), (10.0, "l1"), (0.01, "l2"), (10.0, "l2")])
def test_no_text_of_the_constraint_picture_extends_beyond_the_rendered_image(strength, norm):
    # The legend's longest label ("unregularized optimum c = (2.00, 0.60)") used to run past the figure's
    # right edge: constrained layout reserves too little room beside the equal-aspect axes.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    from course_lib.widgets import _fit_window

    demo = ConstraintGeometryDemo(strength=strength, norm=norm)
    fig = demo._picture()
    window = _fit_window(fig).transformed(fig.dpi_scale_trans)  # the rendered area, in pixels
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # places the legend's texts; the layout is frozen, so nothing else moves
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    texts = [text for text in fig.findobj(Text) if text.get_visible() and text.get_text()
             and not any(text is label for label in ax.get_xticklabels() + ax.get_yticklabels())]
    for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):  # the ticks drawn
        texts += [tick.label1 for tick in axis.get_major_ticks() if low <= tick.get_loc() <= high]
    legend = ax.get_legend()
    assert any(text.get_text().startswith("unregularized optimum") for text in texts)
    for artist in [*texts, legend]:
        box = artist.get_window_extent(renderer)
        inside = window.x0 - 0.5 <= box.x0 and box.x1 <= window.x1 + 0.5 and window.y0 - 0.5 <= box.y0 \
            and box.y1 <= window.y1 + 0.5
        assert inside, (getattr(artist, "get_text", lambda: "legend")(), box.extents, window.extents)


def test_constraint_demo_accepts_its_own_geometry():
    demo = ConstraintGeometryDemo(hessian=np.diag([1.0, 4.0]), center=[0.5, 2.0], strength=1.0, norm="l1")
    np.testing.assert_array_equal(demo.optimum, [0.0, 1.75])
    assert demo.zero_coordinates == (0,)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"strength": 50.0}, ValueError, r"strength must be in \[0.01, 10\]"),
        ({"strength": 0.0}, ValueError, "strength must be a finite number > 0"),
        ({"norm": "l3"}, ValueError, "norm must be 'l1' or 'l2'"),
        ({"center": [0.0, 0.0]}, ValueError, "center must not be the origin"),
        ({"center": [1.0, 2.0, 3.0]}, ValueError, "hessian must be 2x2 and center have 2 entries"),
        ({"hessian": np.eye(3)}, ValueError, "hessian must be 2x2"),
        ({"hessian": [[1.0, 0.0], [0.0, -2.0]]}, ValueError, "hessian"),
    ],
)
def test_constraint_demo_validates_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        ConstraintGeometryDemo(**kwargs)


# --- the prior-variance quiz: the judge ------------------------------------------------------------


@pytest.mark.parametrize("variance", QUIZ_VARIANCES)
def test_judge_accepts_the_inverse_variance_within_the_tolerance(variance):
    expected = 1.0 / variance
    for answer in (expected, expected * (1 + 5e-4), expected * (1 - 5e-4), str(expected)):
        correct, message = judge_prior_strength_answer(variance, answer)
        assert correct and message.startswith("Correct")
    assert not judge_prior_strength_answer(variance, expected * (1 + 5e-3))[0]


@pytest.mark.parametrize("variance", QUIZ_VARIANCES)
@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda v: v, "that is σ² itself — the penalty strength is its inverse"),
        (lambda v: 1 / math.sqrt(v), "that is 1/σ — square σ first"),
        (lambda v: 1 / (2 * v), "that is 1/(2σ²) — the ½ is already in the penalty (λ/2)‖w‖²"),
        (lambda v: math.sqrt(v), "that is σ, the prior's standard deviation"),
    ],
)
def test_judge_recognises_each_typical_mistake(variance, wrong, hint):
    correct, message = judge_prior_strength_answer(variance, wrong(variance))
    assert not correct
    assert hint in message


def test_the_quiz_variances_keep_the_mistakes_apart():
    for variance in QUIZ_VARIANCES:
        candidates = [1 / variance, variance, 1 / math.sqrt(variance), 1 / (2 * variance), math.sqrt(variance)]
        assert len({round(c, 9) for c in candidates}) == len(candidates)


def test_judge_explains_other_answers():
    correct, message = judge_prior_strength_answer(0.01, 7.0)
    assert not correct and "is not the strength for σ² = 0.01" in message and "Hint" in message
    assert "never negative" in judge_prior_strength_answer(0.01, -100.0)[1]
    assert "no penalty at all" in judge_prior_strength_answer(0.01, 0.0)[1]
    for text in ("abc", "", None):
        correct, message = judge_prior_strength_answer(0.01, text)
        assert not correct and "is not a number" in message
    assert "finite" in judge_prior_strength_answer(0.01, float("inf"))[1]
    assert "finite" in judge_prior_strength_answer(0.01, float("nan"))[1]


def test_judge_validates_the_variance():
    with pytest.raises(ValueError, match="variance must be a finite number > 0"):
        judge_prior_strength_answer(0.0, 1.0)
    with pytest.raises(TypeError, match="variance must be a real number"):
        judge_prior_strength_answer("0.1", 1.0)


# --- the prior-variance quiz: the widget --------------------------------------------------------------


def test_quiz_check_button_updates_the_feedback():
    quiz = PriorVarianceQuiz()
    assert quiz.variance == QUIZ_VARIANCES[0] and quiz.feedback.value == "" and quiz.correct is None
    assert "σ² = 0.01" in quiz.question.value
    quiz.answer_text.value = 100.0
    quiz.check_button.click()
    assert quiz.correct is True
    assert "Correct" in quiz.feedback.value and "✔" in quiz.feedback.value
    quiz.answer_text.value = 0.01
    quiz.check_button.click()
    assert quiz.correct is False
    assert "σ² itself" in quiz.feedback.value and "✘" in quiz.feedback.value


def test_quiz_changing_the_question_resets_the_feedback():
    quiz = PriorVarianceQuiz()
    quiz.answer_text.value = 100.0
    assert quiz.check() is True
    quiz.variance_dropdown.value = 4.0
    assert quiz.feedback.value == "" and quiz.correct is None
    assert "σ² = 4" in quiz.question.value
    assert quiz.check() is False  # 100 is not 1/4
    quiz.answer_text.value = 0.5
    quiz.check()
    assert "square σ first" in quiz.feedback.value


def test_quiz_static_html_asks_every_question_once_with_its_answer_folded_below():
    quiz = PriorVarianceQuiz()
    text = quiz.static_html()
    assert text.count("<li>") == len(QUIZ_VARIANCES)
    for variance in QUIZ_VARIANCES:
        question = html.escape(prior_question_text(variance))
        answer = f"λ = 1/σ² = {1 / variance:g}</details>"
        assert text.count(question) == 1 and text.count(answer) == 1
        assert text.index(question) < text.index(answer)  # the folded answer comes after its question


def test_quiz_displays_as_one_output_widget_live_and_html_without_a_kernel():
    """One output: a kernel shows the widget, a stored notebook its HTML, so no question shows twice."""
    quiz = PriorVarianceQuiz()
    bundle = quiz._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget
    assert bundle["text/html"] == quiz.static_html()  # what remains once the widget view is stripped
    assert "VBox" not in bundle["text/plain"] and "run the cell" in bundle["text/plain"]
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(quiz)
    assert data["text/html"] == quiz.static_html() and "application/vnd.jupyter.widget-view+json" in data


def test_quiz_widget_folds_the_answer_below_the_question():
    quiz = PriorVarianceQuiz()
    children = list(quiz.widget.children)
    assert children.index(quiz.question) < children.index(quiz.answer)
    assert quiz.answer.selected_index is None and quiz.answer.titles == ("answer",)  # folded
    assert quiz.answer.children[0].value == "λ = 1/σ² = 100"
    quiz.answer.selected_index = 0  # the student unfolds it ...
    quiz.variance_dropdown.value = 4.0
    assert quiz.answer.children[0].value == "λ = 1/σ² = 0.25"
    assert quiz.answer.selected_index is None  # ... and the next question starts folded again


def test_quiz_validates_its_variances():
    with pytest.raises(ValueError, match="variances must be distinct"):
        PriorVarianceQuiz(variances=(0.1, 0.1))
    with pytest.raises(ValueError, match="variances must be distinct"):
        PriorVarianceQuiz(variances=())
    with pytest.raises(ValueError, match="variances must be a finite number > 0"):
        PriorVarianceQuiz(variances=(0.1, -1.0))
