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


def test_an_upload_limit_that_is_not_a_size_is_refused(capsys):
    """inf and nan ended in an OverflowError or ValueError traceback."""
    for value in ("inf", "nan", "0"):
        assert main(["serve", "--max-upload-mb", value]) == 2
        err = capsys.readouterr().err.strip()
        assert "--max-upload-mb" in err and err.count("\n") == 0


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


def _serve_on(data_dir) -> str:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "bandmate.cli", "serve", "--data-dir", str(data_dir),
         "--port", "8799"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_a_data_folder_that_is_a_file_or_a_damaged_queue_is_one_line(tmp_path):
    """Each ended in a FileExistsError or sqlite3.DatabaseError traceback."""
    (tmp_path / "a-file").write_text("not a folder")
    assert "is a file" in _serve_on(tmp_path / "a-file")
    assert "Not a directory" in _serve_on(tmp_path / "a-file" / "studio")
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / "jobs.sqlite").write_bytes(b"not a database, whatever it was")
    assert "jobs.sqlite: file is not a database" in _serve_on(tmp_path / "damaged")


def test_a_read_only_data_folder_is_one_line(tmp_path):
    import os
    import subprocess

    import pytest

    folder = tmp_path / "studio"
    folder.mkdir(mode=0o555)
    # root writes in any folder its mode forbids, but not in an immutable one (CI runs as root)
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root and subprocess.run(["chattr", "+i", folder], capture_output=True).returncode:
        folder.chmod(0o755)
        pytest.skip("running as root where chattr cannot make a folder read-only")
    try:
        for data_dir in (folder, folder / "new"):
            err = _serve_on(data_dir)
            assert "Permission denied" in err or "Operation not permitted" in err, err
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", folder], check=True)
        folder.chmod(0o755)


def test_a_port_in_use_is_one_line(tmp_path):
    """uvicorn printed the studio's address, then `ERROR: [Errno 98] ... address already in use`,
    and exited 3."""
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bandmate.cli", "serve", "--data-dir", str(tmp_path),
             "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""  # no address of a studio that is not there
    (line,) = result.stderr.strip().splitlines()
    assert f"Port {port} on 127.0.0.1 is in use" in line and "--port" in line
