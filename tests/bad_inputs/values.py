"""The catalogue of bad inputs: for a valid argument value, the values that replace it.

``bad_inputs(valid)`` returns a fixed list (every entry tried on every argument) of generic bad
values (None, wrong types, NaN, ±inf, 0, negatives, huge and tiny magnitudes) and of variants of
the valid value itself (other dtypes, a NaN entry, wrong rank or shape, empty, scaled by 1e±200).
``generated_bad_input(valid)`` is the hypothesis strategy drawing further variants (random entries
made NaN or infinite, random magnitudes, dtypes, shapes and scalars).

A :class:`BadInput` whose ``equivalent`` is set means the same as that valid value (a list for an
array, an int8 array for its float64 twin, ``np.float64(0.5)`` for ``0.5``): if a function accepts
it, its result must equal the result for ``equivalent``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from torch import nn

NOT_EQUIVALENT = object()


@dataclass(frozen=True)
class BadInput:
    label: str
    value: Any
    equivalent: Any = NOT_EQUIVALENT

    @property
    def has_equivalent(self) -> bool:
        return self.equivalent is not NOT_EQUIVALENT


def _generic() -> list[BadInput]:
    """Tried on every argument, whatever its type."""
    return [
        BadInput("None", None),
        BadInput("a string", "text"),
        BadInput("bytes", b"\xff\xfe"),
        BadInput("an object()", object()),
        BadInput("a complex number", 0.5 + 1j),
        BadInput("nan", math.nan),
        BadInput("+inf", math.inf),
        BadInput("-inf", -math.inf),
        BadInput("0", 0),
        BadInput("-1", -1),
        BadInput("True", True),
        BadInput("huge float 1e300", 1e300),
        BadInput("huge int 10**400", 10**400),
        BadInput("tiny float 5e-324", 5e-324),
        BadInput("an empty list", []),
        BadInput("a dict", {"a": 1}),
    ]


def _float_variants(v: float) -> list[BadInput]:
    out = [
        BadInput("0.0", 0.0),
        BadInput("negated", -v if v else -0.5),
        BadInput("1.0", 1.0),
        BadInput("2.0 (above a probability)", 2.0),
        BadInput("-1e-12", -1e-12),
        BadInput("1 - 1e-16", 1.0 - 1e-16),
        BadInput("numpy float64", np.float64(v), equivalent=v),
        BadInput("Fraction", Fraction(v).limit_denominator(10**6), equivalent=float(Fraction(v).limit_denominator(10**6))),
        BadInput("numeric string", str(v)),
        BadInput("one-element list", [v]),
        BadInput("1-D array", np.array([v, v])),
        BadInput("0-d tensor", torch.tensor(v)),
        BadInput("-1e300", -1e300),
        BadInput("smallest normal 2.2e-308", 2.2250738585072014e-308),
    ]
    if v != 0:
        out.append(BadInput("1e-320 x value", v * 1e-320))
    return out


def _int_variants(v: int) -> list[BadInput]:
    return [
        BadInput("value + 0.5", v + 0.5),
        BadInput("as float", float(v)),
        BadInput("negated", -v if v else -3),
        BadInput("1", 1),
        BadInput("numpy int64", np.int64(v), equivalent=v),
        BadInput("numpy uint8", np.uint8(min(max(v, 0), 255)), equivalent=min(max(v, 0), 255)),
        BadInput("2**63", 2**63),
        BadInput("-2**63 - 1", -(2**63) - 1),
        BadInput("numeric string", str(v)),
        BadInput("one-element list", [v]),
        BadInput("False", False),
    ]


def _bool_variants(v: bool) -> list[BadInput]:
    return [
        BadInput("negated", not v),
        BadInput("numpy bool", np.bool_(v), equivalent=v),
        BadInput("1", 1),
        BadInput("the string 'False'", "False"),
        BadInput("0-d bool tensor", torch.tensor(v)),
    ]


def _str_variants(v: str) -> list[BadInput]:
    return [
        BadInput("empty string", ""),
        BadInput("unknown name", "no-such-option"),
        BadInput("upper case", v.upper()) if v.upper() != v else BadInput("lower case", v.lower()),
        BadInput("padded", f" {v} "),
        BadInput("one-element list", [v]),
    ]


def _array_variants(v: np.ndarray) -> list[BadInput]:
    if v.dtype == np.bool_:
        return _bool_array_variants(v)
    rounded = np.round(v)
    out = [
        BadInput("list", v.tolist(), equivalent=v),
        BadInput("read-only", _read_only(v), equivalent=v),
        BadInput("Fortran order", np.asfortranarray(v), equivalent=v),
        BadInput("float32", v.astype(np.float32), equivalent=v.astype(np.float32).astype(np.float64)),
        BadInput("float16", v.astype(np.float16), equivalent=v.astype(np.float16).astype(np.float64)),
        BadInput("int64", rounded.astype(np.int64), equivalent=rounded),
        BadInput("int8 holding -128", _with_first(np.clip(rounded, -127, 127), -128, np.int8), equivalent=_with_first(np.clip(rounded, -127, 127), -128.0)),
        BadInput("uint8", np.clip(rounded, 0, 255).astype(np.uint8), equivalent=np.clip(rounded, 0, 255)),
        BadInput("bool", v != 0),
        BadInput("complex", v + 0j),
        BadInput("complex with imaginary part", v + 1j),
        BadInput("object dtype", v.astype(object)),
        BadInput("strings", v.astype(str)),
        BadInput("NaN entry", _with_first(v, np.nan)),
        BadInput("+inf entry", _with_first(v, np.inf)),
        BadInput("-inf entry", _with_first(v, -np.inf)),
        BadInput("scaled by 1e200", v * 1e200),
        BadInput("scaled by 1e-200", v * 1e-200),
        BadInput("scaled by 1e308", v * 1e308),
        BadInput("all zeros", np.zeros_like(v)),
        BadInput("negated", -v),
        BadInput("empty", np.empty((0,) + v.shape[1:])),
        BadInput("one more dimension", v[None]),
        BadInput("0-d", np.array(float(v.flat[0])) if v.size else np.array(0.0)),
        BadInput("one more entry along the first axis", np.concatenate([v, v[:1]]) if v.ndim and v.shape[0] else np.ones(1)),
        BadInput("torch tensor", torch.from_numpy(np.array(v))),
    ]
    if v.ndim >= 2:
        out.append(BadInput("flattened", v.reshape(-1)))
        out.append(BadInput("one more column", np.concatenate([v, v[:, :1]], axis=1)))
        if v.shape[0] != v.shape[1]:
            out.append(BadInput("transposed", v.T.copy()))
    if v.ndim == 1 and v.size > 1:
        out.append(BadInput("column vector", v[:, None]))
    return out


def _bool_array_variants(v: np.ndarray) -> list[BadInput]:
    return [
        BadInput("list", v.tolist(), equivalent=v),
        BadInput("0/1 ints", v.astype(np.int64)),
        BadInput("0/1 floats", v.astype(np.float64)),
        BadInput("float in (0, 1)", v * 0.5),
        BadInput("empty", np.empty((0,) + v.shape[1:], dtype=bool)),
        BadInput("one more dimension", v[None]),
        BadInput("flattened", v.reshape(-1)),
        BadInput("all False", np.zeros_like(v)),
        BadInput("all True", np.ones_like(v)),
        BadInput("torch bool tensor", torch.from_numpy(np.array(v))),
    ]


def _tensor_variants(v: torch.Tensor) -> list[BadInput]:
    v = v.detach()
    if not v.is_floating_point():
        return _integer_tensor_variants(v)
    huge, tiny = (1e200, 1e-200) if v.dtype == torch.float64 else (1e30, 1e-30)
    rounded = v.round()
    out = [
        BadInput("numpy array", v.numpy().copy()),
        BadInput("list", v.tolist()),
        BadInput("float64", v.double(), equivalent=v.double()),
        BadInput("float16", v.half(), equivalent=v.half().float()),
        BadInput("bfloat16", v.bfloat16(), equivalent=v.bfloat16().float()),
        BadInput("int64", rounded.long(), equivalent=rounded.double()),
        BadInput("int8 holding -128", _with_first_tensor(rounded.clamp(-127, 127).to(torch.int8), -128), equivalent=_with_first_tensor(rounded.clamp(-127, 127).double(), -128.0)),
        BadInput("uint8", rounded.clamp(0, 255).to(torch.uint8), equivalent=rounded.clamp(0, 255).double()),
        BadInput("bool", v != 0),
        BadInput("complex", v.to(torch.complex64) + 1j),
        BadInput("NaN entry", _with_first_tensor(v, math.nan)),
        BadInput("+inf entry", _with_first_tensor(v, math.inf)),
        BadInput("-inf entry", _with_first_tensor(v, -math.inf)),
        BadInput(f"scaled by {huge:g}", v * huge),
        BadInput(f"scaled by {tiny:g}", v * tiny),
        BadInput("all zeros", torch.zeros_like(v)),
        BadInput("negated", -v),
        BadInput("empty", torch.empty((0,) + tuple(v.shape[1:]), dtype=v.dtype)),
        BadInput("one more dimension", v[None].clone()),
        BadInput("0-d", v.reshape(-1)[0].clone() if v.numel() else torch.tensor(0.0)),
        BadInput("requires grad", v.clone().requires_grad_(True)) if v.is_floating_point() else BadInput("float", v.double()),
        BadInput("non-contiguous", v.T.contiguous().T if v.ndim == 2 else v.clone(), equivalent=v.clone()),
    ]
    if v.ndim >= 2:
        out.append(BadInput("flattened", v.reshape(-1).clone()))
        out.append(BadInput("one more column", torch.cat([v, v[:, :1]], dim=1)))
    if v.ndim == 1 and v.numel() > 1:
        out.append(BadInput("column vector", v[:, None].clone()))
    return out


def _integer_tensor_variants(v: torch.Tensor) -> list[BadInput]:
    """Variants of an integer tensor (class labels, counts): another dtype means something else, so no equivalents."""
    floating = v.double()
    out = [
        BadInput("numpy array", v.numpy().copy()),
        BadInput("list", v.tolist()),
        BadInput("float64", floating),
        BadInput("int8 holding -128", _with_first_tensor(v.clamp(-127, 127).to(torch.int8), -128)),
        BadInput("int32", v.to(torch.int32)),
        BadInput("bool", v != 0),
        BadInput("complex", floating.to(torch.complex64) + 1j),
        BadInput("NaN entry (float)", _with_first_tensor(floating, math.nan)),
        BadInput("+inf entry (float)", _with_first_tensor(floating, math.inf)),
        BadInput("huge entry 2**62", _with_first_tensor(v.long(), 2**62)),
        BadInput("negative entry -1", _with_first_tensor(v.long(), -1)),
        BadInput("shifted by 100", v + 100),
        BadInput("all zeros", torch.zeros_like(v)),
        BadInput("empty", torch.empty((0,) + tuple(v.shape[1:]), dtype=v.dtype)),
        BadInput("one more dimension", v[None].clone()),
        BadInput("0-d", v.reshape(-1)[0].clone() if v.numel() else torch.tensor(0)),
        BadInput("one more entry", torch.cat([v, v[:1]]) if v.ndim and v.shape[0] else torch.zeros(1, dtype=v.dtype)),
    ]
    if v.ndim == 1 and v.numel() > 1:
        out.append(BadInput("column vector", v[:, None].clone()))
    return out


def _sequence_variants(v: tuple | list) -> list[BadInput]:
    out = [
        BadInput("empty", type(v)()),
        BadInput("string", "ab"),
        BadInput("one more element", type(v)([*v, v[-1]]) if v else type(v)([1])),
        BadInput("iterator", iter(list(v)), equivalent=v),
        BadInput("set", {id(v)}),
        BadInput("containing None", type(v)([None, *v[1:]])),
    ]
    if v:
        out.append(BadInput("one element fewer", type(v)(v[:-1])))
        first = v[0]
        if isinstance(first, (int, float)) and not isinstance(first, bool):
            out += [
                BadInput("containing nan", type(v)([math.nan, *v[1:]])),
                BadInput("containing -1", type(v)([-1, *v[1:]])),
                BadInput("containing 0", type(v)([0, *v[1:]])),
                BadInput("containing 10**400", type(v)([10**400, *v[1:]])),
                BadInput("containing a string", type(v)(["1", *v[1:]])),
                BadInput("containing True", type(v)([True, *v[1:]])),
                BadInput("numpy array", np.array(v), equivalent=v),
            ]
            if isinstance(first, int):
                out.append(BadInput("containing a float", type(v)([first + 0.5, *v[1:]])))
    return out


def _generator_variants(v: np.random.Generator) -> list[BadInput]:
    return [
        BadInput("legacy RandomState", np.random.RandomState(0)),
        BadInput("torch.Generator", torch.Generator().manual_seed(0)),
        BadInput("an int seed", 0),
        BadInput("the np.random module", np.random),
    ]


def _module_variants(v: nn.Module) -> list[BadInput]:
    return [
        BadInput("a module without parameters", nn.ReLU()),
        BadInput("an empty Sequential", nn.Sequential()),
        BadInput("the module's class", type(v)),
        BadInput("a list of modules", [v]),
        BadInput("a tensor", torch.zeros(3)),
    ]


def _callable_variants(v: Any) -> list[BadInput]:
    return [
        BadInput("a number", 3.0),
        BadInput("a class", int),
        BadInput("returning nan", lambda *args, **kwargs: torch.tensor(math.nan)),
    ]


def _path_variants(v: Path) -> list[BadInput]:
    return [
        BadInput("empty string", ""),
        BadInput("a directory", Path(__file__).parent),
        BadInput("a missing file", Path(__file__).parent / "no-such-file.toml"),
        BadInput("a non-UTF-8 file", Path(__file__).parent / "not_utf8.toml"),
        BadInput("a Python file", Path(__file__)),
    ]


def bad_inputs(valid: Any) -> list[BadInput]:
    """Every fixed bad input for an argument whose valid value is ``valid``."""
    with np.errstate(all="ignore"):  # building 1e308 * v overflows on purpose
        return _bad_inputs(valid)


def _bad_inputs(valid: Any) -> list[BadInput]:
    out = _generic()
    if isinstance(valid, (bool, np.bool_)):
        out += _bool_variants(bool(valid))
    elif isinstance(valid, int):
        out += _int_variants(valid)
    elif isinstance(valid, float):
        out += _float_variants(valid)
    elif isinstance(valid, str):
        out += _str_variants(valid)
    elif isinstance(valid, Path):
        out += _path_variants(valid)
    elif isinstance(valid, np.ndarray):
        out += _array_variants(valid)
    elif isinstance(valid, torch.Tensor):
        out += _tensor_variants(valid)
    elif isinstance(valid, np.random.Generator):
        out += _generator_variants(valid)
    elif isinstance(valid, nn.Module):
        out += _module_variants(valid)
    elif isinstance(valid, (tuple, list)):
        out += _sequence_variants(valid)
    elif callable(valid):
        out += _callable_variants(valid)
    return out


# --- hypothesis: further variants drawn at random -----------------------------------------------

_NUMPY_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64, np.float16, np.float32, np.bool_, np.complex64, np.complex128]
_TORCH_DTYPES = [torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8, torch.float16, torch.bfloat16, torch.float64, torch.bool, torch.complex64]
_magnitudes = st.one_of(st.integers(150, 308), st.integers(-320, -150)).map(lambda k: 10.0**k)
_scalars = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.booleans(),
)


def generated_bad_input(valid: Any) -> st.SearchStrategy[BadInput]:
    """Random bad variants of ``valid``: poisoned or rescaled entries, other dtypes and shapes, any scalar."""
    any_scalar = _scalars.map(lambda x: BadInput(f"scalar {x!r}", x))
    if isinstance(valid, np.ndarray) and valid.size and valid.dtype != np.bool_:
        return st.one_of(any_scalar, _poisoned_arrays(valid), _rescaled_arrays(valid), _retyped_arrays(valid), _reshaped_arrays(valid))
    if isinstance(valid, torch.Tensor) and valid.numel() and valid.is_floating_point():
        return st.one_of(any_scalar, _poisoned_tensors(valid), _retyped_tensors(valid))
    return any_scalar


def _poisoned_arrays(v: np.ndarray) -> st.SearchStrategy[BadInput]:
    def poison(args: tuple[int, float]) -> BadInput:
        index, bad = args
        out = np.array(v, dtype=np.float64)
        out.flat[index] = bad
        return BadInput(f"{bad} at flat index {index}", out)

    return st.tuples(st.integers(0, v.size - 1), st.sampled_from([math.nan, math.inf, -math.inf])).map(poison)


def _rescaled_arrays(v: np.ndarray) -> st.SearchStrategy[BadInput]:
    def rescale(scale: float) -> BadInput:
        with np.errstate(all="ignore"):
            return BadInput(f"scaled by {scale:g}", v * scale)

    return _magnitudes.map(rescale)


def _retyped_arrays(v: np.ndarray) -> st.SearchStrategy[BadInput]:
    def retype(dtype: Any) -> BadInput:
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            rounded = np.clip(np.round(v), info.min, info.max)
            return BadInput(f"{np.dtype(dtype)}", rounded.astype(dtype), equivalent=rounded.astype(np.float64))
        if np.issubdtype(dtype, np.floating):
            converted = v.astype(dtype)
            return BadInput(f"{np.dtype(dtype)}", converted, equivalent=converted.astype(np.float64))
        return BadInput(f"{np.dtype(dtype)}", v.astype(dtype))

    return st.sampled_from(_NUMPY_DTYPES).map(retype)


def _reshaped_arrays(v: np.ndarray) -> st.SearchStrategy[BadInput]:
    def reshape(shape: tuple[int, ...]) -> BadInput:
        return BadInput(f"shape {shape}", np.resize(v, shape) if v.size else np.zeros(shape))

    shapes = st.lists(st.integers(0, 6), min_size=0, max_size=4).map(tuple).filter(lambda s: s != v.shape)
    return shapes.map(reshape)


def _poisoned_tensors(v: torch.Tensor) -> st.SearchStrategy[BadInput]:
    def poison(args: tuple[int, float]) -> BadInput:
        index, bad = args
        out = v.detach().clone()
        out.view(-1)[index] = bad
        return BadInput(f"{bad} at flat index {index}", out)

    return st.tuples(st.integers(0, v.numel() - 1), st.sampled_from([math.nan, math.inf, -math.inf])).map(poison)


def _retyped_tensors(v: torch.Tensor) -> st.SearchStrategy[BadInput]:
    def retype(dtype: torch.dtype) -> BadInput:
        converted = v.detach().round().to(dtype) if not dtype.is_floating_point else v.detach().to(dtype)
        if dtype.is_complex or dtype == torch.bool:
            return BadInput(f"{dtype}", converted)
        return BadInput(f"{dtype}", converted, equivalent=converted.double() if not dtype.is_floating_point else converted.float())

    return st.sampled_from(_TORCH_DTYPES).map(retype)


def _read_only(v: np.ndarray) -> np.ndarray:
    out = v.copy()
    out.flags.writeable = False
    return out


def _with_first(v: np.ndarray, value: Any, dtype: Any = None) -> np.ndarray:
    out = np.array(v, dtype=dtype or np.result_type(v.dtype, np.asarray(value).dtype))
    if out.size:
        out.flat[0] = value
    return out


def _with_first_tensor(v: torch.Tensor, value: Any) -> torch.Tensor:
    out = v.detach().clone()
    if out.numel():
        out.view(-1)[0] = value
    return out
