"""`bandmate serve`: refuses to listen beyond this machine without a token."""

from __future__ import annotations

from bandmate.cli import main


def test_a_public_host_without_a_token_is_refused(capsys):
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "--token" in err and "Traceback" not in err


def test_a_bad_port_is_refused(capsys):
    assert main(["serve", "--port", "70000"]) == 2
    assert "not a port" in capsys.readouterr().err


def test_serve_is_listed_in_help(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "--max-upload-mb" in capsys.readouterr().out


def test_a_second_studio_on_the_same_folder_is_one_line(tmp_path):
    """The folder's lock is taken before uvicorn starts, so the refusal is a user error."""
    import subprocess
    import sys

    from bandmate.web.app import create_app

    first = create_app(tmp_path)
    first.state.pool.lock()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bandmate.cli", "serve", "--data-dir", str(tmp_path),
             "--port", "8799"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        first.state.pool.stop()
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Another bandmate studio" in result.stderr
