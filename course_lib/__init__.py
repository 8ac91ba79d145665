"""course_lib: the tested library behind the executable textbook on regularization.

One module per topic for the algorithms (``dropout``, ``regularizers``,
``linear_models``, ``optim`` …), shared experiment parts (``data``, ``models``,
``train``, ``gradcheck``), the book's tooling (``book``, ``notebook``,
``execution``, ``release``), and three packages with one module per chapter,
named by its ``book.toml`` id: ``checks`` (autograding), ``plots`` (figures)
and ``widgets`` (interactive demos). Chapter notebooks start with::

    import course_lib
    rng = course_lib.setup_notebook()
"""

from course_lib._random import default_rng
from course_lib.notebook import setup_notebook

__version__ = "0.1.0"
__all__ = ["setup_notebook", "default_rng", "__version__"]
