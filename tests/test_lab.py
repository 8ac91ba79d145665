"""`make lab` starts JupyterLab on the chapters with the course kernel registered."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from course_lib.book import Book
from course_lib.execution import KERNEL_NAME, ensure_kernel

TOKEN = "course-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def test_jupyterlab_serves_the_chapters_and_the_course_kernel(book: Book, tmp_path: Path) -> None:
    ensure_kernel()
    port = free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               f"--notebook-dir={book.root / 'notebooks'}", f"--IdentityProvider.token={TOKEN}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)}  # keep server files out of the home directory
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                get_json(f"{base}/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, (tmp_path / "lab.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
                time.sleep(0.5)
        assert KERNEL_NAME in get_json(f"{base}/api/kernelspecs")["kernelspecs"]
        listing = {item["name"] for item in get_json(f"{base}/api/contents")["content"]}
        for chapter in book.written_chapters:
            assert chapter.notebook.name in listing
            model = get_json(f"{base}/api/contents/{chapter.notebook.name}")
            assert model["type"] == "notebook"
            assert model["content"]["metadata"]["kernelspec"]["name"] == KERNEL_NAME
        with urllib.request.urlopen(f"{base}/lab?token={TOKEN}", timeout=5) as page:
            assert page.status == 200 and b"JupyterLab" in page.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
