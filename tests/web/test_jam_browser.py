"""The jam page in headless Chromium, with a fake Web MIDI keyboard: a C major chord and a
melody note bring in the band, which the page schedules on its audio clock.

`navigator.requestMIDIAccess` is replaced before the page loads by one that offers a single
input, `window.fakeMidiInput`, whose `onmidimessage` the test calls as a keyboard would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import running_server

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed"
)

FAKE_MIDI = """
window.fakeMidiInput = { id: "fake-1", name: "Fake keyboard", type: "input", onmidimessage: null };
window.fakeMidiInput.play = (bytes) =>
  window.fakeMidiInput.onmidimessage &&
  window.fakeMidiInput.onmidimessage({ data: new Uint8Array(bytes), timeStamp: performance.now() });
Object.defineProperty(Navigator.prototype, "requestMIDIAccess", {
  configurable: true,
  value: async () => ({
    inputs: new Map([["fake-1", window.fakeMidiInput]]),
    outputs: new Map(),
    onstatechange: null,
  }),
});
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    with (
        running_server(tmp_path_factory.mktemp("studio")) as url,
        sync_api.sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            page = browser.new_page()
            page.add_init_script(FAKE_MIDI)
            page.goto(url + "/jam")
            yield page
        finally:
            browser.close()


def test_a_fake_midi_keyboard_brings_in_the_band(page):
    assert page.url.endswith("/#jam")
    page.wait_for_selector("#jam-style option[value='pop']", state="attached")
    page.select_option("#jam-style", "pop")
    page.click("#jam-start")
    page.wait_for_function(
        "bandmateJam.state === 'ready' && bandmateJam.midiInputs === 1", timeout=10_000
    )
    assert page.text_content("#jam-midi") == "1 input"

    # a C major chord in the left hand, then a melody note
    page.evaluate(
        """() => {
            for (const pitch of [36, 40, 43]) fakeMidiInput.play([0x90, pitch, 100]);
            fakeMidiInput.play([0xF8]);  // a MIDI clock tick: ignored
            fakeMidiInput.play([0x90, 72, 90]);
        }"""
    )
    page.wait_for_function(
        "bandmateJam.received > 10 && Object.keys(bandmateJam.scheduled).length >= 2",
        timeout=10_000,
    )
    state = page.evaluate(
        """() => ({
            audio: bandmateJam.audio.state,
            channels: Object.keys(bandmateJam.scheduled),
            late: bandmateJam.late,
            received: bandmateJam.received,
        })"""
    )
    assert state["audio"] == "running"
    assert "9" in state["channels"]  # the drums
    assert state["late"] < state["received"]  # most notes came in time to be scheduled
    page.wait_for_function("document.getElementById('jam-chord').textContent === 'C'")
    # the controller's drum pads (channel 10) are not keys: D, F# and A# there change nothing
    page.evaluate("() => { for (const p of [38, 42, 46]) fakeMidiInput.play([0x99, p, 100]); }")
    assert not page.locator("#jam-keyboard .key.down[data-pitch='38']").count()
    page.wait_for_timeout(400)  # the chord the band hears is posted every 0.1 s
    assert page.text_content("#jam-chord") == "C"
    page.evaluate("() => { for (const p of [38, 42, 46]) fakeMidiInput.play([0x89, p, 0]); }")
    page.evaluate("() => { for (const p of [36, 40, 43, 72]) fakeMidiInput.play([0x80, p, 0]); }")
    assert not page.locator("#jam-keyboard .key.down").count()

    page.click("#jam-stop")
    page.wait_for_function("bandmateJam.state === 'idle'")
    assert "stopped" in page.text_content("#jam-status")


def test_the_computer_and_screen_keyboards_press_keys(page):
    page.click("#jam-start")
    page.wait_for_function("bandmateJam.state === 'ready'", timeout=10_000)
    page.keyboard.down("z")  # C2
    assert "down" in page.get_attribute("#jam-keyboard [data-pitch='36']", "class")
    page.keyboard.up("z")
    assert "down" not in page.get_attribute("#jam-keyboard [data-pitch='36']", "class")
    key = page.locator("#jam-keyboard [data-pitch='40']")  # E2, on screen
    key.hover()
    page.mouse.down()
    assert "down" in key.get_attribute("class")
    page.mouse.up()
    assert "down" not in key.get_attribute("class")
    page.click("#jam-stop")
    page.wait_for_function("bandmateJam.state === 'idle'")


def test_the_computer_keyboard_plays_the_keys_its_help_names(page):
    """The help said the bottom row was C3-B3 and the top row C5-E6, an octave above what the
    keys play (C2-E3 and C4-E5)."""
    help_text = " ".join(page.text_content(".keys-help").split())
    assert "white keys C2–B2" in help_text and "C3–E3" in help_text and "C4–E5" in help_text
    page.click("#jam-start")
    page.wait_for_function("bandmateJam.state === 'ready'", timeout=10_000)
    for key, pitch in (("z", 36), ("m", 47), (",", 48), ("/", 52), ("q", 60), ("p", 76)):
        page.keyboard.down(key)
        assert "down" in page.get_attribute(f"#jam-keyboard [data-pitch='{pitch}']", "class")
        page.keyboard.up(key)
    page.click("#jam-stop")
    page.wait_for_function("bandmateJam.state === 'idle'")


def test_the_band_plays_in_the_meter_chosen_and_a_bad_one_says_why(page):
    page.fill("#jam-meter", "7/8")
    page.click("#jam-start")
    page.wait_for_function("bandmateJam.state === 'ready'", timeout=10_000)
    page.evaluate("() => { for (const p of [36, 40, 43]) fakeMidiInput.play([0x90, p, 100]); }")
    page.wait_for_function("document.getElementById('jam-meter-now').textContent === '7/8'")
    page.evaluate("() => { for (const p of [36, 40, 43]) fakeMidiInput.play([0x80, p, 0]); }")
    page.click("#jam-stop")
    page.wait_for_function("bandmateJam.state === 'idle'")

    page.fill("#jam-meter", "4/5")  # two numbers, as the field asks, but no time signature
    page.click("#jam-start")
    page.wait_for_selector("#jam-status.error")
    assert "The meter 4/5 cannot be played" in page.text_content("#jam-status")
    page.fill("#jam-meter", "waltz")  # the page asks for two numbers before it calls
    assert page.eval_on_selector("#jam-meter", "i => !i.checkValidity()")
    page.fill("#jam-meter", "")


def test_the_band_starts_at_the_tempo_typed_and_a_bad_one_says_why(page):
    page.fill("#jam-tempo-bpm", "72")  # pop's own is 112
    page.click("#jam-start")
    page.wait_for_function("bandmateJam.state === 'ready'", timeout=10_000)
    page.evaluate("() => { for (const p of [36, 40, 43]) fakeMidiInput.play([0x90, p, 100]); }")
    page.wait_for_function("document.getElementById('jam-tempo').textContent === '72 BPM'")
    page.evaluate("() => { for (const p of [36, 40, 43]) fakeMidiInput.play([0x80, p, 0]); }")
    page.click("#jam-stop")
    page.wait_for_function("bandmateJam.state === 'idle'")

    page.fill("#jam-tempo-bpm", "19")  # the field holds the server's bounds, so asks first
    assert page.eval_on_selector("#jam-tempo-bpm", "i => !i.checkValidity()")
    # a browser that does not check the field sends what was typed, and the server says why
    page.eval_on_selector("#jam-form", "f => { f.noValidate = true; }")
    try:
        page.click("#jam-start")
        page.wait_for_selector("#jam-status.error")
        assert "Tempo 19 BPM is outside 20-400; give a tempo in that range." in (
            page.text_content("#jam-status")
        )
    finally:
        page.eval_on_selector("#jam-form", "f => { f.noValidate = false; }")
        page.fill("#jam-tempo-bpm", "")
