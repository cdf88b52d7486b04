"""``citycarbon serve``: run the platform (API + web cockpit) with uvicorn.

On start the database is migrated and, on first start, seeded with the reference city
(:func:`citycarbon.services.admin.first_start`). When no administrator exists yet, one is created
(``admin``) and its one-time password is printed ONCE; it must be changed at first login (and an admin must
enrol in two-factor login when ``CITYCARBON_REQUIRE_ADMIN_TOTP`` is on). ``--check`` starts the server,
asks ``/healthz`` once and exits (0 healthy, 1 not): a smoke test for deployments and CI.
"""

from __future__ import annotations

import getpass
import threading
import time
from typing import Annotated

import typer

from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def prepare(settings) -> dict:
    """Migrate + seed, then create the first admin when there is none (:func:`citycarbon.services.admin.first_start`);
    returns what happened (the one-time password under ``one_time_password`` only when an admin was created now)."""
    from citycarbon.services.admin import first_start

    return first_start(settings, _actor()).to_dict()


def _announce(info: dict, host: str, port: int, cookie_secure: bool) -> None:
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    scheme = "https" if cookie_secure and shown != "localhost" else "http"
    typer.echo(f"citycarbon: database {info['database']} at migration {info['migration']}")
    typer.echo(f"citycarbon: log in at {scheme}://{shown}:{port}/  (API: {scheme}://{shown}:{port}/api/v1, "
               f"health: /healthz)")
    if info.get("admin_created"):
        typer.echo("citycarbon: first start — administrator created:")
        typer.echo(f"    username: {info['admin_username']}")
        typer.echo(f"    one-time password: {info['one_time_password']}")
        typer.echo("    (shown only now; change it at first login. Lost it? 'citycarbon users create-admin --reset')")


def check(host: str, port: int, timeout: float = 60.0) -> dict:
    """Start uvicorn in a thread on ``host:port``, GET /healthz, stop; returns the health document."""
    import httpx
    import uvicorn

    from citycarbon.api.app import create_app

    config = uvicorn.Config(create_app(), host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {host}:{port}")
            time.sleep(0.05)
        answer = httpx.get(f"http://{host}:{port}/healthz", timeout=10.0, trust_env=False)
        return {"status_code": answer.status_code, **answer.json()}
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option("--host", help="address to listen on (nginx in front)")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port")] = 8000,
        workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="uvicorn worker processes")] = 1,
        proxy_headers: Annotated[bool, typer.Option(
            "--proxy-headers/--no-proxy-headers",
            help="trust X-Forwarded-For/-Proto from --forwarded-allow-ips (behind nginx)")] = False,
        forwarded_allow_ips: Annotated[str, typer.Option("--forwarded-allow-ips",
                                                         help="proxy addresses to trust")] = "127.0.0.1",
        check_only: Annotated[bool, typer.Option("--check", help="start, answer /healthz once, exit")] = False,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Start the platform (API + cockpit) with uvicorn; first start migrates, seeds and creates the admin."""
        from citycarbon.settings import Settings

        try:
            settings = Settings.from_env()
            info = prepare(settings)
        except Exception as error:  # a broken database URL or migration: say so and exit 2
            fail(error)
            return
        _announce(info, host, port, settings.cookie_secure)
        if check_only:
            try:
                health = check(host, port)
            except (RuntimeError, OSError) as error:
                fail(error, code=1)
                return
            emit(health, fmt, rows=[{k: v for k, v in health.items()}], title="health")
            if health.get("status_code") != 200:
                raise typer.Exit(1)
            return
        import uvicorn

        uvicorn.run("citycarbon.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                    proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips, log_level="warning",
                    access_log=False, server_header=False)
