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


def test_every_chapter_states_two_to_four_learning_objectives(book: Book) -> None:
    """The HTML book's landing page lists them; each is one short line of its own."""
    for chapter in book.chapters:
        assert 2 <= len(chapter.objectives) <= 4, chapter.id
        assert len(set(chapter.objectives)) == len(chapter.objectives), f"{chapter.id}: an objective is repeated"
        assert all(o == o.strip() and not o.endswith(".") for o in chapter.objectives), chapter.id


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
exercises = "notebooks/exercises/01_dropout_exercises.ipynb"
budget_seconds = 30
status = "written"
objectives = ["Implement inverted dropout", "Use nn.Dropout's two modes"]
"""


OBJECTIVES_LINE = """objectives = ["Implement inverted dropout", "Use nn.Dropout's two modes"]"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "book.toml"
    path.write_text(text)
    return path


def test_a_minimal_manifest_loads(tmp_path: Path) -> None:
    book = load_book(write(tmp_path, 'title = "T"\n' + GOOD_CHAPTER))
    (chapter,) = book.chapters
    assert chapter.notebook == tmp_path / "notebooks/01_dropout.ipynb"
    assert chapter.budget_seconds == 30.0
    assert chapter.objectives == ("Implement inverted dropout", "Use nn.Dropout's two modes")


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
        ('title = "T"\n' + GOOD_CHAPTER.replace(OBJECTIVES_LINE + "\n", ""), "chapter 'dropout': missing key 'objectives'"),
        ('title = "T"\n' + GOOD_CHAPTER.replace(OBJECTIVES_LINE, 'objectives = "Dropout"'), "key 'objectives' must be a non-empty list"),
        ('title = "T"\n' + GOOD_CHAPTER.replace(OBJECTIVES_LINE, 'objectives = ["Dropout"]'), "key 'objectives' must list 2 to 4 learning objectives, got 1"),
        ('title = "T"\n' + GOOD_CHAPTER.replace(OBJECTIVES_LINE, f"objectives = {['o'] * 5}"), "key 'objectives' must list 2 to 4 learning objectives, got 5"),
        ('title = "T"\n' + GOOD_CHAPTER.replace(OBJECTIVES_LINE, 'objectives = ["Dropout", 3]'), r"chapter 'dropout': key 'objectives': objectives\[1\] must be a str, got int 3"),
        ('title = "T"\n' + GOOD_CHAPTER.replace(OBJECTIVES_LINE, 'objectives = ["Dropout", " "]'), r"key 'objectives': objectives\[1\] must be a non-empty str"),
        ('title = "T"\n' + GOOD_CHAPTER.replace(OBJECTIVES_LINE, f'objectives = ["Dropout", "{"x" * 121}"]'), r"objectives\[1\] must be at most 120 characters"),
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
    return {name: getattr(chapter, name) for name in ("id", "title", "notebook", "exercises", "budget_seconds", "status", "objectives")}


def test_a_chapter_built_from_valid_fields_is_the_one_load_book_returns(book: Book) -> None:
    chapter = book.chapter("dropout")
    fields = _chapter_fields(chapter)
    again = Chapter(**fields)
    assert again == chapter and all(getattr(again, name) is value for name, value in fields.items())
    text = repr(again)
    assert text.startswith("Chapter(id='dropout', title=") and f"status='written', objectives={chapter.objectives!r})" in text
    from_strings = Chapter("x", "X", "nb/x.ipynb", "nb/ex/x.ipynb", 3, "planned")
    assert from_strings.notebook == Path("nb/x.ipynb") and from_strings.budget_seconds == 3.0
    assert from_strings.objectives == ()  # a record built in code may state none; the manifest may not
    assert repr(from_strings) == (
        f"Chapter(id='x', title='X', notebook={Path('nb/x.ipynb')!r}, exercises={Path('nb/ex/x.ipynb')!r}, "
        "budget_seconds=3.0, status='planned', objectives=())"
    )
    from_list = Chapter(**{**fields, "objectives": ["Learn a", "Learn b"]})
    assert from_list.objectives == ("Learn a", "Learn b")


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
        ({"objectives": None}, TypeError, "objectives must be a tuple or list of str, got NoneType None"),
        ({"objectives": "Learn dropout"}, TypeError, "objectives must be a tuple or list of str, got str 'Learn dropout'"),
        ({"objectives": ("Learn a", b"Learn b")}, TypeError, r"objectives\[1\] must be a str, got bytes b'Learn b'"),
        ({"objectives": ("Learn a", "")}, ValueError, r"objectives\[1\] must be a non-empty str, got ''"),
        ({"objectives": ("x" * 121, "Learn b")}, ValueError, r"objectives\[0\] must be at most 120 characters .*got 121"),
        ({"objectives": ("Learn a",)}, ValueError, r"objectives must hold 2 to 4 learning objectives \(or none\), got 1"),
        ({"objectives": ("a", "b", "c", "d", "e")}, ValueError, "objectives must hold 2 to 4 learning objectives .*got 5"),
    ],
)
def test_a_chapter_rejects_a_bad_field_by_name(book: Book, fields: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Chapter(**{**_chapter_fields(book.chapters[0]), **fields})


# --- references between chapters follow book.toml's status ----------------------------------

import re  # noqa: E402

_LINK = re.compile(r"\]\(([^)\s]+\.ipynb)(#[^)]*)?\)")
_CHAPTER_NUMBER = re.compile(r"\b[Cc]hapter (\d+)\b")
_REFERENCES_HEADING = re.compile(r"^#+ .*(References|Further reading)", re.MULTILINE)


def _prose(path: Path) -> list[tuple[int, str]]:
    """(cell index, markdown text) of a notebook, without its reference list (which cites other books' chapters)."""
    cells = nbformat.read(path, as_version=4).cells
    out = []
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            heading = _REFERENCES_HEADING.search(cell.source)
            out.append((index, cell.source[: heading.start()] if heading else cell.source))
    return out


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", " ".join(text.split()))


def _numbered(book: Book) -> dict[int, Chapter]:
    return {int(chapter.notebook.name[:2]): chapter for chapter in book.chapters}


def test_links_to_notebooks_point_at_written_chapters(book: Book) -> None:
    written = {c.notebook for c in book.written_chapters} | {c.exercises for c in book.written_chapters}
    bad = []
    for chapter in book.written_chapters:
        for path in (chapter.notebook, chapter.exercises):
            for index, text in _prose(path):
                for match in _LINK.finditer(text):
                    target = (path.parent / match.group(1)).resolve()
                    if target not in written:
                        bad.append(f"{path.name} cell {index}: link to {match.group(1)}")
    assert not bad, "links to notebooks that are not written chapters:\n" + "\n".join(bad)


def test_planned_chapters_are_mentioned_as_planned(book: Book) -> None:
    """'chapter N' or 'the next chapter' naming a planned chapter must say so in the same sentence."""
    numbered, order = _numbered(book), list(book.chapters)
    bad = []
    for chapter in book.written_chapters:
        following = order[order.index(chapter) + 1] if chapter is not order[-1] else None
        for path in (chapter.notebook, chapter.exercises):
            for index, text in _prose(path):
                for sentence in _sentences(text):
                    planned = "planned" in sentence.lower()
                    for match in _CHAPTER_NUMBER.finditer(sentence):
                        target = numbered.get(int(match.group(1)))
                        if target is None or (not target.written and not planned):
                            bad.append(f"{path.name} cell {index}: {match.group(0)!r} in {sentence[:90]!r}")
                    if re.search(r"\bnext chapter\b", sentence, re.IGNORECASE) and following and not following.written and not planned:
                        bad.append(f"{path.name} cell {index}: 'next chapter' ({following.title}, planned) in {sentence[:90]!r}")
    assert not bad, "references to chapters that are not written yet:\n" + "\n".join(bad)


# --- the table of contents -------------------------------------------------------------------------

from course_lib.book import contents  # noqa: E402


def test_contents_lists_every_chapter_in_order_with_its_status(book: Book) -> None:
    entries = contents(book, relative_to="notebooks")
    assert [(e.id, e.title, e.status) for e in entries] == [(c.id, c.title, c.status) for c in book.chapters]
    assert [e.number for e in entries] == list(range(len(book.chapters)))
    # the number is the one the prose cites and the notebook's file name starts with
    assert all(int(c.notebook.name[:2]) == e.number for c, e in zip(book.chapters, entries))
    assert contents() == contents(load_book())


def test_contents_links_only_written_chapters_relative_to_the_given_folder(book: Book) -> None:
    entries = contents(book, relative_to="notebooks")
    for chapter, entry in zip(book.chapters, entries):
        if chapter.written:
            assert entry.link == chapter.notebook.name
            assert (book.root / "notebooks" / entry.link).resolve() == chapter.notebook.resolve()
        else:
            assert entry.link is None
    assert {e.link for e in entries} - {None}, "no written chapter to link to"
    from_exercises = {e.id: e.link for e in contents(book, relative_to=book.root / "notebooks" / "exercises")}
    assert from_exercises["dropout"] == "../" + book.chapter("dropout").notebook.name
    from_root = {e.id: e.link for e in contents(book)}
    assert from_root["dropout"] == book.chapter("dropout").notebook.relative_to(book.root).as_posix()


def test_contents_of_a_manifest_with_a_planned_chapter(tmp_path: Path) -> None:
    planned = GOOD_CHAPTER.replace('"written"', '"planned"').replace('"dropout"', '"later"').replace('"Dropout"', '"Later"').replace("01_dropout", "02_later")
    (first, second) = contents(load_book(write(tmp_path, 'title = "T"\n' + GOOD_CHAPTER + planned)), "notebooks")
    assert (first.number, first.status, first.link) == (0, "written", "01_dropout.ipynb")
    assert (second.number, second.id, second.status, second.link) == (1, "later", "planned", None)


def test_contents_rejects_bad_arguments_by_name(book: Book) -> None:
    with pytest.raises(TypeError, match="book must be a Book"):
        contents("book.toml")
    with pytest.raises(TypeError, match="relative_to must be None, a str or a pathlib.Path"):
        contents(book, relative_to=3)
    with pytest.raises(ValueError, match="relative_to must name a folder"):
        contents(book, relative_to=" ")
