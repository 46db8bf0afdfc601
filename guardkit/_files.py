"""Writing files so that a crash never leaves half of one behind."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from guardkit.errors import ConfigError

__all__ = [
    "check_renamable",
    "check_writable",
    "sha256_file",
    "staged_folder",
    "write_atomic",
]


def check_writable(path: Path) -> None:
    """Fail early, before any work, when ``path`` cannot be written: a folder, or a parent
    that is missing or read-only."""
    if path.is_dir():
        raise ConfigError("cannot write the output: it is a folder", file=str(path))
    parent = path.parent
    if not parent.is_dir():
        raise ConfigError("cannot write the output: its folder does not exist", file=str(path))
    if not os.access(parent, os.W_OK):
        raise ConfigError("cannot write the output: its folder is read-only", file=str(path))


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync it, then rename it into place.

    The file gets the permissions a plain ``open`` would give (``mkstemp`` makes it private).
    A path that cannot be written (a folder, no permission) is a :class:`ConfigError` naming it.
    """
    if path.is_dir():
        raise ConfigError("cannot write the output: it is a folder", file=str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write the output: {exc.strerror}", file=str(path)) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(0o666 & ~_UMASK)
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write the output: {exc.strerror}", file=str(path)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_umask() -> int:
    """The process umask, read once at import: reading it means setting it, which is not
    safe while other threads create files."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_renamable(out: Path) -> None:
    """``out`` is not the working folder nor holds it (such a folder cannot be renamed)."""
    cwd = Path.cwd().resolve()
    if out.resolve() in (cwd, *cwd.parents):
        raise ConfigError(
            f"{out} is the working folder or holds it; give a new folder", loc=("out",)
        )


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A scratch folder beside ``out`` that becomes ``out`` when the block ends without an
    error (a folder already at ``out`` is replaced only then); on an error, or a kill that
    unwinds, it is removed and ``out`` is as it was. ``out`` may not be the working folder or
    hold it: such a folder cannot be renamed, and the work would be lost at the end."""
    check_renamable(out)
    staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    staging.mkdir(parents=True)
    try:
        yield staging
        if out.exists():
            out.rename(old)
            try:
                staging.rename(out)
            except BaseException:
                old.rename(out)
                raise
        else:
            staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
