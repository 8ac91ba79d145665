"""Valid calls of course_lib.data."""

from __future__ import annotations

from .runner import Case

CASES: list[Case] = []
