"""Shared set-up of the figure tests: every test starts and ends without open pyplot figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")
