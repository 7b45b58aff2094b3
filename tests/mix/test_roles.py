"""Backing vocals as sessions abbreviate them sit under the lead, as a pad does."""

import pytest

from bandmate.mix.roles import role_from_name


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("Vox Harm.wav", "pad"),  # read as the lead vocal, set as loud as the lead and centred
        ("Vox Harms L", "pad"),
        ("BVox 1", "pad"),
        ("Gang Vox", "pad"),
        ("Oohs", "pad"),
        ("Vox Adlib", "pad"),
        ("Lead Vox Adlib", "pad"),  # the lead instrument's "lead" took it
        ("Lead Vox Harm", "pad"),
        ("Lead Vocal Adlibs", "pad"),
        ("Lead BVox", "pad"),
        ("Lead Vox", "vocal"),
        # a double of the lead is tucked under it: read as a second lead it sat at the lead's
        # level and put the vocal 6 dB up (tests/mix/test_automix_sweep.py)
        ("Vox Dbl", "pad"),
        ("Harmonica", "lead"),
    ],
)
def test_abbreviated_backing_vocals_are_not_the_lead(name, role):
    assert role_from_name(name) == role


@pytest.mark.parametrize(
    ("name", "role"),
    [
        # sessions exported in other languages: a vocal read as keys was panned and balanced as one
        ("Gesang", "vocal"),
        ("Voz Principal", "vocal"),
        ("Voix", "vocal"),
        ("ボーカル", "vocal"),
        ("Coros", "pad"),
        ("Voix Chœurs", "pad"),
        ("Gitarre", "guitar"),
        ("ギター", "guitar"),
        ("Bajo", "bass"),
        ("Schlagzeug", "drums"),
        ("Batería", "drums"),
        ("Klavier", "keys"),
        ("ピアノ", "keys"),
        ("Chord Stabs", None),  # "chor" is a whole word only
        # a double, read as a second lead, put the vocal 6 dB up (as "Vox Dbl" did)
        ("Voz Doble", "pad"),
        ("Gesang Dbl", "pad"),
        ("Violão", "guitar"),  # a guitar is never guessed from its sound
        ("Contrabajo", "bass"),
        ("Streicher", "pad"),
        ("Órgano", "pad"),
        ("Bläser", "lead"),
        ("コーラス", "pad"),
        ("Chanter", None),  # a bagpipe's, not a singer
    ],
)
def test_track_names_in_other_languages(name, role):
    assert role_from_name(name) == role
