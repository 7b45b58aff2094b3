"""End to end in headless Chromium: generate a backing track on the page, play it, see the roll.

Uses Debian's chromium (`/usr/bin/chromium`, installed by `make test`) through Playwright, against
a real uvicorn server on a free port; skipped, saying why, when that browser is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import running_server

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("studio")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def page(browser, server):
    page = browser.new_page()
    page.goto(server + "/")
    return page


def test_generate_play_and_see_a_backing_track(page):
    page.wait_for_selector("#style option[value='pop']", state="attached")
    page.fill("#chart", "| C | G |")
    page.select_option("#style", "pop")
    page.fill("#tempo", "132")
    page.uncheck("#intro")
    page.uncheck("#ending")
    page.click("#generate")
    page.wait_for_selector("#backing-result:not([hidden])", timeout=60_000)
    status = page.text_content("#backing-status")
    assert status.startswith("Done"), status

    # the player has the master and plays it
    page.wait_for_function("document.getElementById('player').readyState >= 2", timeout=20_000)
    assert page.eval_on_selector("#player", "a => a.duration") > 3.0
    page.eval_on_selector("#player", "a => a.play()")
    page.wait_for_function("document.getElementById('player').currentTime > 0.3", timeout=10_000)

    # the piano roll is drawn: some pixels differ from the background
    lit = page.eval_on_selector(
        "#pianoroll",
        """c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let lit = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] > 100 || d[i + 1] > 100) lit++;
            return lit;
        }""",
    )
    assert lit > 500

    # download links for MIDI, WAV, stems and the manifest
    links = page.eval_on_selector_all("#downloads a", "as => as.map(a => a.textContent)")
    assert {"song.mid", "master.wav", "mix.wav", "manifest.json"} <= set(links)
    assert any(name.startswith("stems/") for name in links)


def test_a_bad_chart_shows_the_librarys_sentence(page):
    page.fill("#chart", "| C | Hm7 |")
    page.click("#generate")
    page.wait_for_selector("#backing-status.error")
    assert "Hm7" in page.text_content("#backing-status")


def test_master_an_uploaded_mix_and_see_before_and_after(page, tmp_path):
    from tests.web.conftest import wav_bytes

    mix = tmp_path / "my mix.wav"
    mix.write_bytes(wav_bytes(seconds=3.0))
    reference = tmp_path / "a record I like.wav"
    reference.write_bytes(wav_bytes(seconds=3.0))
    page.set_input_files("#master-file", str(mix))
    page.set_input_files("#master-reference", str(reference))
    page.fill("#target-lufs", "-16")
    page.fill("#ceiling-dbtp", "-2")
    page.click("#master-go")
    page.wait_for_selector("#master-result:not([hidden])", timeout=30_000)
    rows = page.eval_on_selector_all(
        "#master-table tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
    )
    loudness = next(r for r in rows if r[0].startswith("Integrated"))
    assert abs(float(loudness[2]) - -16) < 1.0
    assert float(loudness[1]) != float(loudness[2])
    peak = next(r for r in rows if r[0].startswith("True peak"))
    assert float(peak[2]) <= -1.9  # under the ceiling asked for
    # the before/after plots (loudness over time, octave-band spectrum) are shown
    page.wait_for_function(
        "() => { const i = document.getElementById('master-plot');"
        " return i.complete && i.naturalWidth > 400; }",
        timeout=10_000,
    )


def test_master_fields_left_empty_take_the_defaults(page, tmp_path):
    """An emptied field was sent as 0: a target of 0 LUFS and an intensity of 0."""
    from tests.web.conftest import wav_bytes

    mix = tmp_path / "mix.wav"
    mix.write_bytes(wav_bytes(seconds=3.0))
    page.set_input_files("#master-file", str(mix))
    page.set_input_files("#master-reference", [])
    for field in ("#target-lufs", "#ceiling-dbtp", "#master-intensity"):
        page.fill(field, "")
    page.eval_on_selector("#master-status", "e => { e.textContent = ''; }")  # an earlier Done.
    page.click("#master-go")
    page.wait_for_selector("#master-status:text('Done.')", timeout=30_000)
    rows = page.eval_on_selector_all(
        "#master-table tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
    )
    loudness = next(r for r in rows if r[0].startswith("Integrated"))
    assert abs(float(loudness[2]) - -14) < 1.0  # the default target


def test_write_a_melody_over_a_chart_and_see_its_notes(page):
    page.select_option("#compose-kind", "melody")
    page.fill("#compose-chart", "| C | Am | F | G7 |")
    page.click("#compose-go")
    page.wait_for_selector("#compose-result:not([hidden])", timeout=30_000)
    assert page.text_content("#compose-status").startswith("Done:")
    links = page.eval_on_selector_all("#compose-downloads a", "as => as.map(a => a.textContent)")
    assert "song.mid" in links


def test_mix_uploaded_stems(page, tmp_path):
    from tests.web.conftest import wav_bytes

    paths = []
    for name in ("bass.wav", "drums.wav"):
        (tmp_path / name).write_bytes(wav_bytes(seconds=2.0))
        paths.append(str(tmp_path / name))
    page.set_input_files("#mix-files", paths)
    page.click("#mix-go")
    page.wait_for_selector("#mix-result:not([hidden])", timeout=30_000)
    links = page.eval_on_selector_all("#mix-downloads a", "as => as.map(a => a.textContent)")
    assert {"mix.wav", "mix.json", "mix.png"} <= set(links)
    page.wait_for_function(
        "() => { const i = document.getElementById('mix-plot');"
        " return i.complete && i.naturalWidth > 400; }",
        timeout=10_000,
    )


def test_mix_with_a_level_set_for_one_stem(page, tmp_path):
    """The mixer undoes the gain a stem comes in at: the page's level is the user's say."""
    from bandmate.mix.balance import ROLES
    from tests.web.test_api import tone_wav

    paths = []
    for name, freq_hz in (("bass.wav", 80), ("piano.wav", 440)):
        (tmp_path / name).write_bytes(tone_wav(freq_hz))
        paths.append(str(tmp_path / name))
    page.set_input_files("#mix-files", paths)
    # a group per stem, named by its file, with the mixer's roles to choose from
    piano = page.get_by_role("group", name="piano.wav")
    assert page.get_by_role("group", name="bass.wav").is_visible()
    roles = piano.get_by_label("Role").locator("option")
    assert roles.evaluate_all("os => os.map(o => o.value)") == ["", *ROLES]
    piano.get_by_label("Level (dB under the loudest)").fill("-9")
    page.eval_on_selector("#mix-status", "e => { e.textContent = ''; }")  # an earlier Done.
    page.click("#mix-go")
    page.wait_for_selector("#mix-status:text('Done.')", timeout=30_000)
    url = page.get_attribute("#mix-downloads a:text-is('mix.json')", "href")
    report = page.evaluate("async url => (await fetch(url)).json()", url)
    stems = {s["name"]: s for s in report["stems"]}
    after = {name: s["loudness_after_lufs"] for name, s in stems.items()}
    assert after["02-piano.wav"] - max(after.values()) == pytest.approx(-9, abs=0.5)
    assert [s["level_from"] for s in stems.values()] == ["model", "given"]
    assert [s["role_from"] for s in stems.values()] == ["name", "name"]  # left on auto


def _queue_a_backing(page, url: str) -> str:
    """Ask the studio at `url` (with no worker) for a two-bar backing track and wait for the page
    to say it is queued; returns the JavaScript expression of the page's status text."""
    page.goto(url + "/")
    page.wait_for_selector("#style option[value='pop']", state="attached")
    page.fill("#chart", "| C | G |")
    page.fill("#tempo", "132")
    page.uncheck("#intro")
    page.uncheck("#ending")
    page.click("#generate")
    status = "document.getElementById('backing-status').textContent"
    page.wait_for_function(f"{status}.startsWith('Queued')")
    return status


def test_a_job_in_flight_through_a_studio_restart_is_followed_to_done(browser, tmp_path):
    """The queue keeps a job through a restart, and so must the page: it said 'Failed to fetch'
    the moment the studio went down and stopped following a job that went on to finish."""
    import contextlib

    data = tmp_path / "studio"
    with contextlib.ExitStack() as first:
        url = first.enter_context(running_server(data, workers=0))  # the job stays queued
        page = browser.new_page()
        try:
            status = _queue_a_backing(page, url)
            first.close()  # the studio goes down with the job queued
            # (waits generous enough for a machine busy with other work)
            page.wait_for_function(f"{status}.includes('not answering')", timeout=30_000)
            port = int(url.rsplit(":", 1)[1])
            with running_server(data, port=port):  # and comes back, with a worker
                page.wait_for_selector("#backing-result:not([hidden])", timeout=120_000)
                assert page.text_content("#backing-status").startswith("Done")
        finally:
            page.close()


def test_a_poll_that_gets_no_answer_is_asked_again(browser, tmp_path):
    """A connection to a studio going down can hang rather than fail: a poll that never came
    back left the page saying 'Queued…' for good (a fresh-clone CI run waited 30 s for it to
    say the studio was not answering)."""
    with running_server(tmp_path / "studio", workers=0) as url:  # the job stays queued
        page = browser.new_page()
        try:
            status = _queue_a_backing(page, url)
            stalled = []
            page.route("**/api/jobs/*", lambda route: stalled.append(route))  # held, unanswered
            page.wait_for_function(f"{status}.includes('not answering')", timeout=30_000)
            assert stalled
            page.unroute("**/api/jobs/*")
            page.wait_for_function(f"{status}.startsWith('Queued')", timeout=30_000)
        finally:
            page.close()


def _posted_jobs(page) -> list[dict]:
    """The bodies of the page's POST /api/jobs requests from now on (a list that grows)."""
    import json

    posted = []
    page.on(
        "request",
        lambda r: (
            posted.append(json.loads(r.post_data))
            if r.method == "POST" and r.url.endswith("/api/jobs")
            else None
        ),
    )
    return posted


def test_a_double_click_on_write_queues_one_job(browser, server):
    """The compose, mix and master buttons stayed enabled: a double-click queued the job twice."""
    page = browser.new_page()
    try:
        page.goto(server + "/")
        posted = _posted_jobs(page)
        page.select_option("#compose-kind", "melody")
        page.fill("#compose-chart", "| C | G |")
        page.dblclick("#compose-go")
        page.wait_for_selector("#compose-result:not([hidden])", timeout=30_000)
        assert len(posted) == 1, posted
        assert "style" not in posted[0]  # auto: the server's default, folk, as the CLI's
    finally:
        page.close()


def test_a_failed_job_shows_its_reason_and_not_the_last_jobs_results(browser, server, tmp_path):
    """After a job that worked, one that failed showed its reason under the earlier job's
    downloads and piano roll, as if they were its own."""
    from tests.web.conftest import midi_bytes

    page = browser.new_page()
    try:
        page.goto(server + "/")
        posted = _posted_jobs(page)
        tune = tmp_path / "tune.mid"
        tune.write_bytes(midi_bytes())
        page.select_option("#compose-kind", "continue")
        page.set_input_files("#compose-file", str(tune))
        page.click("#compose-go")
        page.wait_for_selector("#compose-result:not([hidden])", timeout=30_000)
        assert "style" not in posted[-1]  # auto: the likeliest style, as `bandmate continue`
        broken = tmp_path / "broken.mid"
        broken.write_bytes(midi_bytes()[:20])
        page.set_input_files("#compose-file", str(broken))
        page.click("#compose-go")
        page.wait_for_selector("#compose-status.error", timeout=30_000)
        assert page.text_content("#compose-status") == (
            "'broken.mid' is a truncated MIDI file; it ends in the middle."
        )
        assert page.is_hidden("#compose-result")
    finally:
        page.close()


def test_suggest_chords_for_a_melody_and_use_one_for_a_backing_track(browser, server, tmp_path):
    from bandmate.theory.chart import parse_chart
    from tests.web.test_api import g_major_tune_bytes

    page = browser.new_page()
    try:
        page.goto(server + "/")
        posted = _posted_jobs(page)
        tune = tmp_path / "tune.mid"
        tune.write_bytes(g_major_tune_bytes())
        page.fill("#key", "D")  # a key left there would move the chart out of its own
        page.set_input_files("#chords-file", str(tune))
        page.fill("#chords-count", "3")
        # whether the button was disabled while the job ran, recorded as it happens: a chords
        # job can finish before a check after the click looks, and the check then failed
        page.eval_on_selector(
            "#chords-go",
            """b => { window.chordsGoDisabled = false;
                new MutationObserver(() => { if (b.disabled) window.chordsGoDisabled = true; })
                    .observe(b, { attributes: true }); }""",
        )
        page.click("#chords-go")
        page.wait_for_selector("#chords-result:not([hidden])", timeout=30_000)
        assert page.text_content("#chords-status") == "Done: 3 suggestions."
        assert page.evaluate("window.chordsGoDisabled")  # while the job ran
        assert page.is_enabled("#chords-go")
        assert posted[-1]["kind"] == "chords" and "style" not in posted[-1]
        charts = page.eval_on_selector_all("#chords-list code", "cs => cs.map(c => c.textContent)")
        assert len(charts) == 3 and charts[0].startswith("(key: G) |")
        assert page.is_hidden("#chords-warning")

        page.get_by_role("button", name="Use for a backing track").nth(1).click()
        assert page.input_value("#chart") == charts[1]
        assert page.input_value("#key") == ""
        page.wait_for_function(
            "() => { const r = document.getElementById('backing').getBoundingClientRect();"
            " return r.top >= -1 && r.top < window.innerHeight / 2; }",
            timeout=5_000,
        )
        assert parse_chart(page.input_value("#chart")).bars
    finally:
        page.close()


def test_cancel_a_queued_backing_track_on_the_page(browser, tmp_path):
    """A job in progress had no way to stop it. Here the job stays queued (no worker), so the
    button's whole course is seen whatever the machine's load."""
    import httpx

    with running_server(tmp_path / "studio", workers=0) as url:
        page = browser.new_page()
        try:
            created = []
            page.on(
                "response",
                lambda r: (
                    created.append(r.json()["id"])
                    if r.request.method == "POST" and r.url.endswith("/api/jobs")
                    else None
                ),
            )
            page.goto(url + "/")
            page.wait_for_selector("#style option[value='pop']", state="attached")
            page.fill("#chart", "| C | G |")
            page.click("#generate")
            page.wait_for_selector("#backing-cancel:not([hidden])", timeout=30_000)
            page.click("#backing-cancel")
            status = "document.getElementById('backing-status').textContent"
            page.wait_for_function(f"{status} === 'Cancelled.'", timeout=30_000)
            assert not page.eval_on_selector(
                "#backing-status", "s => s.classList.contains('error')"
            )
            assert page.is_hidden("#backing-cancel") and page.is_hidden("#backing-result")
            assert page.is_enabled("#generate")
            assert len(created) == 1
            job = httpx.get(f"{url}/api/jobs/{created[0]}", timeout=10).json()
            assert job["status"] == "cancelled"
        finally:
            page.close()
