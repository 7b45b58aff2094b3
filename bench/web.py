"""The web studio under load: N backing tracks with audio requested at once, /health meanwhile.

Issue 9's target: 20 concurrent generation requests complete without error while `/health`
answers with p99 <= 100 ms. The test suite checks it with MIDI-only jobs (fast); this bench runs
the full jobs (render, automix, master, credentials) on a real `bandmate serve` in its own
process, as a user's studio would, and polls /health every 20 ms until every job has ended.

    .venv/bin/python bench/web.py [--jobs 20] [--bars 8] [--workers 1]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

CSRF = {"X-Bandmate": "1"}
CHART = "| C | Am | F | G | C | Am | Dm7 | G7 |"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--bars", type=int, default=8, help="bars of the chart, repeated")
    parser.add_argument("--workers", type=int, default=1, help="the server's job workers")
    args = parser.parse_args()

    chart = " ".join([CHART] * max(1, args.bars // 8))
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        command = [sys.executable, "-m", "bandmate.cli", "serve", "--port", str(port),
                   "--data-dir", data, "--workers", str(args.workers)]  # fmt: skip
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=30) as client:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        if client.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise SystemExit("the server did not start")
                    time.sleep(0.1)

                def submit(seed: int) -> str:
                    body = {"kind": "backing", "chart": chart, "style": "pop", "tempo": 120,
                            "seed": seed}  # fmt: skip
                    response = client.post("/api/jobs", json=body, headers=CSRF)
                    response.raise_for_status()
                    return response.json()["id"]

                start = time.perf_counter()
                with ThreadPoolExecutor(args.jobs) as pool:
                    ids = list(pool.map(submit, range(args.jobs)))
                latencies = []
                while True:
                    t = time.perf_counter()
                    assert client.get("/health").status_code == 200
                    latencies.append((time.perf_counter() - t) * 1000)
                    jobs = [client.get(f"/api/jobs/{i}").json() for i in ids]
                    if all(j["status"] in ("done", "failed") for j in jobs):
                        break
                    time.sleep(0.02)
                took = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(30)

    done = sum(j["status"] == "done" for j in jobs)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"{args.jobs} backing jobs with audio ({args.bars} bars at 120 BPM, {args.workers} "
        f"worker(s)): {done} done, {args.jobs - done} failed in {took:.1f} s "
        f"({took / args.jobs:.2f} s a job)"
    )
    print(
        f"/health while they ran: {len(latencies)} requests, p50 {statistics.median(latencies):.1f}"
        f" ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms (target p99 <= 100 ms)"
    )
    failures = [j["error"] for j in jobs if j["status"] == "failed"]
    for error in failures[:3]:
        print(f"  failed: {error}")


if __name__ == "__main__":
    main()
