"""The web studio: a local web app and HTTP API in front of the same library functions as the CLI.

- `jobs`: the job queue (SQLite) and its worker threads, the results folder and its quota.
- `kinds`: every kind of job, its parameters (validated before it is queued) and the library
  call it makes, the same one the matching `bandmate` command makes.
- `uploads`: uploaded files, streamed to disk under a size limit and checked by their content.
- `security`: the cross-site request and token checks.
- `app`: the FastAPI application that ties them together, and the single page in `static/`.

Like `cli`, this package is the top layer: it parses, queues and serves, and does no music work.
FastAPI and uvicorn are imported only here, so `bandmate --help` does not pay for them.
"""
