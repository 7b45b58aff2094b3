"""Render a Score to audio: one stereo stem per track, and the mix (layer 3).

`render_stems` plays a Score through FluidSynth with a General MIDI SoundFont (`find_soundfont`);
`render_mix` sums stems into the mix, so the stems always add up to it; `render` does both.
`stream_stems` hands the same stems on block by block instead of holding them all, and
`write_rendering` uses it to write the mix and the stems' files in the memory of the mix alone.
`stem_filenames` names the files stems are written to.
"""

from bandmate.render.files import write_rendering
from bandmate.render.fluidsynth import (
    DEFAULT_GAIN,
    TAIL_MAX_SECONDS,
    render,
    render_stems,
    stream_stems,
)
from bandmate.render.soundfont import SOUNDFONT_ENV, SYSTEM_SOUNDFONTS, find_soundfont
from bandmate.render.stems import render_mix, stem_filenames

__all__ = [
    "DEFAULT_GAIN",
    "SOUNDFONT_ENV",
    "SYSTEM_SOUNDFONTS",
    "TAIL_MAX_SECONDS",
    "find_soundfont",
    "render",
    "render_mix",
    "render_stems",
    "stem_filenames",
    "stream_stems",
    "write_rendering",
]
