"""The scheduler: each part's coming notes in beats, released as timed events a little ahead.

A `Lane` holds one part's pending note ons and offs as (beat, order, pitch, velocity), beats
counted from the band's start, offs ordered before ons at the same beat (so a repeated note is
re-struck, not cut). `emit_until` turns the events before a horizon beat into `OutputEvent`s,
timing each with the beat tracker's *current* mapping: a note is timed when it is released, not
when it is planned, so a tempo change reaches notes already planned.

Released events go out ahead of their time (the engine's look-ahead, 10 ms by default), with
their timestamps; a transport that can play timestamped events on time (a synth's sequencer)
takes them as they come, and one that cannot (a raw MIDI port) gets them through the timed
dispatcher of `bandmate.live.transport`. The look-ahead is short so that a chord change or a
tempo change is heard at once: what was released cannot be recalled.

`replace_from(beat, notes)` is the chord change: every pending event is dropped, notes sounding
now end at `beat` (or as soon as possible, when that is past), and the new notes take over,
those already due starting at once. A note sounding in both keeps sounding (a common tone is
held, not re-struck).

`skip_until(beat)` is a re-locked beat that moved on at once: what fell due in between is not
played late, all at once; notes that should have ended by then end now.

Times never run backwards within a lane: an event is never timed before `now` (a late note plays
at once) nor before the lane's previous event.
"""

from __future__ import annotations

from collections.abc import Callable

from bandmate.live.events import OutputEvent

OFF, ON = 0, 1


class Lane:
    __slots__ = ("channel", "events", "last_time", "next", "part", "sounding")

    def __init__(self, part: str, channel: int):
        self.part = part
        self.channel = channel
        self.events: list[tuple[float, int, int, int]] = []
        self.next = 0  # events before this index have been released
        self.sounding: set[int] = set()
        self.last_time = float("-inf")

    def add(self, start_beat: float, notes) -> None:
        """Append a bar's notes ((onset, end) beats from `start_beat`, pitch, velocity)."""
        pending = self.events[self.next :]
        for onset, end, pitch, velocity in notes:
            pending.append((start_beat + onset, ON, pitch, velocity))
            pending.append((start_beat + end, OFF, pitch, 0))
        pending.sort()
        self.events, self.next = pending, 0

    def replace_from(self, beat: float, notes, start_beat: float) -> None:
        """From `beat` on, play `notes` (as in `add`, from `start_beat`) instead of what was
        planned; notes sounding now end at `beat` unless one of the new notes holds them."""
        pending: list[tuple[float, int, int, int]] = []
        held = set()
        for onset, end, pitch, velocity in notes:
            on, off = start_beat + onset, start_beat + end
            if off <= beat:
                continue
            if on <= beat:
                if pitch in self.sounding and pitch not in held:
                    held.add(pitch)  # a common tone: it sounds already
                    pending.append((off, OFF, pitch, 0))
                    continue
                on = beat
            pending.append((on, ON, pitch, velocity))
            pending.append((off, OFF, pitch, 0))
        for pitch in self.sounding - held:
            pending.append((beat, OFF, pitch, 0))
        pending.sort()
        self.events, self.next = pending, 0

    def emit_until(
        self,
        beat: float,
        time_at: Callable[[float], float],
        now: float,
        sink: Callable[[OutputEvent], None],
    ) -> None:
        """Release the events before `beat`, timed by `time_at`, to `sink`."""
        events = self.events
        i = self.next
        while i < len(events) and events[i][0] < beat:
            at, order, pitch, velocity = events[i]
            i += 1
            time_s = time_at(at)
            if time_s < now:
                time_s = now
            if time_s < self.last_time:
                time_s = self.last_time
            self.last_time = time_s
            if order == ON:
                if pitch in self.sounding:  # never two ons of one pitch without an off
                    sink(OutputEvent(time_s, self.part, self.channel, pitch, 0))
                self.sounding.add(pitch)
            elif pitch in self.sounding:
                self.sounding.discard(pitch)
            else:
                continue  # its on was replaced before it was released
            sink(OutputEvent(time_s, self.part, self.channel, pitch, velocity))
        self.next = i
        if i > 256:  # drop what was released, now and then (not on every call)
            del events[:i]
            self.next = 0

    def skip_until(self, beat: float, now: float, sink: Callable[[OutputEvent], None]) -> None:
        """Drop the note ons before `beat` that are still pending, ending at `now` the notes
        that should have ended by then: the beat moved on at once (a re-locked tempo), and
        notes due before it would otherwise all sound now, together."""
        events = self.events
        i = self.next
        while i < len(events) and events[i][0] < beat:
            _, order, pitch, _ = events[i]
            i += 1
            if order == OFF and pitch in self.sounding:
                self.sounding.discard(pitch)
                self.last_time = max(now, self.last_time)
                sink(OutputEvent(self.last_time, self.part, self.channel, pitch, 0))
        self.next = i

    def release_all(self, now: float, sink: Callable[[OutputEvent], None]) -> None:
        """Stop: an off for every sounding note, now, and nothing pending."""
        time_s = max(now, self.last_time)
        for pitch in sorted(self.sounding):
            sink(OutputEvent(time_s, self.part, self.channel, pitch, 0))
        self.sounding.clear()
        self.events, self.next = [], 0
