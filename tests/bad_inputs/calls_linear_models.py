"""Valid calls of course_lib.linear_models."""

from __future__ import annotations

from .runner import Case

CASES: list[Case] = []
