"""The project configures itself from the environment: run manage.py as a separate process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from crm_project import dev_secrets

pytestmark = pytest.mark.slow  # each case starts manage.py in a process of its own

BASE_DIR = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean_env = {key: value for key, value in os.environ.items() if key not in PRODUCTION_KEYS}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_KEYS = (
    "DEBUG",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "BLIND_INDEX_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SETTINGS_MODULE",
)


def production_env(tmp_path) -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": ",".join(Fernet.generate_key().decode() for _ in range(2)),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "crm.example.com",
        "DATABASE_URL": "postgres://crm@127.0.0.1:5432/crm",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "CRM_VAR_DIR": str(tmp_path),
    }


def test_deploy_check_is_clean_with_production_variables(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_variables_select_postgres_and_redis(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, len(s.FIELD_ENCRYPTION_KEYS))"
    )
    result = manage("shell", "--no-imports", "-c", code, env=production_env(tmp_path))

    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://127.0.0.1:6379/0",
        "2",
    ]
    assert not (tmp_path / "dev-secrets.json").exists()


def test_debug_off_without_keys_refuses_to_start(tmp_path):
    result = manage("check", env={"DEBUG": "false", "CRM_VAR_DIR": str(tmp_path)})

    assert result.returncode != 0
    assert "SECRET_KEY, FIELD_ENCRYPTION_KEYS, BLIND_INDEX_KEY" in result.stderr
    assert not (tmp_path / "dev-secrets.json").exists()


def test_embedded_default_uses_sqlite_a_filesystem_broker_and_generated_keys(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)"
    )
    result = manage("shell", "--no-imports", "-c", code, env={"CRM_VAR_DIR": str(tmp_path)})

    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://"]
    stored = json.loads((tmp_path / "dev-secrets.json").read_text())
    assert set(stored) == {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"}
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_development_keys_are_generated_once_and_then_reused(tmp_path):
    path = tmp_path / "dev-secrets.json"

    first = dev_secrets.load_or_create(path)
    second = dev_secrets.load_or_create(path)

    assert first == second
    Fernet(first["FIELD_ENCRYPTION_KEYS"].encode())  # a usable key


def test_sqlite_connections_use_wal_and_a_page_cache_sized_by_sqlite_cache_mb(tmp_path):
    code = (
        "from django.db import connection; c = connection.cursor(); "
        "print(*(c.execute(f'PRAGMA {name}').fetchone()[0] "
        "for name in ('journal_mode', 'synchronous', 'cache_size')))"
    )
    default = manage("shell", "--no-imports", "-c", code, env={"CRM_VAR_DIR": str(tmp_path)})
    configured = manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        env={"CRM_VAR_DIR": str(tmp_path), "SQLITE_CACHE_MB": "64"},
    )

    assert default.stdout.split() == ["wal", "1", str(-16 * 1024)], default.stderr
    assert configured.stdout.split() == ["wal", "1", str(-64 * 1024)], configured.stderr
