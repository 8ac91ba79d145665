"""book.toml is the manifest: it and the notebooks on disk must agree."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_lib.book import Book, BookError, Chapter, load_book

PLANNED_IDS = ["intro", "dropout", "mc_dropout", "weight_decay", "adamw", "label_smoothing", "variants", "practice"]


def first_heading(path: Path) -> str | None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return None


def test_all_planned_chapters_in_order(book: Book) -> None:
    assert [c.id for c in book.chapters] == PLANNED_IDS
    assert book.title.strip()
    assert book.chapter("dropout").written


def test_written_chapters_have_their_notebooks(book: Book) -> None:
    assert book.written_chapters, "no chapter is written yet"
    for chapter in book.written_chapters:
        assert chapter.notebook.is_file(), f"{chapter.id}: missing {chapter.notebook}"
        assert chapter.exercises.is_file(), f"{chapter.id}: missing {chapter.exercises}"


def test_every_notebook_on_disk_is_listed(book: Book) -> None:
    listed = {c.notebook for c in book.written_chapters} | {c.exercises for c in book.written_chapters}
    on_disk = {p for p in (book.root / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts}
    assert on_disk - listed == set(), "notebooks not listed (or listed as planned) in book.toml"


def test_first_heading_is_the_chapter_title(book: Book) -> None:
    for chapter in book.written_chapters:
        assert first_heading(chapter.notebook) == chapter.title
        assert first_heading(chapter.exercises) == f"Exercises: {chapter.title}"


def test_unknown_chapter_id_names_the_known_ones(book: Book) -> None:
    with pytest.raises(ValueError, match="chapter_id 'no_such_chapter' is not a chapter of the book .*dropout"):
        book.chapter("no_such_chapter")
    with pytest.raises(TypeError, match="chapter_id must be a str"):
        book.chapter(1)


def test_book_checks_its_fields(book: Book) -> None:
    with pytest.raises(TypeError, match="title must be a non-empty str"):
        Book(title=None, chapters=book.chapters, root=book.root)
    with pytest.raises(ValueError, match="chapters must be a non-empty tuple of Chapter"):
        Book(title="t", chapters=("dropout",), root=book.root)
    with pytest.raises(TypeError, match="root must be a pathlib.Path or str"):
        Book(title="t", chapters=book.chapters, root=None)
    assert Book(title="t", chapters=list(book.chapters), root=str(book.root)).chapters == book.chapters


def test_load_book_path_must_be_a_path() -> None:
    with pytest.raises(TypeError, match="path must be a str or pathlib.Path"):
        load_book(3)


GOOD_CHAPTER = """
[[chapters]]
id = "dropout"
title = "Dropout"
notebook = "notebooks/01_dropout.ipynb"
exercises = "notebooks/exercises/01_dropout.ipynb"
budget_seconds = 30
status = "written"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "book.toml"
    path.write_text(text)
    return path


def test_a_minimal_manifest_loads(tmp_path: Path) -> None:
    book = load_book(write(tmp_path, 'title = "T"\n' + GOOD_CHAPTER))
    (chapter,) = book.chapters
    assert chapter.notebook == tmp_path / "notebooks/01_dropout.ipynb"
    assert chapter.budget_seconds == 30.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD_CHAPTER, "missing key 'title'"),
        ('title = "T"\n', "key 'chapters' must be a non-empty array"),
        ('title = "T"\n' + GOOD_CHAPTER.replace('id = "dropout"\n', ""), r"chapters\[0\]: missing key 'id'"),
        ('title = "T"\n' + GOOD_CHAPTER.replace("budget_seconds = 30", "budget_seconds = -5"), "'budget_seconds' must be a number > 0, got -5"),
        ('title = "T"\n' + GOOD_CHAPTER.replace("budget_seconds = 30", 'budget_seconds = "30"'), "'budget_seconds' must be a non-empty int or float"),
        ('title = "T"\n' + GOOD_CHAPTER.replace('"written"', '"draft"'), "'status' must be one of"),
        ('title = "T"\n' + GOOD_CHAPTER.replace("01_dropout.ipynb\"\ne", "01_dropout.py\"\ne"), "'notebook' must be a relative path to an .ipynb"),
        ('title = "T"\n' + GOOD_CHAPTER + GOOD_CHAPTER, "duplicate chapter key 'id'"),
        ('title = "T"\n' + GOOD_CHAPTER.replace("status", "budget = 3\nstatus"), r"unknown key\(s\) \['budget'\]"),
        ('title = "T"\nauthor = "x"\n' + GOOD_CHAPTER, r"unknown top-level key\(s\) \['author'\]"),
        ('title = "T\n', "not valid TOML"),
    ],
)
def test_malformed_manifest_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BookError, match=message):
        load_book(write(tmp_path, text))


def test_missing_manifest_file(tmp_path: Path) -> None:
    with pytest.raises(BookError, match="no such manifest file"):
        load_book(tmp_path / "absent.toml")


@pytest.mark.parametrize("literal", ["nan", "inf", "+inf", "-nan"])
def test_non_finite_budget_names_the_chapter_and_key(tmp_path: Path, literal: str) -> None:
    text = 'title = "T"\n' + GOOD_CHAPTER.replace("budget_seconds = 30", f"budget_seconds = {literal}")
    with pytest.raises(BookError, match=r"chapter 'dropout': key 'budget_seconds' must be"):
        load_book(write(tmp_path, text))


def test_a_directory_is_a_book_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(BookError, match=f"path {str(tmp_path)!r} is a directory"):
        load_book(tmp_path)


def test_an_empty_path_is_a_book_error() -> None:
    with pytest.raises(BookError, match="path must name a manifest file, got ''"):
        load_book("")


def test_a_non_utf8_file_is_a_book_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "book.toml"
    path.write_bytes(b'title = "\xff\xfe"\n')
    with pytest.raises(BookError, match="book.toml.: not UTF-8 text"):
        load_book(path)


# --- the presentation packages follow the manifest ---------------------------------------------

import pkgutil  # noqa: E402

import course_lib.checks  # noqa: E402
import course_lib.plots  # noqa: E402
import course_lib.widgets  # noqa: E402

SHARED_MODULES = {"checks": {"report"}, "plots": {"training"}, "widgets": set()}


def _chapter_modules(package) -> set[str]:
    return {info.name for info in pkgutil.iter_modules(package.__path__)}


@pytest.mark.parametrize("package", [course_lib.checks, course_lib.plots, course_lib.widgets], ids=lambda p: p.__name__)
def test_every_chapter_module_is_named_after_a_chapter_of_the_book(package, book: Book) -> None:
    ids = {chapter.id for chapter in book.chapters}
    shared = SHARED_MODULES[package.__name__.rsplit(".", 1)[1]]
    strays = _chapter_modules(package) - ids - shared
    assert not strays, f"{package.__name__} has modules named after no chapter in book.toml: {sorted(strays)}"


def test_every_written_chapter_with_exercises_has_its_checks_and_plots_modules(book: Book) -> None:
    for chapter in book.written_chapters:
        assert chapter.id in _chapter_modules(course_lib.checks), f"course_lib/checks/{chapter.id}.py is missing"
        assert chapter.id in _chapter_modules(course_lib.plots), f"course_lib/plots/{chapter.id}.py is missing"


# --- the Chapter record ---------------------------------------------------------------------------


def _chapter_fields(chapter: Chapter) -> dict:
    return {name: getattr(chapter, name) for name in ("id", "title", "notebook", "exercises", "budget_seconds", "status")}


def test_a_chapter_built_from_valid_fields_is_the_one_load_book_returns(book: Book) -> None:
    chapter = book.chapter("dropout")
    fields = _chapter_fields(chapter)
    again = Chapter(**fields)
    assert again == chapter and all(getattr(again, name) is value for name, value in fields.items())
    text = repr(again)
    assert text.startswith("Chapter(id='dropout', title=") and "status='written')" in text
    from_strings = Chapter("x", "X", "nb/x.ipynb", "nb/ex/x.ipynb", 3, "planned")
    assert from_strings.notebook == Path("nb/x.ipynb") and from_strings.budget_seconds == 3.0
    assert repr(from_strings) == (
        f"Chapter(id='x', title='X', notebook={Path('nb/x.ipynb')!r}, exercises={Path('nb/ex/x.ipynb')!r}, "
        "budget_seconds=3.0, status='planned')"
    )


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"id": None}, TypeError, "id must be a str, got NoneType None"),
        ({"title": 3}, TypeError, "title must be a str, got int 3"),
        ({"status": None}, TypeError, "status must be a str, got NoneType None"),
        ({"status": "done"}, ValueError, r"status must be one of \('planned', 'written'\), got 'done'"),
        ({"notebook": None}, TypeError, "notebook must be a pathlib.Path or str, got NoneType None"),
        ({"exercises": Path("ex/notes.md")}, ValueError, "exercises must be the path of an .ipynb file, got 'ex/notes.md'"),
        ({"budget_seconds": None}, TypeError, "budget_seconds must be a real number, got NoneType None"),
        ({"budget_seconds": 0}, ValueError, "budget_seconds must be a finite number > 0, got 0.0"),
        ({"budget_seconds": float("inf")}, ValueError, "budget_seconds must be a finite number > 0, got inf"),
    ],
)
def test_a_chapter_rejects_a_bad_field_by_name(book: Book, fields: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Chapter(**{**_chapter_fields(book.chapters[0]), **fields})
