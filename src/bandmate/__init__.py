"""bandmate: AI for music production, with provenance on every output.

The package is layered (see the README's design section): `theory` (pure music theory), `score`
and `io` (the Score type and files), then the stages (`render`, `plot`, ...), then `cli`.
Import what you need from the subpackages; this module stays light so that the CLI starts fast.
"""

__version__ = "0.1.0"
