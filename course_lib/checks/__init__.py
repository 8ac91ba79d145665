"""Checkers for the autograded exercises: property tests that explain what went wrong.

Each ``check_*`` function runs a student's implementation against a list of
properties (shapes and dtypes, exact identities, hand-made cases, agreement with
a reference implementation on random inputs, statistics within a stated
tolerance, a numerical gradient check, input validation), prints one line per
property and returns a :class:`CheckReport` that is truthy only if every
property holds, so an nbgrader test cell can simply ``assert`` it::

    assert check_dropout_forward(dropout_forward)

A property that fails prints ``✗ <property>: expected …, got … — <hint>``.
An exception raised by the student's code (including the
``NotImplementedError`` of an untouched exercise) is reported on that line
instead of crashing the cell. When one root mistake breaks several
properties, its hint is printed once, on the first ✗ line; the others say
``— a consequence of <the mistake> (see above)``, and a closing
``Diagnosis: …`` line names it (see :class:`~course_lib.checks.report.Diagnosis`). Every input is drawn from a fixed seed, so the
printed lines are the same on every run.

One module per chapter, named by its ``book.toml`` id
(:mod:`~course_lib.checks.intro`, :mod:`~course_lib.checks.dropout`,
:mod:`~course_lib.checks.mc_dropout`, :mod:`~course_lib.checks.weight_decay`,
:mod:`~course_lib.checks.adamw`, :mod:`~course_lib.checks.label_smoothing`,
:mod:`~course_lib.checks.variants`, :mod:`~course_lib.checks.practice`), and
:mod:`~course_lib.checks.report`, the report and property runner they share.
This package re-exports every checker and the report classes, so an exercise
imports ``from course_lib.checks import check_dropout_forward``.
"""

from course_lib.checks.report import CheckReport, PropertyResult
from course_lib.checks.intro import check_choose_by_validation, check_early_stop_epoch, check_train_val_split
from course_lib.checks.dropout import check_dropout_backward, check_dropout_forward, check_dropout_layer
from course_lib.checks.mc_dropout import check_choose_n_samples, check_mc_predict, check_mutual_information
from course_lib.checks.weight_decay import (
    check_choose_alpha,
    check_ridge_fit,
    check_sgd_decoupled_step,
    check_sgd_l2_step,
    check_soft_threshold,
)
from course_lib.checks.adamw import check_adam_l2_step, check_adamw_optimizer, check_adamw_step
from course_lib.checks.label_smoothing import (
    check_compare_smoothing,
    check_label_smoothing_cross_entropy,
    check_smooth_targets,
)
from course_lib.checks.variants import check_drop_path, check_expected_active_blocks, check_spatial_dropout
from course_lib.checks.practice import check_configure_adamw, check_evaluate

__all__ = [
    "PropertyResult",
    "CheckReport",
    "check_dropout_forward",
    "check_dropout_backward",
    "check_early_stop_epoch",
    "check_train_val_split",
    "check_sgd_l2_step",
    "check_sgd_decoupled_step",
    "check_soft_threshold",
    "check_ridge_fit",
    "check_adam_l2_step",
    "check_adamw_step",
    # the experiment parts of the exercises
    "check_choose_by_validation",
    "check_dropout_layer",
    "check_choose_alpha",
    "check_adamw_optimizer",
    # the chapter "Monte-Carlo dropout", its experiment part last
    "check_mc_predict",
    "check_mutual_information",
    "check_choose_n_samples",
    # the chapter "Label smoothing", its experiment part (the bug hunt) last
    "check_smooth_targets",
    "check_label_smoothing_cross_entropy",
    "check_compare_smoothing",
    # the chapter "Dropout variants", its experiment part (the depth of a stochastic-depth stack) last
    "check_drop_path",
    "check_spatial_dropout",
    "check_expected_active_blocks",
    # the chapter "Regularization in practice": the parameter groups, then the bug hunt's evaluate
    "check_configure_adamw",
    "check_evaluate",
]
