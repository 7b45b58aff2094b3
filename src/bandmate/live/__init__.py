"""Live accompaniment: a band that follows a player as they play (layer 4, beside `compose`).

    transport ─► InputEvent ─► Engine ─┬─ BeatTracker   where the beats fall (tempo)
                                       ├─ KeyTracker    the key, once a bar (key)
                                       ├─ ChordTracker  the chord: full, split, single (chords)
                                       └─ Accompanist   a style's bar, by the arranger (accompanist)
                                                 │
                        Lane per part (scheduler) ─► OutputEvent (timestamped) ─► transport

- `events`: input and output events, raw MIDI decoding (garbage is None, counted, ignored).
- `engine`: the Engine (event path and clock path), decision-latency statistics, GC discipline.
- `transport`: the Transport protocol, the in-process transport, clocks, the timed dispatcher.
- `session`: the decision thread (`LiveSession`), `simulate` for recorded performances, reading
  a performance and writing the session.
- `performance`: a simulated player, for the benchmark and the tests.

The accompanist plays the backing-track styles through the arranger's own players (it imports
`bandmate.arrange`), which is why `live` sits a layer above `arrange`.
"""

from bandmate.live.accompanist import Accompanist
from bandmate.live.chords import MODES, ChordTracker, recognize_chord, single_finger_chord
from bandmate.live.engine import Engine, LatencyStats, gc_paused
from bandmate.live.events import InputEvent, OutputEvent, decode_midi
from bandmate.live.key import KeyTracker
from bandmate.live.session import (
    LiveSession,
    Performance,
    SessionResult,
    read_performance,
    session_score,
    simulate,
)
from bandmate.live.tempo import BeatTracker, FixedClick
from bandmate.live.transport import (
    InProcessTransport,
    TimedDispatcher,
    Transport,
    VirtualClock,
    session_clock,
)

__all__ = [
    "MODES",
    "Accompanist",
    "BeatTracker",
    "ChordTracker",
    "Engine",
    "FixedClick",
    "InProcessTransport",
    "InputEvent",
    "KeyTracker",
    "LatencyStats",
    "LiveSession",
    "OutputEvent",
    "Performance",
    "SessionResult",
    "TimedDispatcher",
    "Transport",
    "VirtualClock",
    "decode_midi",
    "gc_paused",
    "read_performance",
    "recognize_chord",
    "session_clock",
    "session_score",
    "simulate",
    "single_finger_chord",
]
