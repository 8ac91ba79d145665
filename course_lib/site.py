"""The book as a static HTML website, built offline from the notebooks' stored outputs.

``make book`` runs ``python -m course_lib.site``, which calls :func:`build_book`. The function
other tools call (the browser tests load its output) is, and stays::

    build_book(out_dir: str | Path | None = None, book: Book | None = None) -> Path

It returns the HTML root, a folder holding ``index.html`` (the landing page) and one page per
written chapter, ``<notebook stem>.html`` (e.g. ``01_dropout.html``), in ``book.toml`` order.
The default ``out_dir`` is ``build/book`` at the project root, so ``make book`` leaves the site in
``build/book/html``. Steps:

1. **Student exercises.** :func:`course_lib.release.release_exercises` (stock nbgrader) writes the
   student version of every written chapter's exercises: solutions replaced by stubs, hidden tests
   removed. Versions are cached in ``out_dir/exercises`` under a SHA-256 of their instructor source
   (and of nbgrader's version and the release code), so a rebuild runs nbgrader only for changed
   exercises. The site ships them as downloads.
2. **Sphinx source** in ``out_dir/source``, generated from ``book.toml`` at every build (nothing
   maintained by hand): ``conf.py``, the landing page ``index.md`` (title, audience, every chapter
   with its learning objectives and links, and the hidden toctree in book order), a copy of each
   written chapter notebook with its stored outputs (plus a closing note linking its exercises), the
   student exercises under ``exercises/`` (excluded from the pages, linked as downloads) and MathJax
   under ``_static/mathjax``.
3. **sphinx-build** (myst-nb, sphinx-book-theme) into ``out_dir/html`` with ``-W --keep-going -n``:
   any warning (a broken internal link, a missing image, an unknown reference) fails the build.
   myst-nb renders the stored outputs and executes nothing (``nb_execution_mode = "off"``).
4. **Offline check** (:func:`check_offline`): no page or stylesheet loads anything from another host,
   and every local script, stylesheet and image a page names exists.

Offline, at build time and when read: MathJax 3 comes from the npm registry (``package.json`` and
``package-lock.json`` at the project root; :func:`ensure_mathjax` runs ``npm ci`` when
``node_modules`` is missing or older than the lock) and is copied into the site; ``mathjax_path``
points at the copy. MathJax 3 is used rather than 4 because version 4 loads its fonts and speech
rules from a CDN unless told otherwise, while 3's combined component finds its fonts next to
itself. myst-nb's ipywidgets embed scripts (require.js and the widget manager from a CDN) are
switched off: the stored notebooks hold no widget state, and each demo's static figure is an
ordinary image output.

Figure alt text: myst-nb gives an image output no alt text of its own (docutils then writes the
file name), and matplotlib's titles are not stored with the PNG. This module's Sphinx extension
(:func:`setup`) gives each image without alt text a generated one: "Figure N of chapter C, <title>,
section <heading>", saying when the figure is an interactive demo's static figure.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

from course_lib.book import Book, Chapter, contents, load_book

__all__ = [
    "PROJECT_ROOT",
    "DEFAULT_OUT_DIR",
    "SiteError",
    "ensure_mathjax",
    "student_exercises",
    "landing_page",
    "sphinx_configuration",
    "write_source",
    "run_sphinx",
    "page_assets",
    "check_offline",
    "build_book",
    "main",
]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT_DIR = PROJECT_ROOT / "build" / "book"
MATHJAX_COMPONENT = "tex-mml-chtml.js"  # TeX and MathML input, HTML-CSS output; fonts beside it
SPHINX_FLAGS = ("-W", "--keep-going", "-n")  # every warning fails the build; nitpicky references

AUDIENCE = """\
Every claim in the text is backed by a cell that computes or asserts it, every formula is
checked by code, and the pages show the outputs stored in the chapter notebooks, which the
course's test suite re-executes and compares. Everything runs on a 2-core laptop, on the CPU.

**For students** who know basic PyTorch and want to understand *why* each regularizer works and
how to implement it correctly: read a chapter here, then download its exercise notebook and open
it in JupyterLab with the kernel *Python 3 (regularization course)* (`make lab` in the course
repository sets it up). The test cells check your code and say what is wrong.

**For instructors** who want assignable, autograded exercises: the exercise notebooks linked below
are the student versions that stock nbgrader releases (no solutions, no hidden tests); the
instructor sources and `make release` are in the course repository, and this site is built from it
by `make book`, offline.

The interactive demos need a running kernel; on these pages each one shows its static figure at
its default values.
"""


class SiteError(RuntimeError):
    """The HTML book could not be built; the message says which step failed and why."""


# --- MathJax from the npm registry -----------------------------------------------------------------


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing): one ``npm ci`` at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _locked_mathjax_version(root: Path) -> str:
    lock = root / "package-lock.json"
    try:
        packages = json.loads(lock.read_text(encoding="utf-8"))["packages"]
        return packages["node_modules/mathjax"]["version"]
    except (OSError, ValueError, KeyError) as error:
        raise SiteError(f"{lock}: cannot read the locked mathjax version ({error!r})") from None


def _npm_install_is_current(root: Path, version: str) -> bool:
    """``node_modules`` matches the lock: installed after the lock last changed, with its mathjax version."""
    stamp = root / "node_modules" / ".package-lock.json"
    installed = root / "node_modules" / "mathjax" / "package.json"
    if not stamp.is_file() or not installed.is_file():
        return False
    newest_manifest = max((root / name).stat().st_mtime for name in ("package.json", "package-lock.json"))
    if stamp.stat().st_mtime < newest_manifest:
        return False
    try:
        return json.loads(installed.read_text(encoding="utf-8")).get("version") == version
    except ValueError:
        return False


def ensure_mathjax(root: str | Path | None = None) -> Path:
    """The folder of MathJax's browser components (``node_modules/mathjax/es5``), installed if needed.

    Runs ``npm ci`` in ``root`` (default: the project root, which holds ``package.json`` and
    ``package-lock.json``) when ``node_modules`` is missing, older than the lock or holds another
    mathjax version than the lock (what `make book` relies on). Concurrent callers wait for
    one another (a lock file in ``root/build``).

    Raises:
        SiteError: if npm is not installed, ``npm ci`` fails, or the component is missing afterwards.
    """
    root = PROJECT_ROOT if root is None else Path(root)
    version = _locked_mathjax_version(root)
    with _locked(root / "build" / "npm-ci.lock"):
        if not _npm_install_is_current(root, version):
            npm = shutil.which("npm")
            if npm is None:
                raise SiteError("npm not found: the HTML book needs Node.js's npm to install MathJax (Debian: apt-get install npm)")
            completed = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
            )
            if completed.returncode != 0:
                raise SiteError(f"`npm ci` failed (exit status {completed.returncode}):\n{completed.stdout[-3000:]}")
            (root / "node_modules" / ".package-lock.json").touch()
    components = root / "node_modules" / "mathjax" / "es5"
    if not (components / MATHJAX_COMPONENT).is_file():
        raise SiteError(f"MathJax {version}: {components / MATHJAX_COMPONENT} is missing after `npm ci`")
    return components


# --- student exercises -----------------------------------------------------------------------------


def _release_key(chapter: Chapter) -> str:
    """What a student version depends on: the instructor source, the nbgrader version and the release code."""
    from importlib.metadata import version

    digest = hashlib.sha256(chapter.exercises.read_bytes())
    digest.update(version("nbgrader").encode())
    digest.update((Path(__file__).parent / "release.py").read_bytes())
    return digest.hexdigest()


def student_exercises(book: Book, cache_dir: str | Path) -> dict[str, Path]:
    """The student version of every written chapter's exercises, made by nbgrader and cached.

    A chapter's version is ``cache_dir/<id>/<exercises file>``, reused while the SHA-256 stored
    beside it (of the instructor source, the nbgrader version and ``course_lib/release.py``) still
    matches; the others are made by one call of :func:`course_lib.release.release_exercises`, which
    rejects a version that still holds a solution or a hidden test.

    Returns:
        ``{chapter id: path}`` in book order.

    Raises:
        SiteError: naming the chapter, if nbgrader fails or a solution or hidden-test marker survives.
    """
    from course_lib.release import ReleaseError, release_exercises

    if not isinstance(book, Book):
        raise TypeError(f"book must be a course_lib.book.Book, got {type(book).__name__}")
    cache_dir = Path(cache_dir)
    paths, keys, stale = {}, {}, []
    for chapter in book.written_chapters:
        if not chapter.exercises.is_file():
            raise SiteError(f"chapter {chapter.id!r}: exercises notebook {chapter.exercises} not found")
        paths[chapter.id] = cache_dir / chapter.id / chapter.exercises.name
        keys[chapter.id] = _release_key(chapter)
        stamp = paths[chapter.id].with_name(paths[chapter.id].name + ".sha256")
        if not (paths[chapter.id].is_file() and stamp.is_file() and stamp.read_text().strip() == keys[chapter.id]):
            stale.append(chapter)

    if stale:
        try:
            release_exercises(cache_dir, Book(title=book.title, chapters=tuple(stale), root=book.root))
        except ReleaseError as error:
            raise SiteError(str(error)) from None
        for chapter in stale:
            paths[chapter.id].with_name(paths[chapter.id].name + ".sha256").write_text(keys[chapter.id] + "\n")
    return paths


# --- the Sphinx source tree ------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>$#|])")


def _escape(text: str) -> str:
    """``text`` as literal Markdown (MyST): no emphasis, roles, math or links."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _toc_title(number: int, chapter: Chapter) -> str:
    return f"{number}. {chapter.title}"


def landing_page(book: Book) -> str:
    """``index.md``: the book's title, its audience, every chapter with its objectives, and the toctree."""
    lines = [f"# {_escape(book.title)}", "", AUDIENCE, "## Chapters", ""]
    for entry, chapter in zip(contents(book), book.chapters):
        status = "" if chapter.written else " (planned)"
        lines += [f"### {_escape(_toc_title(entry.number, chapter))}{status}", ""]
        if chapter.objectives:
            lines += ["In this chapter you will:", ""]
            lines += [f"- {_escape(objective)}" for objective in chapter.objectives]
            lines.append("")
        if chapter.written:
            exercises = f"exercises/{chapter.exercises.name}"
            lines += [
                f"[Read the chapter]({chapter.notebook.name}) · "
                f"[Download the exercises (student notebook)](path:{exercises})",
                "",
            ]
        else:
            lines += ["This chapter is planned and not written yet.", ""]
    lines += ["```{toctree}", ":hidden:", ":maxdepth: 2", ""]
    lines += [f"{_toc_title(entry.number, chapter)} <{chapter.notebook.stem}>" for entry, chapter in zip(contents(book), book.chapters) if chapter.written]
    lines += ["```", ""]
    return "\n".join(lines)


# A Markdown link to an exercise notebook: MyST would take the .ipynb for a page of the book; ``path:`` makes it
# a download of the student version (Sphinx still fails the build if the file is not there).
_EXERCISES_LINK = re.compile(r"\]\((exercises/[^)\s]+\.ipynb)\)")


def _chapter_page(chapter: Chapter) -> str:
    """The chapter notebook with its stored outputs (links to its exercises made downloads), and a closing note."""
    import nbformat

    notebook = nbformat.read(chapter.notebook, as_version=4)
    note = (
        "```{admonition} Exercises\n"
        f"[Download this chapter's exercises](path:exercises/{chapter.exercises.name}) (the student "
        "version: solutions and hidden tests removed) and open the notebook in JupyterLab with the kernel "
        "*Python 3 (regularization course)*; its test cells check your answers. "
        "[Back to the list of chapters](index.md)\n"
        "```"
    )
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = _EXERCISES_LINK.sub(r"](path:\1)", cell.source)
    notebook.cells.append(nbformat.v4.new_markdown_cell(note, id="site-exercises-note"))  # a fixed id: byte-stable copy
    return nbformat.writes(notebook, version=4)


def sphinx_configuration(book: Book) -> str:
    """``conf.py`` for the book: derived from the manifest, regenerated at every build."""
    settings: dict[str, Any] = {
        "project": book.title,
        "html_title": book.title,
        "language": "en",
        "root_doc": "index",
        "extensions": ["myst_nb", "course_lib.site"],
        # the student exercises are downloads, not pages
        "exclude_patterns": ["exercises/**", "**.ipynb_checkpoints"],
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "myst_heading_anchors": 3,
        # the stored outputs are the book: nbval guarantees them; nothing is executed here
        "nb_execution_mode": "off",
        # no widget state is stored; without it these scripts would only be CDN requests
        "nb_ipywidgets_js": {},
        "nb_merge_streams": True,
        "html_theme": "sphinx_book_theme",
        "html_theme_options": {
            "home_page_in_toc": True,
            "show_navbar_depth": 1,
            "use_download_button": False,
            "use_fullscreen_button": True,
            "use_repository_button": False,
            "use_source_button": False,
        },
        # pydata-sphinx-theme logs a console error ("invalid theme mode") when no default mode is set
        "html_context": {"default_mode": "light"},
        "html_static_path": ["_static"],
        "html_copy_source": False,
        "html_show_sourcelink": False,
        "html_last_updated_fmt": None,
        "html_permalinks": True,
        # MathJax from the site itself (copied from node_modules by course_lib.site), never a CDN
        "mathjax_path": f"mathjax/{MATHJAX_COMPONENT}",
        "mathjax3_config": {"tex": {"tags": "ams"}},
        # read by this module's extension (figure alt text)
        "course_chapters": {
            chapter.notebook.stem: [entry.number, chapter.title]
            for entry, chapter in zip(contents(book), book.chapters)
            if chapter.written
        },
    }
    lines = ['"""Sphinx configuration of the HTML book, generated from book.toml by course_lib.site: do not edit."""', ""]
    lines += [f"{name} = {value!r}" for name, value in settings.items()]
    return "\n".join(lines) + "\n"


def _write_if_changed(path: Path, data: bytes) -> None:
    """Write only a changed file, so Sphinx re-reads only what changed."""
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# Top-level files of MathJax's es5 folder that the site needs: the combined component the pages load and
# the loader parts; the sub-folders (input/, output/, a11y/, ui/, sre/, adaptors/) are loaded on demand.
_MATHJAX_KEPT = {MATHJAX_COMPONENT, "core.js", "loader.js", "startup.js"}


def _copy_mathjax(components: Path, target: Path) -> None:
    stamp = target / ".source"
    identity = f"{components.resolve()} {(components.parent / 'package.json').stat().st_mtime_ns}"
    if stamp.is_file() and stamp.read_text() == identity:
        return
    if target.exists():
        shutil.rmtree(target)

    def other_bundles(folder: str, names: list[str]) -> set[str]:
        # the other combined components (SVG output, the full TeX set, node's entry point): 13 MB never loaded
        if Path(folder) != components:
            return set()
        return {name for name in names if name.endswith(".js") and name not in _MATHJAX_KEPT}

    shutil.copytree(components, target, ignore=other_bundles)
    stamp.write_text(identity)


def write_source(book: Book, source_dir: str | Path, exercises: dict[str, Path], mathjax: str | Path) -> Path:
    """Generate the Sphinx source tree of ``book`` in ``source_dir`` and return it.

    Args:
        book: the manifest; its written chapters become pages, in order.
        source_dir: the folder to (re)generate; files that are not part of the book any more are removed.
        exercises: ``{chapter id: student notebook}`` for every written chapter (:func:`student_exercises`).
        mathjax: MathJax's component folder (:func:`ensure_mathjax`), copied to ``_static/mathjax``.
    """
    if not isinstance(book, Book):
        raise TypeError(f"book must be a course_lib.book.Book, got {type(book).__name__}")
    source_dir = Path(source_dir)
    missing = [chapter.id for chapter in book.written_chapters if chapter.id not in exercises]
    if missing:
        raise ValueError(f"exercises must have a student notebook for every written chapter, missing {missing}")
    without_objectives = [chapter.id for chapter in book.chapters if not chapter.objectives]
    if without_objectives:
        raise SiteError(f"the landing page lists every chapter's objectives; none for {without_objectives}")
    files = {
        "conf.py": sphinx_configuration(book).encode(),
        "index.md": landing_page(book).encode(),
    }
    for chapter in book.written_chapters:
        files[chapter.notebook.name] = _chapter_page(chapter).encode()
        files[f"exercises/{chapter.exercises.name}"] = Path(exercises[chapter.id]).read_bytes()
    for name, data in files.items():
        _write_if_changed(source_dir / name, data)
    static = source_dir / "_static"
    _copy_mathjax(Path(mathjax), static / "mathjax")
    for path in sorted(source_dir.rglob("*"), reverse=True):
        relative = path.relative_to(source_dir)
        if relative.parts[:2] == ("_static", "mathjax") or relative == Path("_static"):
            continue
        if path.is_file() and relative.as_posix() not in files:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return source_dir


# --- sphinx-build and the checks of its output -----------------------------------------------------


def run_sphinx(source_dir: str | Path, html_dir: str | Path, doctree_dir: str | Path | None = None) -> Path:
    """Run ``sphinx-build -W --keep-going -n -b html`` in a separate process and return ``html_dir``.

    Raises:
        SiteError: if Sphinx reports any warning or error; the message holds its log.
    """
    source_dir, html_dir = Path(source_dir), Path(html_dir)
    doctree_dir = html_dir.parent / "doctrees" if doctree_dir is None else Path(doctree_dir)
    command = [sys.executable, "-m", "sphinx", "-b", "html", *SPHINX_FLAGS, "-q", "-j", "auto",
               "-d", str(doctree_dir), str(source_dir), str(html_dir)]  # fmt: skip
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if completed.returncode != 0:
        from course_lib.release import _log_tail

        log = _log_tail(completed.stdout, lines=40)
        raise SiteError(f"sphinx-build failed (exit status {completed.returncode}); every warning is an error:\n{log}")
    return html_dir


# Elements whose URL the browser loads by itself when it shows the page (an <a href> is only followed on a click).
_ASSET_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "link": ("href",),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")


class _AssetParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []  # (tag, url)
        self.style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in _ASSET_ATTRIBUTES.get(tag, ()):
            value = values.get(name)
            if not value:
                continue
            if name == "srcset":
                self.urls += [(tag, part.split()[0]) for part in value.split(",") if part.strip()]
            else:
                self.urls.append((tag, value))
        if values.get("style"):
            self.urls += [(tag, match[0] or match[1]) for match in _CSS_URL.findall(values["style"])]
        self.style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self.style = False

    def handle_data(self, data: str) -> None:
        if self.style:
            self.urls += [("style", match[0] or match[1]) for match in _CSS_URL.findall(data)]


def _is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme not in ("", "data", "blob", "about", "javascript")


def page_assets(page: str | Path) -> list[tuple[str, str]]:
    """``(tag, url)`` of everything an HTML page loads by itself: scripts, stylesheets, images, frames, CSS urls."""
    parser = _AssetParser()
    parser.feed(Path(page).read_text(encoding="utf-8"))
    return parser.urls


def _pages(html_dir: Path) -> list[Path]:
    """The site's HTML pages; ``_static`` holds the themes' Jinja macro files, which are not pages."""
    return sorted(page for page in html_dir.rglob("*.html") if "_static" not in page.relative_to(html_dir).parts)


def check_offline(html_dir: str | Path) -> None:
    """Fail unless the site loads nothing from another host and every local asset a page names exists.

    Scans every ``.html`` page (scripts, stylesheets, images, frames, inline CSS; not the theme
    templates in ``_static``) and every ``.css`` file (``url(...)``, ``@import``) under ``html_dir``.

    Raises:
        SiteError: listing each external URL and each missing local file with the page that names it.
    """
    html_dir = Path(html_dir)
    problems = []
    for page in _pages(html_dir):
        for tag, url in page_assets(page):
            if _is_external(url):
                problems.append(f"{page.relative_to(html_dir)}: <{tag}> loads {url} from another host")
                continue
            if urlsplit(url).scheme or not urlsplit(url).path:  # data:, blob:, ...; "#" (this page)
                continue
            target = (page.parent / unquote(urlsplit(url).path)).resolve()
            if not target.is_file():
                problems.append(f"{page.relative_to(html_dir)}: <{tag}> names {url}, which is not in the site")
    for sheet in sorted(html_dir.rglob("*.css")):
        for match in _CSS_URL.findall(sheet.read_text(encoding="utf-8", errors="replace")):
            url = match[0] or match[1]
            if _is_external(url):
                problems.append(f"{sheet.relative_to(html_dir)}: loads {url} from another host")
    if problems:
        raise SiteError("the site is not self-contained:\n" + "\n".join(problems[:50]))


def build_book(out_dir: str | Path | None = None, book: Book | None = None) -> Path:
    """Build the HTML book of every written chapter and return its root folder (with ``index.html``).

    Args:
        out_dir: the build folder (default ``build/book`` at the project root); the site goes to
            ``out_dir/html``, its Sphinx source to ``out_dir/source``, the cached student exercises
            to ``out_dir/exercises``. A second build reuses them and re-reads only changed pages.
        book: the manifest (default :func:`course_lib.book.load_book`).

    Raises:
        SiteError: if npm, nbgrader or Sphinx fails, Sphinx warns, or the site is not self-contained.
    """
    book = load_book() if book is None else book
    if not isinstance(book, Book):
        raise TypeError(f"book must be a course_lib.book.Book or None, got {type(book).__name__}")
    if out_dir is not None and (not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir).strip()):
        raise TypeError(f"out_dir must be None or a str or pathlib.Path naming a folder, got {out_dir!r}")
    if not book.written_chapters:
        raise SiteError("no chapter of the book is written: nothing to build")
    out_dir = DEFAULT_OUT_DIR if out_dir is None else Path(out_dir)
    mathjax = ensure_mathjax()
    exercises = student_exercises(book, out_dir / "exercises")
    source = write_source(book, out_dir / "source", exercises, mathjax)
    html_dir = run_sphinx(source, out_dir / "html", out_dir / "doctrees")
    check_offline(html_dir)
    return html_dir


# --- the Sphinx extension: alt text for figures ----------------------------------------------------


def _cell_source(node: Any) -> str:
    """The code of the notebook cell that holds ``node`` ('' if it is not in a code cell)."""
    from docutils import nodes

    while node is not None:
        if isinstance(node, nodes.container) and "cell" in node.get("classes", []):
            for child in node.findall(nodes.literal_block):
                return child.astext()
            return ""
        node = node.parent
    return ""


def _section_title(node: Any) -> str | None:
    from docutils import nodes

    while node is not None:
        if isinstance(node, nodes.section) and node.children and isinstance(node[0], nodes.title):
            return node[0].astext()
        node = node.parent
    return None


def figure_alt_texts(app: Any, doctree: Any) -> None:
    """``doctree-read`` handler: give each image of a chapter page without alt text a descriptive one."""
    from docutils import nodes

    docname = app.env.docname
    number, title = app.config.course_chapters.get(docname, (None, None))
    chapter = f"chapter {number}, {title}" if number is not None else f"page {docname}"
    for index, image in enumerate(doctree.findall(nodes.image), start=1):
        if image.get("alt", "").strip():
            continue
        what = f"Figure {index} of {chapter}"
        section = _section_title(image)
        if section and section != title:
            what += f", section “{section}”"
        if "static_figure(" in _cell_source(image):
            what += ": the static figure of an interactive demo"
        image["alt"] = what


def setup(app: Any) -> dict[str, Any]:
    """Sphinx extension (listed in the generated ``conf.py``): figure alt text."""
    # {page name: (chapter number, chapter title)}, written into conf.py from book.toml
    app.add_config_value("course_chapters", {}, "env", types=frozenset({dict}))
    app.connect("doctree-read", figure_alt_texts)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m course_lib.site [--out-dir DIR] [--book PATH]``."""
    parser = argparse.ArgumentParser(prog="python -m course_lib.site", description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=None, help="build folder (default: build/book at the project root)")
    parser.add_argument("--book", type=Path, default=None, help="manifest to read (default: the project's book.toml)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        html_dir = build_book(args.out_dir, load_book(args.book))
    except SiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"the book is in {html_dir / 'index.html'} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
