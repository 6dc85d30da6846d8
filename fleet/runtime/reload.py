"""What `fleet up` watches for a reload: our packages' Python files, templates and web files."""

from __future__ import annotations

import importlib.util
import queue
import threading
from pathlib import Path

from fleet.packages import PACKAGES

#: Files under a `templates` or `web` folder that the processes read (emails, pages).
ASSET_SUFFIXES = {".html", ".txt", ".css", ".js", ".json", ".svg", ".ico", ".png", ".webmanifest"}
#: Milliseconds of quiet after a change before it is reported: an editor's save is several writes.
DEBOUNCE_MS = 150


def package_roots() -> list[Path]:
    """The folders of our packages as this interpreter imports them (a copy of the tree, say)."""
    roots = []
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            roots.append(Path(spec.origin).parent)
    return roots


def is_source(path: str) -> bool:
    """A file whose change means new code: a module, or a template or web file."""
    file = Path(path)
    if "__pycache__" in file.parts or file.name.startswith("."):
        return False
    if file.suffix == ".py":
        return True
    return file.suffix in ASSET_SUFFIXES and bool({"templates", "web", "samples"} & set(file.parts))


def watch_sources(changes: queue.Queue, stop: threading.Event, roots: list[Path] | None = None) -> threading.Thread:
    """Put each batch of changed source paths on `changes` until `stop`, from a thread of its own."""
    import logging

    from watchfiles import watch

    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # the reload line says what changed
    folders = [str(r) for r in (roots or package_roots())]

    def run() -> None:
        for batch in watch(
            *folders,
            watch_filter=lambda _change, path: is_source(path),
            debounce=DEBOUNCE_MS,
            step=50,
            stop_event=stop,
            rust_timeout=500,
            yield_on_timeout=False,
        ):
            changes.put(sorted({path for _change, path in batch}))

    thread = threading.Thread(target=run, name="reload-watch", daemon=True)
    thread.start()
    return thread
