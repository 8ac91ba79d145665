"""Valid calls of course_lib.book, and the property each result must have."""

from __future__ import annotations

from pathlib import Path

from course_lib import book

from .runner import Case


def _chapter_fields() -> dict:
    return dict(
        id="dropout",
        title="Dropout",
        notebook=Path("notebooks/01_dropout.ipynb"),
        exercises=Path("notebooks/exercises/01_dropout_exercises.ipynb"),
        budget_seconds=30.0,
        status="written",
        objectives=("Implement inverted dropout", "Use nn.Dropout's two modes"),
    )


def _verify_chapter(chapter, kwargs) -> None:
    assert isinstance(chapter, book.Chapter)
    for name in ("id", "title", "status"):
        assert getattr(chapter, name) == kwargs[name]
    for name in ("notebook", "exercises"):
        assert getattr(chapter, name) == Path(kwargs[name]) and getattr(chapter, name).suffix == ".ipynb"
    assert chapter.budget_seconds == float(kwargs["budget_seconds"]) > 0
    assert chapter.status in book.STATUSES
    assert isinstance(chapter.objectives, tuple) and chapter.objectives == tuple(kwargs["objectives"])
    assert all(isinstance(o, str) and o.strip() for o in chapter.objectives)
    assert len(chapter.objectives) == 0 or book.OBJECTIVES_COUNT[0] <= len(chapter.objectives) <= book.OBJECTIVES_COUNT[1]


def _verify_book(result, kwargs) -> None:
    assert isinstance(result, book.Book) and result.title == kwargs["title"]
    assert result.chapters == tuple(kwargs["chapters"]) and result.root == Path(kwargs["root"])


def _verify_load_book(result, kwargs) -> None:
    path = Path(kwargs["path"]) if kwargs["path"] is not None else book.DEFAULT_BOOK_PATH
    assert isinstance(result, book.Book) and result.root == path.resolve().parent
    assert result.chapters and all(c.notebook.is_absolute() for c in result.chapters)


def _verify_chapter_lookup(chapter, kwargs) -> None:
    assert isinstance(chapter, book.Chapter) and chapter.id == kwargs["chapter_id"]


def _verify_contents(entries, kwargs) -> None:
    manifest = kwargs["book"] if kwargs["book"] is not None else book.load_book()
    assert isinstance(entries, tuple) and len(entries) == len(manifest.chapters)
    start = manifest.root / Path(kwargs["relative_to"]) if kwargs["relative_to"] is not None else manifest.root
    for number, (entry, chapter) in enumerate(zip(entries, manifest.chapters)):
        assert (entry.number, entry.id, entry.title, entry.status) == (number, chapter.id, chapter.title, chapter.status)
        if chapter.written:
            assert (start / entry.link).resolve() == chapter.notebook.resolve()
        else:
            assert entry.link is None


CASES = [
    Case("book.Chapter", book.Chapter, _chapter_fields, _verify_chapter),
    Case(
        "book.Book",
        book.Book,
        lambda: dict(title="Regularization", chapters=(book.Chapter(**_chapter_fields()),), root=Path("/book")),
        _verify_book,
    ),
    Case(
        "book.Book.chapter",
        lambda manifest, chapter_id: manifest.chapter(chapter_id),
        lambda: dict(manifest=book.load_book(), chapter_id="dropout"),
        _verify_chapter_lookup,
        fixed={"manifest": "the Book whose method is called"},
    ),
    Case("book.contents", book.contents, lambda: dict(book=book.load_book(), relative_to="notebooks"), _verify_contents),
    Case("book.load_book", book.load_book, lambda: dict(path=book.DEFAULT_BOOK_PATH), _verify_load_book),
]
