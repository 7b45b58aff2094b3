"""The studio's request checks: cross-site request forgery, and the access token.

**CSRF.** A page on another site can make the browser send a form post (or a "simple" fetch) to
the studio, with its cookies. Every state-changing request (any method but GET, HEAD and
OPTIONS) to `/api/` must therefore

1. carry the header `X-Bandmate: 1`: a browser lets another origin set a custom header only
   after a CORS preflight, which this server never approves, and an HTML form cannot set one;
2. and, when the browser sent `Origin` (or, lacking it, `Referer`), come from this server's own
   host and port (the `Host` header); `Origin: null` (sandboxed frames, some redirects) is
   refused.

Either failure is a 403 with a one-sentence reason. The check needs no per-session state, so
it works the same for the page, for scripts using the API and for every worker.

**Token.** When the server listens beyond this machine, `serve` requires a token. Every `/api/`
request must then carry `Authorization: Bearer <token>` or the `bandmate_token` cookie, which
the page gets by being opened once as `/?token=<token>` (HttpOnly, SameSite=Strict). Tokens are
compared in constant time, as UTF-8 bytes (`same_token`), so that any text a request carries is
simply a wrong token. `/health`, the page and its static files are open: they hold no data.

**Body size.** Request bodies other than uploads (job parameters) are read whole by FastAPI, so
they must declare a length of at most `MAX_JSON_BYTES`; uploads are counted as they stream.
"""

from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_JSON_BYTES = 1024 * 1024  # job parameters: a long chart is a few kB
UPLOAD_PATH = "/api/uploads"  # streamed with its own limit (see `bandmate.web.uploads`)
CSRF_HEADER = "x-bandmate"
TOKEN_COOKIE = "bandmate_token"


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def csrf_problem(method: str, headers: dict[str, str]) -> str | None:
    """Why a request must be refused as possibly cross-site, or None when it may go ahead."""
    if method in SAFE_METHODS:
        return None
    if headers.get(CSRF_HEADER) != "1":
        return "State-changing requests must carry the header 'X-Bandmate: 1'."
    host = headers.get("host", "").lower()
    origin = headers.get("origin")
    source = origin if origin is not None else headers.get("referer")
    if source is None:
        return None  # not a browser, or a browser that sent neither: the header suffices
    if source == "null" or urlsplit(source).netloc.lower() != host:
        return "Cross-site requests are refused; use the studio's own page or send no Origin."
    return None


def same_token(given: str, expected: str) -> bool:
    """Whether `given` is `expected`, in constant time. `hmac.compare_digest` refuses non-ASCII
    str (a TypeError), so both are compared as bytes; surrogateescape keeps lone surrogates
    (undecodable query bytes) encodable."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def token_ok(expected: str, headers: dict[str, str]) -> bool:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and same_token(auth[7:].strip(), expected):
        return True
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:
        return False
    given = cookie.get(TOKEN_COOKIE)
    return given is not None and same_token(given.value, expected)


class SecurityMiddleware:
    """ASGI middleware applying the checks above to `/api/` requests."""

    def __init__(self, app, token: str | None = None):
        self.app = app
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        if self.token is not None and not token_ok(self.token, headers):
            return await _refuse(
                send,
                401,
                "This studio needs its token: open the page as /?token=... or send "
                "'Authorization: Bearer <token>'.",
            )
        problem = csrf_problem(scope["method"], headers)
        if problem:
            return await _refuse(send, 403, problem)
        if scope["method"] not in SAFE_METHODS and scope["path"] != UPLOAD_PATH:
            # other bodies are read whole by FastAPI, so their size is checked first
            length = headers.get("content-length", "")
            if not length.isdigit() and "chunked" in headers.get("transfer-encoding", ""):
                return await _refuse(send, 411, "Send the request with a Content-Length.")
            if length.isdigit() and int(length) > MAX_JSON_BYTES:
                return await _refuse(send, 413, "The request body is over 1 MB; send less.")
        return await self.app(scope, receive, send)


async def _refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
