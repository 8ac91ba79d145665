"""course_lib: the tested library behind the executable textbook on regularization.

One module per topic (``dropout``, ``gradcheck``, ``checks``, ``plots``,
``widgets``, ``book`` …). Chapter notebooks start with::

    import course_lib
    rng = course_lib.setup_notebook()
"""

from course_lib._random import default_rng
from course_lib.notebook import setup_notebook

__version__ = "0.1.0"
__all__ = ["setup_notebook", "default_rng", "__version__"]
