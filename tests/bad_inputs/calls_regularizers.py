"""Valid calls of course_lib.regularizers."""

from __future__ import annotations

from .runner import Case

CASES: list[Case] = []
