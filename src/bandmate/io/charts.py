"""Chord charts from the command line: either the chart text itself or a file that holds it."""

from __future__ import annotations

from pathlib import Path

from bandmate.errors import ChartError, InputFileError
from bandmate.io.files import user_text
from bandmate.theory.chart import Chart, parse_chart

CHART_SUFFIXES = (".txt", ".chart", ".chords")


def load_chart(text_or_path: str, meter: tuple[int, int] = (4, 4)) -> Chart:
    """Parse `text_or_path` as a chart, reading it from a file when it names one.

    `meter` is the time signature until the chart names one.

    A string without a bar line that ends like a chart file name (`song.txt`) or holds a `/` but
    names no file, and does not read as a chart either, is reported as a missing file rather
    than as a chart with an odd chord in it.
    """
    if not text_or_path.strip():  # before the path test: Path("") is the current folder
        raise ChartError("the chart is empty; write bars like '| C | Am | F | G |'.")
    candidate = Path(text_or_path)
    looks_like_path = (
        "|" not in text_or_path
        and "\n" not in text_or_path
        and (candidate.suffix.lower() in CHART_SUFFIXES or "/" in text_or_path)
    )
    kind = None if "\n" in text_or_path else _path_kind(candidate)
    if kind == "file":
        try:
            text = user_text(candidate.read_bytes())  # UTF-8, UTF-16 (Notepad), or Latin-1
        except OSError as e:
            raise InputFileError(f"Chart file {text_or_path!r} could not be read ({e}).") from None
    elif kind == "folder" and "|" not in text_or_path:
        raise InputFileError(
            f"{text_or_path!r} is a folder; give a chart file, or the chart itself in quotes."
        )
    elif looks_like_path:  # unless it reads as a chart: "C G/B Am F", "(3/4) C G7"
        try:
            return parse_chart(text_or_path, meter)
        except ChartError:
            raise InputFileError(
                f"Chart file {text_or_path!r} does not exist; check the path."
            ) from None
    else:
        text = text_or_path
    if not text.strip():
        raise ChartError("the chart is empty; write bars like '| C | Am | F | G |'.")
    return parse_chart(text, meter)


def _path_kind(candidate: Path) -> str | None:
    """ "file", "folder" or None for what `candidate` names. A chart typed on the command line is
    tried as a path first, and one longer than a file name may be (255 bytes) makes the system
    refuse the question rather than say no: that, too, names nothing."""
    try:
        return "file" if candidate.is_file() else "folder" if candidate.is_dir() else None
    except OSError:
        return None
