"""Safe outputs: written atomically, never over an input, never over a file without `force`.

Every writer in bandmate goes through `atomic_path`, so a crash or a full disk never leaves half a
file where a good one was. Commands call `check_outputs` before they start work, so that a refused
output costs nothing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from bandmate.errors import InputFileError, OutputError

# what a file system says when it refuses writes, every later one too: full, over a quota,
# read-only (a file too large, EFBIG, is that file's own)
STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
SFE_SYSTEM = 2  # libsndfile's "system error": the OS refused a write, whose errno it does not keep


def user_text(data: bytes) -> str:
    """The text of a file a user wrote (a chart, an ABC tune book): UTF-16 with its byte-order
    mark (Windows Notepad's "Unicode"), UTF-8 (with or without one), else Windows-1252 or
    Latin-1, in which older files were saved. It never fails: Latin-1 reads any bytes."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def check_inputs(paths: Iterable[str | os.PathLike]) -> None:
    """Raise a clear error for an input that does not exist, is not a file or is empty."""
    for p in map(Path, paths):
        if nearest_existing(p) is None:  # looking at the path itself would be refused
            raise InputFileError(
                f"Input file {str(p)!r} cannot be reached: a folder on its path may not be "
                "entered; check its permissions."
            )
        if not p.exists():
            raise InputFileError(f"Input file {str(p)!r} does not exist; check the path.")
        if not p.is_file():
            raise InputFileError(f"Input {str(p)!r} is not a file; give the path of a file.")
        if p.stat().st_size == 0:  # a save or a copy that never finished
            raise InputFileError(
                f"Input file {str(p)!r} is empty (0 bytes); check that it was saved or copied "
                "completely."
            )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(
    outputs: Iterable[str | os.PathLike],
    inputs: Iterable[str | os.PathLike] = (),
    *,
    force: bool = False,
) -> None:
    """Refuse, before any work, an output that could not be written where it is asked for: one
    that is one of the inputs, two outputs on one path (the second written would replace the
    first: `-o s.mid --latency-report s.mid`), a path that is a folder (even --force never puts a
    file in a folder's place), a folder that cannot be made because a file has its name or a
    parent's, a folder the user may not write in or enter, and an output that exists when
    `force` is not set. Without it each failed after the work, with a traceback or with the first
    output lost.

    An output that exists and is not a regular file (a device such as /dev/null, a named pipe, a
    socket), or a link to one (/dev/stdout), is refused even with `force`: the output is moved
    into place, so it would take the device's place (as root, /dev/null's) rather than be
    written into it. An output that is a link to a regular file is, with `force`, replaced by
    the output: the link goes, the file it pointed to is left as it was; nothing is ever written
    through a link.
    """
    inputs = [Path(p) for p in inputs]
    seen: dict[Path, str] = {}
    for out in map(Path, outputs):
        name = repr(str(out))
        if nearest_existing(out) is None:  # looking at the path itself would be refused
            raise OutputError(
                f"Cannot write {name}: a folder on its path may not be entered; choose another "
                "folder."
            )
        for inp in inputs:
            if out.resolve() == inp.resolve() or _same_file(out, inp):
                raise OutputError(f"Output {name} is also an input; choose another output path.")
        key = out.resolve()
        if key in seen:
            raise OutputError(
                f"{name} is given for two outputs; give each output its own path."
                if seen[key] == name
                else f"{seen[key]} and {name} are the same file; give each output its own path."
            )
        seen[key] = name
        if out.is_dir():
            raise OutputError(f"Output {name} is a folder; give the path of a file.")
        _refuse_special(out, name)
        if out.exists() and not force:
            raise OutputError(
                f"Output {name} already exists; use --force to overwrite it or choose another path."
            )
        if out.is_symlink() and not out.exists() and not force:  # the output would replace it
            raise OutputError(
                f"Output {name} is a link to {os.readlink(out)!r}, which does not exist; use "
                "--force to replace the link with the file, or choose another path."
            )
        check_output_folder(out.parent)


def _special_kind(path: Path) -> str | None:
    """What `path` is ("a device", "a link to a named pipe"), where it exists and is neither a
    regular file nor a folder (nor a link to one); else None."""
    try:
        mode = path.stat().st_mode  # through a link: /dev/stdout is one to a terminal or pipe
    except OSError:  # missing, a link to nothing, or hidden
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a special file"
    return f"a link to {kind}" if path.is_symlink() else kind


def _refuse_special(path: Path, name: str) -> None:
    special = _special_kind(path)
    if special:
        raise OutputError(
            f"Output {name} is {special}, not a regular file, which bandmate never replaces, "
            "even with --force; choose another path."
        )


def nearest_existing(path: str | os.PathLike) -> Path | None:
    """`path` (made absolute) or the nearest folder above it that exists; None where a folder on
    the way may not be entered (another user's, mode 0700), which hides what lies below it."""
    existing = Path(path).absolute()
    try:
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
    except PermissionError:
        return None
    return existing


def check_output_folder(folder: str | os.PathLike) -> None:
    """Refuse a folder to write into that cannot be made (a file has its name or a parent's) or
    that the user may not write in; a folder that does not exist yet is fine (writers make it)."""
    existing = nearest_existing(folder)
    if existing is None:
        raise OutputError(
            f"Cannot write into {str(folder)!r}: a folder on its path may not be entered; choose "
            "another folder."
        )
    if not existing.is_dir():
        raise OutputError(
            f"Cannot write into {str(folder)!r}: {str(existing)!r} is a file, not a folder; "
            "choose another path."
        )
    # a link whose target is gone looks missing, but no folder can be made in its place: the
    # writing failed after the work (a trained model lost to a FileExistsError)
    missing = Path(folder).absolute()
    while missing != existing and missing != missing.parent:
        if missing.is_symlink():
            raise OutputError(
                f"Cannot write into {str(folder)!r}: {str(missing)!r} is a link to "
                f"{os.readlink(missing)!r}, which does not exist; make its target or choose "
                "another folder."
            )
        missing = missing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(
            f"Cannot write into {str(folder)!r}: {str(existing)!r} is not writable; choose "
            "another folder."
        )


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it into place only if the block succeeds.

    The temporary file keeps `path`'s suffix so that libraries that choose a format by the
    file name (soundfile, matplotlib) do the right thing. Missing parent folders are created.
    A `path` that is a device, a named pipe or a socket is refused, as `check_outputs` does
    before the work, for a writer whose outputs were not checked: moved into place, the file
    would take the device's place.
    """
    target = Path(path)
    _refuse_special(target, repr(str(target)))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.stem}.",
            suffix=target.suffix + ".part" + target.suffix,
            dir=target.parent,
        )
    except OSError as e:  # a read-only or special folder, a file where a folder should be
        raise OutputError(
            f"Cannot write {str(target)!r} ({e.strerror or e}); choose another folder."
        ) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); an output gets the usual permissions instead
        os.chmod(tmp, 0o666 & ~_umask())
        try:
            os.replace(tmp, target)
        except OSError as e:  # a folder of that name appeared, say
            raise OutputError(f"Cannot write {str(target)!r} ({e.strerror or e}).") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def refused_write(
    error: BaseException, folder: Path, *, written: bool, errnos: Iterable[int] = STORAGE_ERRNOS
) -> str | None:
    """The reason ("No space left on device") when `error` comes down to the file system
    refusing a write into `folder`, by one of `errnos`; else None.

    The writers turn such an OSError into a sentence of their own and keep it as the error's
    context, which is searched. libsndfile keeps no errno ("system error"), so for an audio write
    (`written`: the caller knows the error came from writing, not from a file it could not read)
    the folder's file system says whether it is read-only; otherwise it is full or over a quota.
    """
    errnos, seen = tuple(errnos), error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in errnos:
            return seen.strerror or os.strerror(seen.errno)
        sndfile = type(seen).__name__ == "LibsndfileError"
        if written and sndfile and getattr(seen, "code", None) == SFE_SYSTEM:
            with contextlib.suppress(OSError, AttributeError, StopIteration):
                existing = next(p for p in (folder, *folder.parents) if p.exists())
                if os.statvfs(existing).f_flag & os.ST_RDONLY:
                    return os.strerror(errno.EROFS)
            return "the disk is full or over its quota"
        seen = seen.__cause__ or seen.__context__
    return None
