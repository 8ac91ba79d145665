"""Valid calls of course_lib.optimizer_paths."""

from __future__ import annotations

from .runner import Case

CASES: list[Case] = []
