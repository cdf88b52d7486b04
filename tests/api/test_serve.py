"""``citycarbon serve --check`` in a subprocess on a free port: migrates/seeds, creates the first admin and
prints its one-time password once, answers /healthz, exits 0; a second start creates no second admin."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

from citycarbon.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_check(home, port: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "CITYCARBON_HOME": str(home), "CITYCARBON_COOKIE_SECURE": "0"}
    env.pop("CITYCARBON_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "citycarbon", "serve", "--check", "--host", "127.0.0.1", "--port",
                           str(port), "--format", "json"], env=env, capture_output=True, text=True, timeout=240)


def test_serve_check_starts_answers_health_and_prints_the_admin_password_once(tmp_path, tmp_path_factory):
    from tests import db_fixtures

    template = db_fixtures._sqlite_template("seeded", tmp_path_factory, db_fixtures._seed)
    home = Settings.for_home(tmp_path / "home")
    home.ensure_home()
    shutil.copyfile(template, home.home / "citycarbon.db")

    first = _serve_check(home.home, _free_port())
    assert first.returncode == 0, first.stderr[-2000:]
    assert "one-time password:" in first.stdout and "username: admin" in first.stdout
    health = json.loads(first.stdout[first.stdout.index("{"):])
    assert health["status_code"] == 200 and health["status"] == "ok" and health["migration_current"]

    second = _serve_check(home.home, _free_port())
    assert second.returncode == 0, second.stderr[-2000:]
    assert "one-time password" not in second.stdout
