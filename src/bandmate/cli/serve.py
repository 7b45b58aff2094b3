"""`bandmate serve`: the web studio (the HTTP API and its page) on this machine."""

from __future__ import annotations

import errno

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="run the web studio: backing tracks, mastering and more in the browser",
        description="Serve the web studio and its HTTP API (OpenAPI at /openapi.json). Jobs are "
        "kept in DATA_DIR (a SQLite queue, uploads and results) and survive a restart. It "
        "listens on this machine only unless --host says otherwise, and then a --token is "
        "required: open the page once as http://HOST:PORT/?token=TOKEN.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=8765,
        help="port to listen on (default 8765; 0 takes a free one, printed at start-up)",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="jobs, uploads and results (default: $BANDMATE_HOME/studio or "
        "~/.local/share/bandmate/studio)",
    )
    p.add_argument(
        "--max-upload-mb", type=float, default=200, help="largest upload accepted (default 200)"
    )
    p.add_argument("--token", help="require this token (needed when --host is not local)")
    p.add_argument(
        "--workers", type=int, default=1, help="jobs run at once (default 1: a job uses every core)"
    )
    p.set_defaults(run=run)


def default_data_dir():
    """`$BANDMATE_HOME/studio`, else under `$XDG_DATA_HOME` or `~/.local/share` (as the ledger)."""
    import os
    from pathlib import Path

    home = os.environ.get("BANDMATE_HOME")
    if home:
        return Path(home).expanduser() / "studio"
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data).expanduser() / "bandmate" / "studio"


def check_settings(args) -> None:
    from bandmate.errors import UserError

    if args.host not in LOCAL_HOSTS and not args.token:
        raise UserError(
            f"Listening on {args.host} lets other machines in; give --token SECRET (or use "
            "--host 127.0.0.1)."
        )
    if not 0 <= args.port <= 65535:
        raise UserError(
            f"--port {args.port} is not a port; give a number from 1 to 65535 (or 0 for a free "
            "one)."
        )
    if not 0 < args.max_upload_mb < float("inf"):  # nan and inf too: a size is counted in bytes
        raise UserError(f"--max-upload-mb must be a number more than 0, not {args.max_upload_mb}.")
    if not 1 <= args.workers <= 64:
        raise UserError("--workers must be from 1 to 64.")


def listen(host: str, port: int):
    """A socket listening on `host`:`port` (0: a port the system picks), bound here rather than by
    uvicorn: a port in use is one sentence before anything is printed (uvicorn printed the
    studio's address, then an error line, and exited 3), and the address printed is the one
    bound. SO_REUSEADDR, as uvicorn sets it: a restarted studio takes its port back at once,
    past the closed connections a killed one left in TIME_WAIT."""
    import socket

    from bandmate.errors import UserError

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as e:  # socket.gaierror: a name that does not resolve
        raise UserError(f"Cannot listen on {host!r} ({e.strerror or e}); check --host.") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise UserError(
                f"Port {port} on {host} is in use (another studio, or another program); give "
                "another --port, or 0 for a free one."
            ) from None
        raise UserError(
            f"Cannot listen on {host} port {port} ({e.strerror or e}); give another --port or "
            "--host."
        ) from None
    return sock


def run(args) -> int:
    check_settings(args)
    import uvicorn

    from bandmate.web.app import create_app

    data_dir = args.data_dir or default_data_dir()
    app = create_app(
        data_dir, max_upload_mb=args.max_upload_mb, token=args.token, workers=args.workers
    )
    # one studio per data folder: a second one is refused here in one line (under uvicorn the
    # same refusal would surface as a failed start-up with a traceback)
    app.state.pool.lock()
    sock = listen(args.host, args.port)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    # flushed: a script (or a test) reading the address through a pipe needs it now
    print(f"bandmate studio on http://{host}:{port}/ (data in {data_dir})", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    return 0
