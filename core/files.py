"""Generated files with personal data (print PDFs, exports, import uploads) that a crash
never leaves on disk unreferenced (issue 27).

* ``write_in_place(name, content)`` writes a file of the default storage under its final
  name atomically: first to a ``.part`` name beside it, then ``os.replace``. The caller
  records the name on its row *before* writing (its own committed UPDATE), so a crash
  leaves nothing, a file its row names (the retry writes it again, in place), or a
  ``.part`` file.
* ``sweep(folder, referenced)`` deletes every file under ``MEDIA_ROOT/folder`` that no row
  names and that is older than ``older_than`` (an hour): ``.part`` files, uploads of a
  request killed before its commit. It returns what it deleted (the beat task logs it).
"""

import logging
import os
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from django.core.files.storage import default_storage
from django.utils import timezone

logger = logging.getLogger(__name__)

PART = ".part"


def write_in_place(name: str, content: bytes | Iterable[bytes]) -> str:
    """Write ``content`` to ``name`` of the default storage (a local file system): never a
    half-written file under the final name, and never a suffixed copy beside an old one."""
    path = Path(default_storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}{PART}")
    try:
        with part.open("wb") as out:
            if isinstance(content, bytes):
                out.write(content)
            else:
                for block in content:
                    out.write(block)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return name


def sweep(*, folder: str, referenced: Iterable[str], older_than: timedelta = timedelta(hours=1),
          now=None) -> list[str]:
    """Delete the files under ``MEDIA_ROOT/folder`` that no row names, older than ``older_than``."""
    root = Path(default_storage.path(folder))
    if not root.is_dir():
        return []
    keep = {str(Path(default_storage.path(name))) for name in referenced if name}
    cutoff = ((now or timezone.now()) - older_than).timestamp()
    deleted = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or str(path) in keep:
            continue
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            path.unlink()
        except FileNotFoundError:
            continue
        name = str(path.relative_to(default_storage.path("")))
        deleted.append(name)
        logger.warning("deleted a file no row references: %s", name)
    return deleted
