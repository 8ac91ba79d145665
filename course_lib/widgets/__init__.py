"""Interactive demos of the book's chapters, one module per chapter, and the helpers they share.

Each demo is a small class holding ipywidgets controls; the controls only call
tested functions of the topic modules (:mod:`course_lib.dropout`,
:mod:`course_lib.mc_dropout`, :mod:`course_lib.regularizers`, :mod:`course_lib.optimizer_paths`,
:mod:`course_lib.losses`, :mod:`course_lib.variants`) and the
figures of :mod:`course_lib.plots`. The figure is rendered off-screen to PNG
bytes (:func:`figure_to_png`) and shown in an ``Image`` widget, so a demo is
deterministic given its seed, can be built and driven outside a kernel
(``demo.p_slider.value = 0.3``; ``demo.resample_button.click()``), and offers
``static_figure()``: the same picture as an ordinary figure, for the HTML book
and readers without a kernel. Display ``demo.widget``.

* :mod:`course_lib.widgets.dropout` -- dropout chapter:
  :class:`~course_lib.widgets.dropout.DropoutNetworkDemo`, a drawn network
  with dropped units, a drop-rate slider, a train/eval toggle, a resample
  button and live statistics; :class:`~course_lib.widgets.dropout.RunningMeanDemo`,
  "sample ×N": the running mean of N training-mode outputs of a fixed small
  network converging to its eval-mode output.
* :mod:`course_lib.widgets.mc_dropout` -- Monte-Carlo dropout chapter:
  :class:`~course_lib.widgets.mc_dropout.MCRegressionDemo`, the predictive
  band of a regression network with sliders for the dropout rate, the model
  precision τ and the number of passes M, and a toggle between MC dropout and
  ``model.eval()`` (dropout off: no band beyond the τ⁻¹ floor).
* :mod:`course_lib.widgets.weight_decay` -- weight decay chapter:
  :class:`~course_lib.widgets.weight_decay.ConstraintGeometryDemo`, a penalty
  is a constraint: loss ellipses, the L2 disc or L1 diamond, and the exact
  optima; :class:`~course_lib.widgets.weight_decay.PriorVarianceQuiz`, "given
  the prior variance σ², what is λ?", with a hint per typical mistake.
* :mod:`course_lib.widgets.adamw` -- Adam vs AdamW chapter:
  :class:`~course_lib.widgets.adamw.AdamPathsDemo`, Adam + L2 and AdamW paths
  on one loss whose weights have gradient scales 100 apart, with λ and η
  sliders and a toggle for 300 or 3,000 steps.
* :mod:`course_lib.widgets.label_smoothing` -- label-smoothing chapter:
  :class:`~course_lib.widgets.label_smoothing.SmoothingDemo`, the one-hot and
  the two smoothed targets (ε/K to every class, PyTorch's, or ε/(K − 1) to the
  others) with ε and K sliders, and both optimal logit gaps; a toggle shows
  the optimal logits instead of the targets.
* :mod:`course_lib.widgets.variants` -- dropout-variants chapter:
  :class:`~course_lib.widgets.variants.MaskDemo`, the masks of dropout,
  spatial dropout and DropBlock on a (channels × H × W) map, with p, block
  size, seed and kept-scale controls, DropBlock's seed rate γ and the mean
  realised fraction over 100 draws.

This module holds only what several demos share: :func:`figure_to_png`, the
rendering of a demo's picture at the size the page shows it
(:data:`WIDGET_CSS_DPI`, :data:`WIDGET_PIXEL_RATIO`, with every artist kept
inside the figure), the layout of a demo (controls, readout, picture), the
drop-rate slider and the formatting of a point in the readouts.

Sharp pictures: the browser must never rescale a demo's PNG. A figure of
``w`` inches is shown ``w × WIDGET_CSS_DPI`` CSS pixels wide (the ``Image``
widget's layout width; 888 px for the widest, 7.4-inch figure, which fits the
≈ 900–1000 px output area of a JupyterLab cell) and rendered at
``WIDGET_PIXEL_RATIO`` device pixels per CSS pixel, so it is crisp on HiDPI
screens too. A window narrower than the figure shrinks it (``max-width:
100%``); nothing ever enlarges it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.transforms import Bbox

__all__ = ["figure_to_png", "DemoBox", "STORED_TEXT", "WIDGET_CSS_DPI", "WIDGET_PIXEL_RATIO"]

#: CSS pixels per inch of figure at which a demo's picture is shown: the
#: ``Image`` widget is exactly ``figure width × WIDGET_CSS_DPI`` CSS pixels wide
#: (768–888 px for the demos' 6.4–7.4-inch figures), so 10-point text reads at
#: about 17 px, and the browser has nothing to stretch.
WIDGET_CSS_DPI = 120
#: Device pixels per CSS pixel of a demo's PNG (its dpi is
#: ``WIDGET_CSS_DPI × WIDGET_PIXEL_RATIO``): 2 is sharp on HiDPI screens, and a
#: 1× screen only downsamples it.
WIDGET_PIXEL_RATIO = 2


def _rate_slider(p: float) -> widgets.FloatSlider:
    return widgets.FloatSlider(value=p, min=0.0, max=0.9, step=0.05, description="drop rate p", readout_format=".2f")


def figure_to_png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes at the figure's own dpi.

    The image is ``figsize × fig.dpi`` pixels whatever ``rcParams["savefig.dpi"]``
    says (the book's style sets it to 80 for static figures), and its metadata
    holds no timestamp, so the bytes are reproducible.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return buffer.getvalue()


def _demo_figure(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """An off-screen figure of ``figsize`` inches at the demos' dpi, with constrained layout, and its one axes."""
    fig = Figure(figsize=figsize, dpi=WIDGET_CSS_DPI * WIDGET_PIXEL_RATIO, layout="constrained")
    return fig, fig.add_subplot()


def _window(low: float, high: float, size: float) -> tuple[float, float]:
    """An interval of length ``max(size, high - low)`` holding ``[low, high]``, as close to ``[0, size]`` as can be."""
    if high - low >= size:
        return low, high
    start = min(max(0.0, high - size), low)
    return start, start + size


def _fit_window(fig: Figure) -> Bbox:
    r"""Lay ``fig`` out for good and return the window (inches) that holds every artist, in the figure's aspect ratio.

    Constrained layout alone can leave an artist outside the figure: beside
    an axes of fixed aspect (``set_aspect("equal")``) it reserves too little
    room for a legend placed outside the axes -- what clipped the legend of the
    weight-decay demo's constraint picture. A static figure does not show it
    (the inline backend saves with ``bbox_inches="tight"``, which grows the
    image), but a demo's image must keep its size. So: lay out once (then the
    layout engine is removed, so nothing moves again), measure the tight
    bounding box :math:`T` (``fig.get_tightbbox``, padded by the layout's
    ``w_pad``/``h_pad``), and return the window :math:`R` that holds it: the
    figure itself when :math:`T` fits (the common case), the figure shifted
    just enough when :math:`T` is no larger than the figure, otherwise
    :math:`T` widened to the figure's aspect ratio.
    """
    engine = fig.get_layout_engine()
    if not isinstance(engine, ConstrainedLayoutEngine):
        raise ValueError(f"fig must use constrained layout, got layout engine {type(engine).__name__}")
    engine.execute(fig)  # positions the axes; get_tightbbox applies their aspect
    tight = fig.get_tightbbox().padded(engine.get()["w_pad"], engine.get()["h_pad"])
    # Keep this layout: without an engine, saving neither repeats it nor makes a layout pass first.
    with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    width, height = fig.get_size_inches()
    x0, x1 = _window(tight.x0, tight.x1, width)
    y0, y1 = _window(tight.y0, tight.y1, height)
    scale = max((x1 - x0) / width, (y1 - y0) / height)  # widen the window to the figure's aspect ratio
    x_mid, y_mid = (x0 + x1) / 2, (y0 + y1) / 2
    return Bbox.from_extents(x_mid - scale * width / 2, y_mid - scale * height / 2,
                             x_mid + scale * width / 2, y_mid + scale * height / 2)


def _fitted_png(fig: Figure) -> bytes:
    """PNG of ``fig``, exactly ``figsize × fig.dpi`` pixels, every artist inside: ``bbox_inches="tight"``, fixed size.

    Renders the window of :func:`_fit_window`: when it is the figure, the bytes
    are those of :func:`figure_to_png`; otherwise the window is rendered at
    ``fig.dpi × figure width / window width``, so the image keeps its pixel
    size and the picture shrinks by that factor (under 1% for the constraint
    picture). One layout pass and one measurement are all this adds to a
    plain ``savefig``.
    """
    window = _fit_window(fig)
    width, height = fig.get_size_inches()
    if np.allclose(window.extents, (0.0, 0.0, width, height), rtol=0.0, atol=0.5 / fig.dpi):  # half a pixel
        return figure_to_png(fig)
    pixels_wide = round(width * fig.dpi)
    buffer = io.BytesIO()  # Agg truncates the pixel size: aim a quarter pixel above it
    fig.savefig(buffer, format="png", dpi=(pixels_wide + 0.25) / window.width, bbox_inches=window)
    return buffer.getvalue()


def _show_figure(image: widgets.Image, fig: Figure) -> None:
    """Show ``fig`` in ``image``: every artist inside its fixed size (:func:`_fitted_png`), at its CSS width, unscaled.

    The PNG has ``fig.dpi`` pixels per inch (:func:`_demo_figure`:
    ``WIDGET_CSS_DPI × WIDGET_PIXEL_RATIO``); the widget's layout width is
    ``figure width × WIDGET_CSS_DPI`` CSS pixels, so the browser maps
    ``WIDGET_PIXEL_RATIO`` image pixels to each CSS pixel and stretches nothing.
    """
    image.value = _fitted_png(fig)
    image.layout.width = f"{round(fig.get_figwidth() * WIDGET_CSS_DPI)}px"


#: The text form of a demo's widget: what a notebook stores as the output of
#: the cell that displays it, and what a reader sees before running that cell.
STORED_TEXT = "Interactive demo: run this cell to interact; the static figure above shows the default values."


class DemoBox(widgets.VBox):
    """A ``VBox`` whose text form is :data:`STORED_TEXT` instead of the repr of its children.

    In a live kernel the front end shows the widget view as usual; a notebook
    executed without widget state keeps only ``text/plain``, so the stored
    output reads as a sentence, not as ``VBox(children=(HBox(…``.
    """

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs)
        data["text/plain"] = STORED_TEXT
        return data


def _labelled_row(label: str, control: widgets.DOMWidget) -> widgets.HBox:
    """``label`` on the same line as ``control`` (a ``description`` of toggle buttons can wrap above them)."""
    return widgets.HBox([widgets.Label(label, layout=widgets.Layout(width="80px")), control])


def _readout_panel(
    controls: Sequence[widgets.DOMWidget],
    on_change: Callable[[dict], None],
    rows: Sequence[widgets.DOMWidget] | None = None,
) -> tuple[widgets.HTML, widgets.Image, DemoBox]:
    """A demo's layout: its rows of controls (default: the controls in one row), then a readout, then the picture.

    Every control's ``value`` is observed with ``on_change``.

    Returns:
        ``(readout, image, widget)``: the HTML readout, the PNG image and the :class:`DemoBox` holding them.
    """
    readout = widgets.HTML()
    # The width is set per figure by _show_figure; a narrow window shrinks the picture, keeping its aspect.
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
    widget = DemoBox([*(rows if rows is not None else [widgets.HBox(list(controls))]), readout, image])
    for control in controls:
        control.observe(on_change, names="value")
    return readout, image, widget


def _format_point(w: np.ndarray) -> str:
    """A point of the plane as a readout shows it: ``(x, y)``, each to 4 decimals."""
    return "(" + ", ".join(f"{x:.4f}" for x in w) + ")"
