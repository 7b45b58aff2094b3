"""Files in and out: MIDI, MusicXML, ABC, audio, chord charts (layer 2)."""
