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
