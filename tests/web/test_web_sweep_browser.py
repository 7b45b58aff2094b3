"""In headless Chromium: a page reloaded while its job waits follows the job again.

The job ran on in the studio, but the reloaded page had forgotten it: an empty status, no Cancel
button and its results out of reach. The studio here has no workers, so the job stays queued for
as long as the test needs, whatever the machine's speed.
"""

from __future__ import annotations

import pytest

from tests.web.conftest import running_server
from tests.web.test_browser import CHROMIUM, browser  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed"
)


def test_a_page_reloaded_during_a_job_follows_it_again(browser, tmp_path):  # noqa: F811
    with running_server(tmp_path, workers=0) as url:
        page = browser.new_page()
        try:
            page.goto(url + "/")
            page.wait_for_selector("#style option[value='pop']", state="attached")
            page.fill("#chart", "| C | G |")
            page.click("#generate")
            page.wait_for_function(
                "document.getElementById('backing-status').textContent === 'Queued…'"
                " && !document.getElementById('backing-cancel').hidden"
            )
            page.reload()
            # followed again: its state, its Cancel button, and the form busy with it
            page.wait_for_function(
                "document.getElementById('backing-status').textContent === 'Queued…'"
                " && !document.getElementById('backing-cancel').hidden",
                timeout=10_000,
            )
            assert page.is_disabled("#generate")
            page.click("#backing-cancel")
            page.wait_for_function(
                "document.getElementById('backing-status').textContent === 'Cancelled.'",
                timeout=10_000,
            )
            assert _jobs(tmp_path) == ["cancelled"]
            # a job that has ended is not followed again at the next load
            page.reload()
            page.wait_for_selector("#style option[value='pop']", state="attached")
            assert page.text_content("#backing-status") == ""
            assert page.is_enabled("#generate")
        finally:
            page.close()


def _jobs(data_dir) -> list[str]:
    import sqlite3

    with sqlite3.connect(data_dir / "jobs.sqlite") as db:
        return [status for (status,) in db.execute("SELECT status FROM jobs")]
