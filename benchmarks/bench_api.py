"""Benchmark the API under load: ``/api/v1/indicators/<latest>`` and ``/api/v1/status`` with 50 concurrent
clients against a real uvicorn server on loopback (budget: p95 ≤ 50 ms), and the cockpit page ``/`` once.

Set-up: a temporary CITYCARBON_HOME seeded with the Dalian data (``ensure_ready``), an analyst with a read token
and a password (for the cookie login the page needs), ``uvicorn citycarbon.api.app:create_app --factory`` in a
subprocess (1 worker). Load: an asyncio httpx generator, 50 clients each sending its next request as soon as
the previous answer arrived, ``DURATION`` seconds per endpoint. Reported per endpoint: client latency p50/p95,
server time p50/p95 (the ``Server-Timing`` header: time until the response started), throughput.

Baselines in the same run: the first (cold) request of each endpoint, which computes the result from the ledger
(what every request would cost without the per-ledger-version cache), and ``/healthz`` under the same load
(the floor: one migration query + one ledger-version query, no authentication).

Run: ``python benchmarks/bench_api.py [--duration 8]``. Prints the machine and a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

CLIENTS = 50
PASSWORD = "load-Test-passphrase-2024!"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(home: Path) -> tuple[str, int]:
    """Seed the store; an analyst with a read token and a known password. Returns (token, latest year)."""
    from citycarbon.settings import Settings
    from citycarbon.store import ledger, users
    from citycarbon.store.seed import ensure_ready

    settings = replace(Settings.for_home(home), cookie_secure=False)
    db = ensure_ready(settings)
    with db.session() as session:
        user, _ = users.create_user(session, username="bench", role="analyst", actor="bench")
        users.set_password(session, user, PASSWORD, actor="bench")
        token = users.issue_token(session, user, "read", "bench", actor="bench")
        latest = int(ledger.current_frame(session, "balance")["year"].max())
    db.dispose()
    return token, latest


def server_ms(response) -> float | None:
    header = response.headers.get("server-timing", "")
    if "dur=" in header:
        return float(header.split("dur=")[1].split(",")[0])
    return None


async def load(base: str, path: str, headers: dict, duration: float) -> dict:
    import httpx

    client_ms: list[float] = []
    app_ms: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60.0,
                                 trust_env=False) as client:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    response = await client.get(path)
                except httpx.TransportError:
                    errors += 1
                    continue
                client_ms.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    errors += 1
                if (value := server_ms(response)) is not None:
                    app_ms.append(value)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - started
    return {"path": path, "n": len(client_ms), "errors": errors, "rps": len(client_ms) / elapsed,
            "client_p50": percentile(client_ms, 0.5), "client_p95": percentile(client_ms, 0.95),
            "server_p50": percentile(app_ms, 0.5), "server_p95": percentile(app_ms, 0.95)}


def main() -> None:
    import httpx

    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of load per endpoint")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    home = Path(tempfile.mkdtemp(prefix="bench-api-"))
    token, latest = prepare(home)
    port = free_port()
    env = {**os.environ, "CITYCARBON_HOME": str(home), "CITYCARBON_COOKIE_SECURE": "0"}
    env.pop("CITYCARBON_DATABASE_URL", None)
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed after the server stops
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "citycarbon.api.app:create_app", "--factory",
                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                               "--no-access-log"], env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not become healthy")
        paths = [f"/api/v1/indicators/{latest}", "/api/v1/status"]
        cold = {}
        for path in paths:
            start = time.perf_counter()
            response = httpx.get(base + path, headers=auth, timeout=300, trust_env=False)
            cold[path] = ((time.perf_counter() - start) * 1000, server_ms(response), response.status_code)
        rows = [asyncio.run(load(base, path, auth, args.duration)) for path in [*paths, "/healthz"]]
        page = None
        with httpx.Client(base_url=base, trust_env=False, timeout=120) as browser:
            login = browser.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD})
            if login.status_code == 200 and browser.get("/").status_code == 200:
                timings = []
                for _ in range(20):
                    timings.append(server_ms(browser.get("/")) or float("nan"))
                page = (percentile(timings, 0.5), percentile(timings, 0.95))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        print(f"server log: {home / 'server.log'}")
    print(f"\nuvicorn 1 worker on loopback, {CLIENTS} concurrent clients, {args.duration:.0f} s per endpoint; "
          f"load average after: {os.getloadavg()[0]:.1f}\n")
    print("| endpoint | requests | errors | req/s | client p50 | client p95 | server p50 | server p95 |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| `{row['path']}` | {row['n']} | {row['errors']} | {row['rps']:.0f} | {row['client_p50']:.1f} ms | "
              f"{row['client_p95']:.1f} ms | {row['server_p50']:.1f} ms | {row['server_p95']:.1f} ms |")
    print("\n| cold first request (computes from the ledger; = every request without the cache) | client | server |")
    print("|---|---|---|")
    for path, (client, server_time, status) in cold.items():
        print(f"| `{path}` (HTTP {status}) | {client:.0f} ms | {server_time or float('nan'):.0f} ms |")
    if page:
        print(f"\ncockpit page `/` (cookie login, sequential, 20 requests): server p50 {page[0]:.1f} ms, "
              f"p95 {page[1]:.1f} ms")
    else:
        print("\ncockpit page `/`: not available (web package not mounted or login refused)")


if __name__ == "__main__":
    main()
