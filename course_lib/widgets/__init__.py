"""Interactive demos of the book's chapters, one module per chapter, and the helpers they share.

Each demo is a small class holding ipywidgets controls; the controls only call
tested functions of the topic modules (:mod:`course_lib.dropout`,
:mod:`course_lib.regularizers`, :mod:`course_lib.optimizer_paths`) and the
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
* :mod:`course_lib.widgets.weight_decay` -- weight decay chapter:
  :class:`~course_lib.widgets.weight_decay.ConstraintGeometryDemo`, a penalty
  is a constraint: loss ellipses, the L2 disc or L1 diamond, and the exact
  optima; :class:`~course_lib.widgets.weight_decay.PriorVarianceQuiz`, "given
  the prior variance σ², what is λ?", with a hint per typical mistake.
* :mod:`course_lib.widgets.adamw` -- Adam vs AdamW chapter:
  :class:`~course_lib.widgets.adamw.AdamPathsDemo`, Adam + L2 and AdamW paths
  on one loss whose weights have gradient scales 100 apart, with λ and η sliders.

This module holds only what several demos share: :func:`figure_to_png`, the
layout of a demo (controls, readout, picture), the drop-rate slider and the
formatting of a point in the readouts.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

__all__ = ["figure_to_png", "DemoBox", "STORED_TEXT"]


def _rate_slider(p: float) -> widgets.FloatSlider:
    return widgets.FloatSlider(value=p, min=0.0, max=0.9, step=0.05, description="drop rate p", readout_format=".2f")


def figure_to_png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes (no timestamp in the metadata, so the bytes are reproducible)."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


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
    image = widgets.Image(format="png")
    widget = DemoBox([*(rows if rows is not None else [widgets.HBox(list(controls))]), readout, image])
    for control in controls:
        control.observe(on_change, names="value")
    return readout, image, widget


def _format_point(w: np.ndarray) -> str:
    """A point of the plane as a readout shows it: ``(x, y)``, each to 4 decimals."""
    return "(" + ", ".join(f"{x:.4f}" for x in w) + ")"
