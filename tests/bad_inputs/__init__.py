"""The bad-input tests: every public callable of the topic modules, one argument replaced at a time.

One ``calls_<module>.py`` per topic module of course_lib lists its :class:`~.runner.Case` s (a
valid call and the property of its result); ``values.py`` is the catalogue of bad inputs and
``runner.py`` judges one call. A new topic module adds its ``calls_<module>.py`` here and in
``TOPIC_MODULES``.
"""
