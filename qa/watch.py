"""Notice cheaply whether a corpus folder may have changed, so a question need not rescan it.

Scanning a folder costs a stat per file: nothing for a handful of documents, most of a second
for tens of thousands. Large corpora are therefore watched with Linux inotify: the kernel queues
an event for every change, and each question drains that queue without waiting (a read with no
timeout), so a change made before a question is always seen by it. Where inotify is not
available (another OS, or the per-user limit of watches is reached), the folder is rescanned at
most every ``RECHECK_SECONDS``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("qa")

# A scan cheaper than this runs before every question (a few hundred files).
CHEAP_SCAN_SECONDS = 0.002
# Without inotify, a large corpus is rescanned at most this often.
RECHECK_SECONDS = 2.0


class Watch:
    """One inotify instance over a folder tree; ``changed()`` says whether anything happened."""

    def __init__(self, root: str | Path, exclude: Iterable[str | Path] = ()) -> None:
        from inotify_simple import INotify, flags

        self._flags = flags
        self._mask = (
            flags.CREATE | flags.DELETE | flags.MODIFY | flags.CLOSE_WRITE | flags.ATTRIB
            | flags.MOVED_FROM | flags.MOVED_TO | flags.DELETE_SELF | flags.MOVE_SELF
        )  # fmt: skip
        self._exclude = {Path(p).resolve() for p in exclude}
        self._inotify = INotify()
        self._folders: dict[int, Path] = {}
        try:
            self._add_tree(Path(root))
        except OSError:
            self.close()
            raise

    def _add_tree(self, top: Path) -> None:
        for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
            folder = Path(dirpath)
            # The same folders scan() leaves out: hidden ones and index folders.
            if folder.resolve() in self._exclude or (
                "CURRENT" in filenames and any(d.startswith("gen-") for d in dirnames)
            ):
                dirnames[:] = []
                continue
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            wd = self._inotify.add_watch(folder, self._mask)
            self._folders[wd] = folder

    def changed(self) -> bool:
        """Whether anything in the tree changed since the last call (never blocks)."""
        events = self._inotify.read(timeout=0)
        for event in events:
            if event.mask & self._flags.ISDIR and event.mask & (self._flags.CREATE | self._flags.MOVED_TO):
                # A new folder: watch it too (its files are found by the scan this triggers).
                parent = self._folders.get(event.wd)
                if parent is not None and not event.name.startswith("."):
                    try:
                        self._add_tree(parent / event.name)
                    except OSError as exc:
                        log.warning("cannot watch %s (%s); changes in it may be seen late", parent, exc)
        return bool(events)

    def close(self) -> None:
        self._inotify.close()


class Freshness:
    """Decides, before each question, whether the corpus folder must be scanned for changes."""

    def __init__(self, root: str | Path, exclude: Iterable[str | Path] = ()) -> None:
        self.root = Path(root)
        self.exclude = list(exclude)
        self._watch: Watch | None = None
        self._watch_failed = False
        self._last_scan = float("-inf")
        self._scan_seconds = 0.0
        self._again = False

    def due(self) -> bool:
        """Whether to scan now: always for small corpora, on a reported change for watched ones."""
        if self._again:
            self._again = False
            return True
        if self._watch is not None:
            return self._watch.changed()
        if self._scan_seconds < CHEAP_SCAN_SECONDS:
            return True
        if not self._watch_failed:
            try:
                # Watched from now on; this question still scans, covering what came before.
                self._watch = Watch(self.root, self.exclude)
                return True
            except (ImportError, OSError) as exc:
                self._watch_failed = True
                log.warning(
                    "cannot watch %s for changes (%s); it is rescanned at most every %.0f s",
                    self.root, exc, RECHECK_SECONDS,
                )  # fmt: skip
        return time.monotonic() - self._last_scan >= RECHECK_SECONDS

    def scanned(self, seconds: float) -> None:
        """Record that a scan just ran and how long it took."""
        self._last_scan = time.monotonic()
        self._scan_seconds = seconds

    def again(self) -> None:
        """Scan before the next question too (the last change could not be indexed)."""
        self._again = True

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
