"""course_lib._validation: the shared argument checks, in particular the one dtype rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib._validation import check_choice, real_array, real_tensor


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        (np.array([-128, 100], dtype=np.int8), np.float64),
        (np.array([1, 2], dtype=np.uint16), np.float64),
        (np.array([1.5], dtype=np.float16), np.float64),
        (np.array([1.5], dtype=np.float32), np.float64),
        ([1, 2.5], np.float64),
        (np.array([1.0], dtype=np.longdouble), np.longdouble),
        (torch.tensor([3, -4], dtype=torch.int8), np.float64),
    ],
)
def test_real_array_computes_in_at_least_float64(value, dtype) -> None:
    array = real_array("x", value)
    assert array.dtype == dtype
    np.testing.assert_array_equal(array, np.asarray(value.numpy() if isinstance(value, torch.Tensor) else value, dtype=dtype))


def test_real_array_of_int8_does_not_wrap() -> None:
    array = real_array("w", np.array([-128, 100], dtype=np.int8))
    assert np.abs(array).sum() == 228.0 and (array**2).sum() == 26384.0


def test_real_array_returns_a_new_array_for_float64_input_too() -> None:
    original = np.array([1.0, 2.0])
    copy = real_array("x", original)
    copy[0] = 5.0
    assert original[0] == 1.0 and not np.shares_memory(copy, original)


@pytest.mark.parametrize(
    "value",
    [np.eye(2) + 1j, [True, False], ["a"], np.array([object()]), torch.ones(2, dtype=torch.bool), torch.ones(2, dtype=torch.complex64)],
)
def test_real_array_rejects_bool_complex_string_and_object_data_naming_the_argument(value) -> None:
    with pytest.raises(TypeError, match=r"^X must hold real numbers \(an integer or floating dtype\), got dtype"):
        real_array("X", value)


def test_real_array_rejects_ragged_input_naming_the_argument() -> None:
    with pytest.raises(TypeError, match="X must be a real array, got list"):
        real_array("X", [[1.0], [1.0, 2.0]])


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(torch.int8, torch.float64), (torch.int64, torch.float64), (torch.float16, torch.float32),
     (torch.bfloat16, torch.float32), (torch.float32, torch.float32), (torch.float64, torch.float64)],
)
def test_real_tensor_widens_what_would_wrap_or_overflow(dtype, expected) -> None:
    tensor = torch.tensor([-100, 100], dtype=dtype)
    widened = real_tensor("w", tensor)
    assert widened.dtype == expected
    assert (widened**2).sum().item() == 20000.0  # int8 or float16 arithmetic would wrap or lose it


def test_real_tensor_keeps_a_float_tensor_and_its_graph() -> None:
    w = torch.ones(3, requires_grad=True)
    assert real_tensor("w", w) is w


@pytest.mark.parametrize("value", [torch.ones(2, dtype=torch.bool), torch.ones(2, dtype=torch.complex64), np.ones(2), [1.0]])
def test_real_tensor_rejects_bool_complex_and_non_tensors(value) -> None:
    with pytest.raises(TypeError, match="^w must"):
        real_tensor("w", value)


# --- record fields ---------------------------------------------------------------------------

from typing import NamedTuple  # noqa: E402

from course_lib._validation import ValidatedTuple, check_real, record_array  # noqa: E402


def test_record_array_keeps_a_float64_array_and_converts_the_rest_by_the_dtype_rule() -> None:
    kept = np.zeros((2, 3))
    assert record_array("X", kept, (None, 3)) is kept
    converted = record_array("y", [1, 2], (2,))
    assert converted.dtype == np.float64 and converted.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("value", "shape", "error", "message"),
    [
        (None, (None,), TypeError, "coef must be a 1-D real array, got NoneType None"),
        (np.ones((2, 2)), (None,), ValueError, r"coef must be a 1-D real array of shape \(any,\), got shape \(2, 2\)"),
        (np.ones(3), (4,), ValueError, r"coef must be a 1-D real array of shape \(4,\), got shape \(3,\)"),
    ],
)
def test_record_array_names_the_field(value, shape, error, message) -> None:
    with pytest.raises(error, match=message):
        record_array("coef", value, shape)


class _PointFields(NamedTuple):
    x: float


class _Point(ValidatedTuple, _PointFields):
    __slots__ = ()

    def __new__(cls, x: float) -> "_Point":
        return super().__new__(cls, check_real("x", x))


def test_a_validated_tuple_checks_on_construction_make_and_replace() -> None:
    point = _Point(1)
    assert point == (1.0,) and repr(point) == "_Point(x=1.0)"
    for build in (lambda: _Point(None), lambda: _Point._make([None]), lambda: point._replace(x="a")):
        with pytest.raises(TypeError, match="x must be a real number"):
            build()


# --- finite in, finite out ----------------------------------------------------------------------

from course_lib._validation import check_finite, check_finite_result, overflow_is_an_error  # noqa: E402


def test_check_finite_counts_the_bad_entries() -> None:
    with pytest.raises(ValueError, match=r"x must be finite, got nan at flat index 0 \(2 NaN or infinite entries\)"):
        check_finite("x", np.array([np.nan, 1.0, np.inf]))
    with pytest.raises(ValueError, match=r"t must be finite, got -inf at flat index 1 \(1 NaN or infinite entry\)"):
        check_finite("t", torch.tensor([1.0, -float("inf")]))
    array = np.ones(2)
    assert check_finite("x", array) is array


def test_overflow_is_an_error_names_the_arguments() -> None:
    with pytest.raises(ValueError, match="the magnitudes of X and y are beyond float64's range: .*overflow"):
        with overflow_is_an_error("X and y"):
            np.array([1e200]) * np.array([1e200])
    with pytest.raises(ValueError, match="the magnitudes of lr are beyond float64's range"):
        with overflow_is_an_error("lr"):
            1e200**2
    with overflow_is_an_error("x"):  # underflow to zero is not an error
        assert np.array([1e-200]) * 1e-200 == 0.0


def test_check_finite_result_names_the_arguments_and_the_dtype() -> None:
    with pytest.raises(ValueError, match="the magnitudes of w and lr are beyond float32's range"):
        check_finite_result(torch.tensor([1e30]) * 1e30, "w and lr")
    assert check_finite_result(2.0, "x") == 2.0


def test_real_array_is_c_ordered_and_check_real_rejects_floats_out_of_range() -> None:
    assert real_array("x", np.asfortranarray(np.ones((2, 3)))).flags.c_contiguous
    with pytest.raises(ValueError, match="x must be a real number within the float range, got int"):
        check_real("x", 10**400)
    with pytest.raises(TypeError, match="x must be a real number, got bool"):
        check_real("x", np.bool_(True))


def test_check_finite_real() -> None:
    from course_lib._validation import check_finite_real

    assert check_finite_real("x", 3) == 3.0
    with pytest.raises(ValueError, match="x must be a finite number, got inf"):
        check_finite_real("x", float("inf"))
    with pytest.raises(TypeError, match="x must be a real number"):
        check_finite_real("x", True)


def test_check_choice_returns_an_allowed_str_and_names_the_argument_otherwise() -> None:
    assert check_choice("mode", "eval", ("mc", "eval")) == "eval"
    assert check_choice("variant", "dropout", {"dropout": "plain", "dropblock": "blocks"}) == "dropout"  # a mapping's keys
    with pytest.raises(ValueError, match=r"^mode must be one of \('mc', 'eval'\), got 'MC'$"):
        check_choice("mode", "MC", ("mc", "eval"))
    with pytest.raises(TypeError, match=r"^mode must be a str, one of \('mc', 'eval'\), got int 1$"):
        check_choice("mode", 1, ("mc", "eval"))
    with pytest.raises(ValueError, match=r"^view must be the targets or the logits, got 'both'$"):
        check_choice("view", "both", ("targets", "logits"), described="the targets or the logits")
