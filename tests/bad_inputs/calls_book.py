"""Valid calls of course_lib.book."""

from __future__ import annotations

from .runner import Case

CASES: list[Case] = []
