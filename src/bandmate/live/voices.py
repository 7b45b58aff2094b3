"""Voices: what the engine plays besides (or instead of) the style's band.

The band (`accompanist`) plays a style on the chord the player holds. A voice is another way to
answer the player, fed the same events on the same thread:

- "answer" (`live.response.Responder`): call and response, as in AI Duet; when the player ends
  a phrase, the melody model continues it and the answer plays on the beat grid.
- "chorale" (`live.chorale.ChoraleVoice`): the player's melody harmonized in four parts as it is
  played, the three lower voices sounding with each melody note.

A voice is an object with:

    parts: tuple[Part, ...]               what it plays, one MIDI channel each
    hear(event, engine) -> None           every valid input event, after the trackers saw it
    advance(now_s, engine) -> None        each clock step: emit what is due before
                                          now_s + engine.lookahead_s through engine.sink
    stop(now_s, sink) -> None             every sounding note off, now

It runs in the event path, so `hear` and `advance` must be cheap (no model call, no heavy
allocation); anything slow runs on a worker thread of the voice's own and is picked up by a
later `advance`. `make_voice(name, engine, channel)` builds a voice by name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from bandmate.score.model import Role

VOICES = {
    "answer": "bandmate.live.response:Responder",
    "chorale": "bandmate.live.chorale:ChoraleVoice",
}
PLAY_CHOICES = ("band", *VOICES)


@dataclass(frozen=True)
class Part:
    """One thing the engine plays: its track name, MIDI channel (0-15), GM program and role."""

    name: str
    channel: int
    program: int
    role: Role
    is_drum: bool = False


def make_voice(name: str, engine, channel: int):
    """The voice called `name` (a key of VOICES) for `engine`, on MIDI channel `channel`."""
    module, _, cls = VOICES[name].partition(":")
    return getattr(importlib.import_module(module), cls)(engine, channel)
