"""One exception hierarchy for bandmate.

Every layer raises these (this module is layer 0: it imports nothing and everything may import it).
`UserError` and its subclasses are mistakes a person can fix (a missing file, a typo in a chord
chart); their message is one sentence that says what was wrong and what to do, and the CLI and the
server print it as it is (exit code 2, HTTP 4xx). Anything else that escapes is a bug in bandmate.
"""

from __future__ import annotations


class BandmateError(Exception):
    """Base class of every error bandmate raises on purpose."""


class UserError(BandmateError):
    """A mistake in what the user gave us; the message is shown to them verbatim."""


class InputFileError(UserError):
    """An input file is missing, unreadable, of the wrong kind, truncated or corrupt."""


class OutputError(UserError):
    """An output cannot be written: it exists (and --force was not given) or it is an input."""


def quoted(text: str, limit: int = 40) -> str:
    """`text` quoted for a message, its middle cut out past `limit` characters: a stray paste of
    a whole page into a chart is named, not printed back in full."""
    if len(text) > limit:
        half = (limit - 1) // 2
        text = f"{text[:half]}…{text[-half:]}"
    return repr(text)


def counted(n: int, noun: str) -> str:
    """`n` and `noun` for a message, plural but for one: "1 piece", "2 pieces", "1,024 tokens"."""
    return f"{n:,} {noun}{'s' * (n != 1)}"


class ChordSymbolError(UserError):
    """A chord symbol that bandmate cannot read."""

    def __init__(self, symbol: str, reason: str = ""):
        self.symbol = symbol
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"Unknown chord symbol {quoted(symbol)}{detail}; "
            "write it like C, Am7, F#m7b5, Bbmaj7/D or N.C."
        )


class ChartError(UserError):
    """A chord chart that does not parse; names the bar (1-based) and the offending token."""

    def __init__(self, message: str, *, bar: int | None = None, token: str | None = None):
        self.bar = bar
        self.token = token
        where = []
        if bar is not None:
            where.append(f"bar {bar}")
        if token is not None:
            where.append(f"at {quoted(token)}")
        prefix = f"Chart error in {', '.join(where)}: " if where else "Chart error: "
        super().__init__(prefix + message)


class EmptyScoreError(UserError):
    """A score with no notes where notes are needed."""


class AudioFormatError(UserError):
    """Audio that bandmate cannot use: corrupt, unsupported sample rate or channel count."""


class SoundFontError(UserError):
    """No General MIDI SoundFont could be found or loaded."""
