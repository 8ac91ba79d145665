"""The HTML book (course_lib.site): built once per test session, from an empty folder, as `make book` builds it.

The session's build calls the same function as `make book` (``build_book``), npm ci and nbgrader included;
the pages it writes are then read as a reader's browser would get them: titles, navigation, math markup and
the local MathJax, every stored figure with alt text, the student exercise downloads, and nothing loaded
from another host. Small separate builds show that a broken internal link or a missing image fails the build.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from course_lib.book import Book, Chapter
from course_lib.release import HIDDEN_TEST_MARKERS, SOLUTION_MARKERS
from course_lib.site import MATHJAX_COMPONENT, PROJECT_ROOT, SiteError, build_book, check_offline

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def html(site: Path) -> Path:
    return site / "html"


@functools.lru_cache(maxsize=None)
def page(html_dir: Path, name: str) -> BeautifulSoup:
    """A built page, parsed once per session (the tests only read it)."""
    return BeautifulSoup((html_dir / name).read_text(encoding="utf-8"), "html.parser")


def article(soup: BeautifulSoup):
    found = soup.find("article", class_="bd-article")
    assert found is not None, "no <article class='bd-article'>: the theme's page layout changed"
    return found


def stored_images(notebook: Path) -> list[tuple[str, bool]]:
    """(cell source, whether the cell draws a widget's static figure) for each stored PNG, in notebook order."""
    cells = nbformat.read(notebook, as_version=4).cells
    return [
        (cell.source, "static_figure(" in cell.source)
        for cell in cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]


def download_href(soup: BeautifulSoup, file_name: str) -> str:
    hrefs = [a["href"] for a in soup.find_all("a", href=True) if a["href"].endswith("/" + file_name)]
    assert hrefs, f"no link to {file_name}"
    assert all(href.startswith("_downloads/") for href in hrefs), hrefs
    return hrefs[0]


# --- pages, titles, navigation ---------------------------------------------------------------------


def test_every_written_chapter_has_its_page_with_its_title(html: Path, book: Book) -> None:
    assert (html / "index.html").is_file()
    for chapter in book.written_chapters:
        soup = page(html, f"{chapter.notebook.stem}.html")
        assert soup.title is not None and soup.title.get_text().startswith(chapter.title), soup.title
        headings = [h.get_text().rstrip("#").strip() for h in article(soup).find_all("h1")]
        assert headings == [chapter.title]


def test_the_navigation_lists_the_chapters_in_book_order_and_links_each_to_the_next(html: Path, book: Book) -> None:
    pages = [f"{chapter.notebook.stem}.html" for chapter in book.written_chapters]
    sidebar = page(html, "index.html").find("nav", class_="bd-docs-nav")
    assert sidebar is not None
    linked = [a["href"] for a in sidebar.find_all("a", href=True) if a["href"] in pages]
    assert linked == pages
    numbers = {chapter.id: number for number, chapter in enumerate(book.chapters)}
    titles = [a.get_text().strip() for a in sidebar.find_all("a", href=True) if a["href"] in pages]
    assert titles == [f"{numbers[c.id]}. {c.title}" for c in book.written_chapters]
    for this, following in zip(pages, pages[1:]):
        soup = page(html, this)
        assert soup.find("link", rel="next")["href"] == following
        assert page(html, following).find("link", rel="prev")["href"] == this


def test_the_landing_page_has_the_title_audience_and_every_chapter_with_its_objectives(html: Path, book: Book) -> None:
    soup = page(html, "index.html")
    main = article(soup)
    assert main.find("h1").get_text().rstrip("#").strip() == book.title
    text = " ".join(main.get_text().split())
    assert "For students" in text and "For instructors" in text
    for number, chapter in enumerate(book.chapters):
        section = main.find(lambda tag: tag.name == "h3" and tag.get_text().rstrip("#").strip().startswith(f"{number}. {chapter.title}"))
        assert section is not None, f"no heading for chapter {number}, {chapter.title}"
        items = [" ".join(li.get_text().split()).replace("\u2019", "'") for li in section.find_next("ul").find_all("li")]  # smart quotes
        assert items == list(chapter.objectives)
        if chapter.written:
            assert main.find("a", href=f"{chapter.notebook.stem}.html") is not None
            download_href(main, chapter.exercises.name)


# --- math ------------------------------------------------------------------------------------------


def test_math_is_marked_up_and_rendered_by_the_sites_own_mathjax(html: Path, book: Book) -> None:
    version = json.loads((PROJECT_ROOT / "package-lock.json").read_text())["packages"]["node_modules/mathjax"]["version"]
    component = html / "_static" / "mathjax" / MATHJAX_COMPONENT
    assert f'VERSION="{version}"' in component.read_text(encoding="utf-8")
    assert (html / "_static/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff").is_file()
    with_math = 0
    for chapter in book.written_chapters:
        markdown = " ".join(c.source for c in nbformat.read(chapter.notebook, as_version=4).cells if c.cell_type == "markdown")
        if "$" not in markdown:
            continue
        with_math += 1
        soup = page(html, f"{chapter.notebook.stem}.html")
        assert soup.find(class_="math"), f"{chapter.id}: no math markup"
        sources = [s["src"].split("?")[0] for s in soup.find_all("script", src=True)]
        assert f"_static/mathjax/{MATHJAX_COMPONENT}" in sources, sources
    assert with_math >= len(book.written_chapters) - 1


def test_package_json_pins_an_exact_mathjax_version() -> None:
    wanted = json.loads((PROJECT_ROOT / "package.json").read_text())["dependencies"]["mathjax"]
    locked = json.loads((PROJECT_ROOT / "package-lock.json").read_text())["packages"]["node_modules/mathjax"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", wanted) and wanted == locked


# --- figures ---------------------------------------------------------------------------------------


def test_every_stored_figure_is_on_its_page_with_alt_text(html: Path, book: Book) -> None:
    numbers = {chapter.id: number for number, chapter in enumerate(book.chapters)}
    for chapter in book.written_chapters:
        stored = stored_images(chapter.notebook)
        images = article(page(html, f"{chapter.notebook.stem}.html")).find_all("img")
        assert len(images) == len(stored), f"{chapter.id}: {len(stored)} stored figures, {len(images)} on the page"
        for index, image in enumerate(images, start=1):
            path = html / image["src"]
            assert path.is_file() and path.read_bytes().startswith(PNG_MAGIC), image["src"]
            alt = image.get("alt", "")
            assert alt.startswith(f"Figure {index} of chapter {numbers[chapter.id]}, {chapter.title}"), alt
            assert Path(image["src"]).name not in alt


def test_each_widget_shows_its_static_figure(html: Path, book: Book) -> None:
    demos = 0
    for chapter in book.written_chapters:
        stored = stored_images(chapter.notebook)
        images = article(page(html, f"{chapter.notebook.stem}.html")).find_all("img")
        for (_, is_static_figure), image in zip(stored, images):
            assert ("static figure of an interactive demo" in image["alt"]) == is_static_figure, image["alt"]
            demos += is_static_figure
    assert demos >= 5, "the chapters' widgets draw static figures; the site shows none"


# --- exercises -------------------------------------------------------------------------------------


def _solution_lines(notebook: nbformat.NotebookNode) -> set[str]:
    """The code lines between the solution markers of an instructor source."""
    lines = set()
    for cell in notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            if line.strip() == SOLUTION_MARKERS[0]:
                inside = True
            elif line.strip() == SOLUTION_MARKERS[1]:
                inside = False
            elif inside and len(line.strip()) > 12:
                lines.add(line.strip())
    return lines


def test_each_chapter_links_its_student_exercises_without_solutions_or_hidden_tests(html: Path, book: Book) -> None:
    index = page(html, "index.html")
    for chapter in book.written_chapters:
        href = download_href(index, chapter.exercises.name)
        assert download_href(page(html, f"{chapter.notebook.stem}.html"), chapter.exercises.name) == href
        student_text = (html / href).read_text(encoding="utf-8")
        student = nbformat.reads(student_text, as_version=4)
        instructor = nbformat.read(chapter.exercises, as_version=4)
        for marker in (*SOLUTION_MARKERS, *HIDDEN_TEST_MARKERS):
            assert marker not in student_text, f"{chapter.id}: {marker!r} in the download"
        solutions = _solution_lines(instructor)
        assert solutions, f"{chapter.id}: no solution in the instructor source to compare with"
        student_lines = {line.strip() for cell in student.cells for line in cell.source.splitlines()}
        assert not solutions & student_lines, f"{chapter.id}: solution lines in the download: {sorted(solutions & student_lines)[:3]}"
        assert "raise NotImplementedError()" in student_text
        assert len(student.cells) == len(instructor.cells)
        assert all(not cell.get("outputs") for cell in student.cells if cell.cell_type == "code")


# --- offline ---------------------------------------------------------------------------------------

_EXTERNAL_ASSET = re.compile(
    r"<(script|link|img|iframe|source|video|audio|embed|object|input)\b[^>]*?\s(src|href|data|srcset|poster)\s*=\s*[\"']?\s*(https?:)?//",
    re.IGNORECASE,
)
_EXTERNAL_CSS = re.compile(r"(url\(\s*[\"']?|@import\s+[\"'])\s*(https?:)?//", re.IGNORECASE)


def test_no_page_or_stylesheet_loads_anything_from_another_host(html: Path) -> None:
    pages = [p for p in html.rglob("*.html") if "_static" not in p.relative_to(html).parts]
    assert len(pages) >= 3
    found = []
    for path in pages:
        text = path.read_text(encoding="utf-8")
        found += [f"{path.name}: {m.group(0)[:120]}" for m in _EXTERNAL_ASSET.finditer(text)]
        found += [f"{path.name}: {m.group(0)}" for m in _EXTERNAL_CSS.finditer(text)]
    for sheet in html.rglob("*.css"):
        found += [f"{sheet.name}: {m.group(0)}" for m in _EXTERNAL_CSS.finditer(sheet.read_text(encoding="utf-8", errors="replace"))]
    assert not found, "assets from other hosts:\n" + "\n".join(found)
    check_offline(html)  # the build's own check agrees


def test_the_offline_check_names_external_assets_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "present.png").write_bytes(PNG_MAGIC)
    (tmp_path / "index.html").write_text(
        '<html><head><script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
        '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Lato"></head>'
        '<body><a href="https://example.org/paper">a citation is a link, not an asset</a>'
        '<img src="present.png" alt="x"><img src="missing.png" alt="y"><a href="#top">top</a></body></html>'
    )
    (tmp_path / "style.css").write_text("body { background: url('https://example.org/bg.png'); }")
    with pytest.raises(SiteError) as caught:
        check_offline(tmp_path)
    message = str(caught.value)
    for named in ("cdn.jsdelivr.net", "fonts.googleapis.com", "missing.png", "style.css: loads https://example.org/bg.png"):
        assert named in message
    assert "example.org/paper" not in message and "present.png" not in message


# --- the build fails on a broken link or a missing image ------------------------------------------

DEFECTS = {
    "none": "Nothing is wrong on this page: $x^2$.",
    "broken link": "See [the missing chapter](09_no_such_chapter.ipynb).",
    "missing image": "![a figure that is not there](figures/not_there.png)",
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_a_broken_internal_link_or_a_missing_image_fails_the_build(defect: str, site: Path, book: Book, tmp_path: Path) -> None:
    real = book.chapter("dropout")
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(f"# A small chapter\n\n{DEFECTS[defect]}")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(notebook, tmp_path / "00_small.ipynb")
    chapter = Chapter("small", "A small chapter", tmp_path / "00_small.ipynb", real.exercises, 1, "written", ("Learn a", "Learn b"))
    small = Book(title="A small book", chapters=(chapter,), root=tmp_path)
    # the session build already released these exercises: reuse its cached student version (no nbgrader run)
    cached = site / "exercises" / "dropout"
    shutil.copytree(cached, tmp_path / "build" / "exercises" / "small")
    if defect == "none":
        html_dir = build_book(tmp_path / "build", small)
        assert (html_dir / "00_small.html").is_file() and (html_dir / "index.html").is_file()
        return
    with pytest.raises(SiteError, match="sphinx-build failed") as caught:
        build_book(tmp_path / "build", small)
    assert {"broken link": "09_no_such_chapter", "missing image": "not_there.png"}[defect] in str(caught.value)


def test_the_generated_configuration_follows_the_manifest(site: Path, book: Book) -> None:
    conf = (site / "source" / "conf.py").read_text()
    assert "do not edit" in conf and f"project = {book.title!r}" in conf
    assert "mathjax_path = 'mathjax/tex-mml-chtml.js'" in conf and "nb_execution_mode = 'off'" in conf
    index = (site / "source" / "index.md").read_text()
    toctree = index[index.index("```{toctree}"):]
    stems = re.findall(r"<([^>]+)>", toctree)
    assert stems == [chapter.notebook.stem for chapter in book.written_chapters]
