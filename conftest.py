"""Loaded by pytest for every path of the repository (tests/, course_lib/ doctests, notebooks/ under nbval).

Before torch computes anything in this process or in a notebook kernel it
starts (nbval's ``--nbval-current-env`` kernel inherits this environment):
the same CPU kernels on every machine, so stored outputs and reference values
do not depend on the processor (:data:`course_lib.execution.PORTABLE_CPU_ENV`).
A value already set in the environment wins.
"""

import os

from course_lib.execution import PORTABLE_CPU_ENV

for _name, _value in PORTABLE_CPU_ENV.items():
    os.environ.setdefault(_name, _value)
