"""Private, atomic report files.

Reports hold customer names, emails and CRM links, so every file is created owner-only
(0o600) and every folder this module creates is owner-only (0o700). A folder that already
exists (``.``, ``/tmp``) is left as it is: tightening a user's own folder would surprise them.

Files are written to a temporary name in the same folder and renamed into place, so a cron
job or a reader never sees half a report, and an existing report with looser permissions
is replaced by a 0o600 file rather than rewritten in place with its old mode.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from audit.reports.errors import ReportError

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def ensure_private_folder(folder: Path) -> None:
    """Create ``folder`` (and missing parents) owner-only; refuse a path that is a file."""
    if folder.exists() and not folder.is_dir():
        raise ReportError(f"{folder} is a file, not a folder: pass a folder path to --out")
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=FOLDER_MODE)
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is filtered by the umask


@contextlib.contextmanager
def private_text_file(
    path: Path, *, encoding: str = "utf-8", newline: str | None = None
) -> Iterator[TextIO]:
    """Open a text stream whose content lands at ``path`` (mode 0o600) only on success."""
    if path.is_dir():
        raise ReportError(f"{path} is a folder: pass a file path to --out")
    ensure_private_folder(path.parent)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, FILE_MODE)
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as stream:
            yield stream
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
