"""Read ``book.toml``, the manifest that lists the book's chapters in order.

Tests, ``make execute``, ``make release`` and the HTML build all read the
chapter list from here, so adding a chapter means adding one table to
``book.toml``.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from course_lib._validation import check_positive

__all__ = ["BookError", "Chapter", "Book", "load_book", "contents", "DEFAULT_BOOK_PATH"]

DEFAULT_BOOK_PATH = Path(__file__).resolve().parents[1] / "book.toml"
STATUSES = ("planned", "written")
CHAPTER_KEYS = ("id", "title", "notebook", "exercises", "budget_seconds", "status", "objectives")
# A chapter states between 2 and 4 learning objectives (the landing page of the HTML book lists them),
# each one short sentence.
OBJECTIVES_COUNT = (2, 4)
OBJECTIVE_MAX_CHARS = 120


class BookError(ValueError):
    """A malformed ``book.toml``; the message names the offending key."""


@dataclass(frozen=True)
class Chapter:
    """One chapter: its notebook, its nbgrader exercise source and its runtime budget.

    The constructor checks the fields: ``id`` and ``title`` strings, ``notebook`` and
    ``exercises`` paths to ``.ipynb`` files (a ``str`` is converted to a ``Path``),
    ``budget_seconds`` a finite number > 0, ``status`` one of :data:`STATUSES` and
    ``objectives`` the chapter's learning objectives: a tuple (or list, stored as a tuple)
    of 2 to 4 non-empty strings of at most :data:`OBJECTIVE_MAX_CHARS` characters, or the
    default ``()`` for a record that states none (:func:`load_book` requires them in the
    manifest); a wrong field is a ``TypeError``/``ValueError`` naming it.
    """

    id: str
    title: str
    notebook: Path
    exercises: Path
    budget_seconds: float
    status: Literal["planned", "written"]
    objectives: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("id", "title", "status"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        for name in ("notebook", "exercises"):
            object.__setattr__(self, name, _notebook_path(name, getattr(self, name)))
        object.__setattr__(self, "budget_seconds", check_positive("budget_seconds", self.budget_seconds))
        object.__setattr__(self, "objectives", _objectives(self.objectives))

    @property
    def written(self) -> bool:
        return self.status == "written"


def _notebook_path(name: str, value: Any) -> Path:
    """A chapter's notebook field as a ``Path`` (kept as it is if it already is one) naming an ``.ipynb`` file."""
    if not isinstance(value, Path):
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{name} must be a pathlib.Path or str, got {type(value).__name__} {value!r}")
        value = Path(value)
    if not value.name.endswith(".ipynb"):
        raise ValueError(f"{name} must be the path of an .ipynb file, got {str(value)!r}")
    return value


def _objectives(value: Any) -> tuple[str, ...]:
    """A chapter's learning objectives as a tuple of short, non-empty strings: none, or 2 to 4 of them."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise TypeError(f"objectives must be a tuple or list of str, got {type(value).__name__} {value!r}")
    for index, objective in enumerate(value):
        if not isinstance(objective, str):
            raise TypeError(f"objectives[{index}] must be a str, got {type(objective).__name__} {objective!r}")
        if not objective.strip():
            raise ValueError(f"objectives[{index}] must be a non-empty str, got {objective!r}")
        if len(objective) > OBJECTIVE_MAX_CHARS:
            raise ValueError(
                f"objectives[{index}] must be at most {OBJECTIVE_MAX_CHARS} characters (one short sentence), "
                f"got {len(objective)}: {objective[:40]!r}..."
            )
    low, high = OBJECTIVES_COUNT
    if value and not low <= len(value) <= high:
        raise ValueError(f"objectives must hold {low} to {high} learning objectives (or none), got {len(value)}")
    return tuple(value)


@dataclass(frozen=True)
class Book:
    """The whole manifest; chapter paths are absolute (resolved against ``root``).

    The constructor checks ``title`` (a non-empty str), ``chapters`` (a non-empty tuple or list of
    :class:`Chapter`, stored as a tuple) and ``root`` (a path; a ``str`` becomes a ``Path``).
    """

    title: str
    chapters: tuple[Chapter, ...]
    root: Path

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise TypeError(f"title must be a non-empty str, got {type(self.title).__name__} {self.title!r}")
        if isinstance(self.chapters, (str, bytes)) or not isinstance(self.chapters, (tuple, list)):
            raise TypeError(f"chapters must be a tuple of Chapter, got {type(self.chapters).__name__}")
        if not self.chapters or not all(isinstance(c, Chapter) for c in self.chapters):
            raise ValueError(f"chapters must be a non-empty tuple of Chapter, got {self.chapters!r}")
        if not isinstance(self.root, (str, os.PathLike)) or not str(self.root).strip():
            raise TypeError(f"root must be a pathlib.Path or str, got {type(self.root).__name__} {self.root!r}")
        object.__setattr__(self, "chapters", tuple(self.chapters))
        object.__setattr__(self, "root", Path(self.root))

    @property
    def written_chapters(self) -> tuple[Chapter, ...]:
        return tuple(c for c in self.chapters if c.written)

    def chapter(self, chapter_id: str) -> Chapter:
        """The chapter with id ``chapter_id`` (``ValueError`` listing the known ids if there is none)."""
        if not isinstance(chapter_id, str):
            raise TypeError(f"chapter_id must be a str, got {type(chapter_id).__name__} {chapter_id!r}")
        for chapter in self.chapters:
            if chapter.id == chapter_id:
                return chapter
        known = ", ".join(c.id for c in self.chapters)
        raise ValueError(f"chapter_id {chapter_id!r} is not a chapter of the book (known: {known})")


def load_book(path: str | Path | None = None) -> Book:
    """Parse and validate ``book.toml`` (default: the one at the project root).

    Every problem is a :class:`BookError` naming the path (a missing file, an
    empty path, a directory, a file that is not UTF-8 or not TOML) or the
    chapter and key (e.g. ``budget_seconds`` must be a finite number > 0;
    TOML's ``nan`` and ``inf`` are rejected; ``objectives`` must be an array of
    2 to 4 short strings).
    """
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or pathlib.Path naming a manifest file, got {type(path).__name__} {path!r}")
    if path is not None and not str(path).strip():
        raise BookError(f"path must name a manifest file, got {path!r}")
    path = Path(path) if path is not None else DEFAULT_BOOK_PATH
    data = _read_toml(path)
    root = path.resolve().parent

    title = _get(data, "title", str, where=f"{path.name}")
    raw_chapters = data.get("chapters")
    if not isinstance(raw_chapters, list) or not raw_chapters:
        raise BookError(f"{path.name}: key 'chapters' must be a non-empty array of tables ([[chapters]])")
    unknown = sorted(set(data) - {"title", "chapters"})
    if unknown:
        raise BookError(f"{path.name}: unknown top-level key(s) {unknown}")

    chapters = []
    for index, raw in enumerate(raw_chapters):
        where = f"{path.name}: chapters[{index}]"
        if not isinstance(raw, dict):
            raise BookError(f"{where} must be a table")
        extra = sorted(set(raw) - set(CHAPTER_KEYS))
        if extra:
            raise BookError(f"{where}: unknown key(s) {extra}")
        chapter_id = _get(raw, "id", str, where)
        where = f"{path.name}: chapter {chapter_id!r}"
        budget = _get(raw, "budget_seconds", (int, float), where)
        if isinstance(budget, bool) or budget <= 0:
            raise BookError(f"{where}: key 'budget_seconds' must be a number > 0, got {budget!r}")
        if not math.isfinite(budget):
            raise BookError(f"{where}: key 'budget_seconds' must be a finite number of seconds, got {budget!r}")
        status = _get(raw, "status", str, where)
        if status not in STATUSES:
            raise BookError(f"{where}: key 'status' must be one of {STATUSES}, got {status!r}")
        notebook = _get(raw, "notebook", str, where)
        exercises = _get(raw, "exercises", str, where)
        for key, value in (("notebook", notebook), ("exercises", exercises)):
            if not value.endswith(".ipynb") or Path(value).is_absolute():
                raise BookError(f"{where}: key {key!r} must be a relative path to an .ipynb file, got {value!r}")
        objectives = _get(raw, "objectives", list, where)
        low, high = OBJECTIVES_COUNT
        if not low <= len(objectives) <= high:
            raise BookError(f"{where}: key 'objectives' must list {low} to {high} learning objectives, got {len(objectives)}")
        try:
            objectives = _objectives(objectives)
        except (TypeError, ValueError) as error:
            raise BookError(f"{where}: key 'objectives': {error}") from None
        chapters.append(
            Chapter(
                id=chapter_id,
                title=_get(raw, "title", str, where),
                notebook=root / notebook,
                exercises=root / exercises,
                budget_seconds=float(budget),
                status=status,
                objectives=objectives,
            )
        )

    for key in ("id", "title", "notebook", "exercises"):
        values = [getattr(c, key) for c in chapters]
        duplicates = sorted({str(v) for v in values if values.count(v) > 1})
        if duplicates:
            raise BookError(f"{path.name}: duplicate chapter key {key!r}: {duplicates}")
    return Book(title=title, chapters=tuple(chapters), root=root)


class ContentsEntry(NamedTuple):
    """One row of :func:`contents`: a chapter's place in the book, and a link only if it is written."""

    number: int
    id: str
    title: str
    status: str
    link: str | None


def contents(book: Book | None = None, relative_to: str | Path | None = None) -> tuple[ContentsEntry, ...]:
    """The book's chapters in order with their status, for a table of contents that cannot drift from the manifest.

    ``number`` is the chapter's position in ``book.toml`` (0 for the first), the number
    the prose uses ("chapter 3"). ``link`` is the path of a **written** chapter's notebook,
    relative to the folder ``relative_to`` (POSIX separators, ready for a Markdown link),
    and ``None`` for a planned chapter, whose notebook does not exist yet.

    Args:
        book: a :class:`Book`; default :func:`load_book` ``()``.
        relative_to: the folder the links start from (usually the folder of the
            notebook that shows the table); a relative path is taken relative to
            ``book.root``; default ``book.root`` itself.

    Raises ``TypeError`` for a ``book`` that is not a :class:`Book` or a ``relative_to``
    that is not a path, ``ValueError`` for an empty ``relative_to``.

    Example:
        >>> [(e.number, e.id, e.status, e.link) for e in contents(relative_to="notebooks")][:2]
        [(0, 'intro', 'written', '00_intro.ipynb'), (1, 'dropout', 'written', '01_dropout.ipynb')]
    """
    if book is None:
        book = load_book()
    elif not isinstance(book, Book):
        raise TypeError(f"book must be a Book (from load_book) or None, got {type(book).__name__}")
    if relative_to is None:
        start = book.root
    elif not isinstance(relative_to, (str, os.PathLike)):
        raise TypeError(f"relative_to must be None, a str or a pathlib.Path, got {type(relative_to).__name__} {relative_to!r}")
    elif not str(relative_to).strip():
        raise ValueError(f"relative_to must name a folder, got {relative_to!r}")
    else:
        start = book.root / Path(relative_to)
    return tuple(
        ContentsEntry(
            number=number,
            id=chapter.id,
            title=chapter.title,
            status=chapter.status,
            link=Path(os.path.relpath(chapter.notebook, start)).as_posix() if chapter.written else None,
        )
        for number, chapter in enumerate(book.chapters)
    )


def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed manifest; every read or parse failure becomes a BookError naming ``path``."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise BookError(f"path {str(path)!r}: no such manifest file") from None
    except IsADirectoryError:
        raise BookError(f"path {str(path)!r} is a directory, not a manifest file") from None
    except UnicodeDecodeError as error:
        raise BookError(f"path {str(path)!r}: not UTF-8 text ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise BookError(f"path {str(path)!r}: not valid TOML ({error})") from None
    except OSError as error:
        raise BookError(f"path {str(path)!r} cannot be read ({error.strerror or error})") from None


def _get(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in table:
        raise BookError(f"{where}: missing key {key!r}")
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise BookError(f"{where}: key {key!r} must be a non-empty {expected}, got {value!r}")
    return value
