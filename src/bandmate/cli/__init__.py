"""The `bandmate` command: argument parsing and error reporting, nothing else.

Each sub-command lives in a module of this package with `add_parser(subparsers)`, which registers
its arguments and sets `run(args) -> int`; the run functions call library functions and do no
music work themselves. Heavy libraries are imported inside `run`, so `bandmate --help` is instant.

A `UserError` (a mistake the user can fix) becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import signal
import sys

from bandmate import __version__
from bandmate.errors import UserError

# sub-command modules, in the order `bandmate --help` lists them
COMMANDS = (
    "demo",
    "backing",
    "loop",
    "styles",
    "melody",
    "harmonize",
    "continuation",
    "chords",
    "render",
    "show",
    "convert",
    "info",
    "chart",
    "corpus",
    "train",
    "eval",
    "evaluate",
    "check",
    "analyze",
    "mix",
    "master",
    "batch",
    "jam",
    "keys",
    "verify",
    "serve",
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (what was wrong and where to look), exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bandmate",
        description="AI for music production: backing tracks, melodies and harmonies, mixing "
        "and mastering, live accompaniment; every output says how it was made.",
    )
    parser.add_argument("--version", action="version", version=f"bandmate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"bandmate.cli.{name}").add_parser(sub)
    return parser


_STORAGE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def main(argv: list[str] | None = None) -> int:
    from bandmate.memory import tune_allocator

    tune_allocator()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        with _terminated_as_interrupted():
            code = args.run(args) or 0
        sys.stdout.flush()  # here, so that a reader that went away is caught below
        return code
    except UserError as e:
        print(f"bandmate {args.command}: error: {e}", file=sys.stderr)
        return 2
    except Terminated:
        print("bandmate: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("bandmate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`bandmate info song.mid | head -1`): nothing is wrong, and Python
        # would otherwise print a traceback flushing stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:
        sentence = _os_error_sentence(e)
        if sentence is None:
            raise
        print(f"bandmate {args.command}: error: {sentence}", file=sys.stderr)
        return 2


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a service manager, a CI's timeout), raised where the command is, so that
    it stops as Ctrl-C stops it: the job's half-made outputs removed, its helpers ended. Left
    to the default action, the process died on the spot: a killed `bandmate backing` left the
    files it had written, and its MusicXML writer (a forked child) went on and wrote
    song.musicxml into the folder after the user had deleted it."""


@contextlib.contextmanager
def _terminated_as_interrupted():
    """Within it, SIGTERM raises `Terminated` (in the main thread, where signals are handled;
    the live session sets its own handler while it plays, and puts this one back)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _os_error_sentence(e: OSError) -> str | None:
    """What to tell the user of an OSError met where no check looked first, or None for one
    that is not theirs to mend (a bug: its traceback is wanted)."""
    if isinstance(e, PermissionError):
        # a file or folder the user may not read, write or enter
        what = f" on {str(e.filename)!r}" if e.filename else ""
        return f"permission denied{what}; check the permissions of the files and folders it needs."
    if e.errno == errno.ENAMETOOLONG:  # a path given, or one made from it, past 255 bytes
        from bandmate.errors import quoted

        name = quoted(os.fsdecode(e.filename)) if e.filename else "a path"
        return f"the name {name} is longer than the file system allows; give a shorter one."
    if e.errno in _STORAGE_ERRORS:
        # a full disk, a quota or a read-only file system, wherever the write was (the atomic
        # writers have removed their partial files)
        where = f" writing {e.filename}" if e.filename else ""
        return (
            f"could not finish{where}: {e.strerror}; free some space or choose another place "
            "for the output."
        )
    return None


if __name__ == "__main__":
    sys.exit(main())
