"""Valid calls of course_lib.dropout."""

from __future__ import annotations

from .runner import Case

CASES: list[Case] = []
