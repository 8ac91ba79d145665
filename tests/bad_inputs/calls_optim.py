"""Valid calls of course_lib.optim."""

from __future__ import annotations

from .runner import Case

CASES: list[Case] = []
