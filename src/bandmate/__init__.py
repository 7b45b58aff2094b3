"""bandmate: AI for music production, with provenance on every output.

The package is layered (see the README's design section): `theory` (pure music theory), `score`
and `io` (the Score type and files), then the stages (`arrange`, `render`, `plot`, ...), `jobs`
and `cli`. This module stays light so that the CLI starts fast: the conveniences below are
imported only when first used.

    import bandmate
    score = bandmate.backing("| C | Am | F | G7 |", style="pop", tempo_bpm=110, seed=1)
"""

__version__ = "0.1.0"

# name -> module that defines it, imported on first use
_LAZY = {
    "backing": "bandmate.arrange.backing",
    "read_midi": "bandmate.io.midi",
    "write_midi": "bandmate.io.midi",
    "read_score": "bandmate.io.formats",
    "write_score": "bandmate.io.formats",
    "render": "bandmate.render",
    "Score": "bandmate.score",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bandmate' has no attribute {name!r}")
