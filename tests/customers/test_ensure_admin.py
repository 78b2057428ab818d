import stat

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.factories import UserFactory

User = get_user_model()


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _ensure_admin(capsys, *args: str) -> str:
    call_command("ensure_admin", *args)
    return capsys.readouterr().out


@pytest.mark.django_db
def test_creates_a_superuser_once_and_stores_the_login_privately(var_dir, capsys):
    out = _ensure_admin(capsys)

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    credentials = var_dir / "admin-credentials.txt"
    stored = dict(line.split(": ", 1) for line in credentials.read_text().splitlines())
    assert stored["username"] == "admin"
    assert admin.check_password(stored["password"])
    assert len(stored["password"]) >= 20
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert stored["password"] in out
    assert "Admin: http://127.0.0.1:8000/admin/" in out


@pytest.mark.django_db
def test_second_call_reprints_the_stored_login_and_keeps_the_password(var_dir, capsys):
    first_out = _ensure_admin(capsys)
    password_hash = User.objects.get(username="admin").password

    second_out = _ensure_admin(capsys)

    assert User.objects.filter(is_superuser=True).count() == 1
    assert User.objects.get(username="admin").password == password_hash
    stored = dict(
        line.split(": ", 1) for line in (var_dir / "admin-credentials.txt").read_text().splitlines()
    )
    assert stored["password"] in first_out and stored["password"] in second_out


@pytest.mark.django_db
def test_existing_user_without_file_is_left_alone_and_told_how_to_reset(var_dir, capsys):
    user = UserFactory(username="admin")
    password_hash = user.password

    out = _ensure_admin(capsys)

    user.refresh_from_db()
    assert user.password == password_hash
    assert not user.is_superuser
    assert "manage.py changepassword admin" in out
    assert not (var_dir / "admin-credentials.txt").exists()


@pytest.mark.django_db
def test_stale_stored_password_is_not_printed_as_valid(var_dir, capsys):
    _ensure_admin(capsys)
    admin = User.objects.get(username="admin")
    admin.set_password("changed-by-hand-1234")
    admin.save()

    out = _ensure_admin(capsys)

    assert "changepassword admin" in out
    assert "password:" not in out


@pytest.mark.django_db
def test_custom_username(var_dir, capsys):
    out = _ensure_admin(capsys, "--username", "root")

    assert User.objects.get(username="root").is_superuser
    assert "username: root" in out


@pytest.mark.django_db
def test_the_login_points_at_the_crm_with_the_admin_url_on_its_own_line(var_dir, capsys):
    out = _ensure_admin(capsys)

    lines = out.splitlines()
    assert "CRM:   http://127.0.0.1:8000/" in lines
    assert "Admin: http://127.0.0.1:8000/admin/" in lines
    assert lines.index("CRM:   http://127.0.0.1:8000/") < lines.index(
        "Admin: http://127.0.0.1:8000/admin/"
    )


@pytest.mark.django_db
def test_the_login_names_the_host_and_port_make_run_serves_on(var_dir, capsys):
    out = _ensure_admin(capsys, "--host", "0.0.0.0", "--port", "8123")

    assert "CRM:   http://0.0.0.0:8123/" in out.splitlines()
    assert "Admin: http://0.0.0.0:8123/admin/" in out.splitlines()
    assert "8000" not in out
