"""Finding the General MIDI SoundFont that gives bandmate's stems their sound.

bandmate ships no SoundFont of its own: it uses the one the system packages install
(`fluid-soundfont-gm` on Debian and Ubuntu, `soundfont-fluid` on Fedora and Arch), or the one
named by `$BANDMATE_SOUNDFONT`.
"""

from __future__ import annotations

import os
from pathlib import Path

from bandmate.errors import SoundFontError

SOUNDFONT_ENV = "BANDMATE_SOUNDFONT"

#: Where the common distributions put a GM SoundFont, most likely first.
SYSTEM_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),  # Debian, Ubuntu: fluid-soundfont-gm
    Path("/usr/share/sounds/sf2/default-GM.sf2"),  # Debian's alternatives link
    Path("/usr/share/soundfonts/default.sf2"),  # Arch, Fedora
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),  # Arch: soundfont-fluid
    Path("/usr/share/soundfonts/FluidR3_GM.sf3"),
    Path("/usr/share/sounds/sf3/default-GM.sf3"),  # Debian: timgm6mb / musescore-general
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
    Path("/usr/local/share/soundfonts/default.sf2"),  # FreeBSD, Homebrew
    Path("/opt/homebrew/share/soundfonts/default.sf2"),
)


def find_soundfont() -> Path:
    """The GM SoundFont to render with: `$BANDMATE_SOUNDFONT` if set, else a system one.

    Raises `SoundFontError` when `$BANDMATE_SOUNDFONT` names no file, or when it is unset and
    none of `SYSTEM_SOUNDFONTS` exists.
    """
    named = os.environ.get(SOUNDFONT_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise SoundFontError(
                f"{SOUNDFONT_ENV} is set to {named!r}, which is not a file; point it at a "
                ".sf2 or .sf3 SoundFont or unset it."
            )
        return path
    for path in SYSTEM_SOUNDFONTS:
        if path.is_file():
            return path
    raise SoundFontError(
        "No General MIDI SoundFont was found; install one (e.g. `apt install "
        f"fluid-soundfont-gm`) or set {SOUNDFONT_ENV} to the path of a .sf2 file."
    )
