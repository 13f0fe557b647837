"""Passwords are never printed, whatever form the database URL gives them in (issue 12 §3)."""

from __future__ import annotations

import pytest
from continuous.common.errors import mask_url

SECRET = "s3cr3t"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://bob:{SECRET}@db.example/app", "postgresql://bob:***@db.example/app"),
        (f"postgresql+psycopg://bob:{SECRET}@/app?host=/tmp", "postgresql+psycopg://bob:***@/app?host=/tmp"),
        (f"postgresql://bob:{SECRET}@x@db.example/app", "postgresql://bob:***@db.example/app"),
        (f"postgresql://bob:{SECRET} x@db.example/app", "postgresql://bob:***@db.example/app"),
        (f"postgresql://bob:a@b {SECRET}@db.example/app", "postgresql://bob:***@db.example/app"),
        (
            f"postgresql://db.example/app?user=bob&password={SECRET}",
            "postgresql://db.example/app?user=bob&password=***",
        ),
        (
            f"postgresql://db.example/app?password={SECRET}&sslmode=require",
            "postgresql://db.example/app?password=***&sslmode=require",
        ),
        (f"postgresql:///app?host=/tmp&PASSWORD={SECRET}", "postgresql:///app?host=/tmp&PASSWORD=***"),
        (f"host=db.example password={SECRET} dbname=app", "host=db.example password=*** dbname=app"),
        (f"host=db.example password='{SECRET} x' dbname=app", "host=db.example password=*** dbname=app"),
        (f"postgresql://bob@db.example/app?sslpassword={SECRET}", "postgresql://bob@db.example/app?sslpassword=***"),
        ("postgresql://bob@db.example:5432/app", "postgresql://bob@db.example:5432/app"),
        ("sqlite:////tmp/x/continuous.db", "sqlite:////tmp/x/continuous.db"),
        (
            f"cannot connect to postgresql://bob:{SECRET}@db.example/app: timeout",
            "cannot connect to postgresql://bob:***@db.example/app: timeout",
        ),
    ],
)
def test_every_password_form_is_masked(url: str, shown: str) -> None:
    masked = mask_url(url)
    assert SECRET not in masked
    assert masked == shown


def test_the_cli_never_prints_the_password(tmp_path, monkeypatch) -> None:
    """`continuous db current` with an unreachable URL whose password has an unencoded @ and a space."""
    import subprocess
    import sys
    from pathlib import Path

    exe = str(Path(sys.executable).parent / "continuous")
    for url in (
        f"postgresql+psycopg://bob:{SECRET}@x y@127.0.0.1:1/app",
        f"postgresql+psycopg://bob@127.0.0.1:1/app?password={SECRET}",
        f"postgresql+psycopg:///app?host=127.0.0.1&port=1&password={SECRET}",
    ):
        env = {**__import__("os").environ, "CONTINUOUS_DATABASE_URL": url}
        proc = subprocess.run([exe, "db", "current"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0
        assert SECRET not in proc.stdout + proc.stderr, proc.stderr
        assert "internal error" not in proc.stderr, proc.stderr
