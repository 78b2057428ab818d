"""The deployment files of docs/deploy name things that exist. Container images cannot be
built on the machines these tests run on, so compose.yaml and the Dockerfile are checked for
syntax and for the files they reference; the systemd units and the nginx site are run for real
by test_cluster.py."""

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .units import DEPLOY, ROOT, exec_start, read_environment_file, read_unit

SERVICES = {"web", "worker", "beat", "postgres", "redis", "minio"}
QUEUES = "crm,imports,exports,syncs,webhooks"
IMAGE_ROOT = "/app"  # where the Dockerfile copies the repository


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def referenced_files(command: list[str]) -> list[str]:
    """The arguments of a command that name files of the repository (inside the image)."""
    names = []
    for word in command:
        if word.startswith(IMAGE_ROOT + "/"):
            names.append(word.removeprefix(IMAGE_ROOT + "/"))
        elif re.fullmatch(r"[\w/]+\.py", word):
            names.append(word)
    return names


def test_compose_runs_the_six_services_from_the_image_built_here():
    services = compose()["services"]
    assert set(services) >= SERVICES
    build = services["web"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == ROOT
    assert (context / build["dockerfile"]).is_file()


@pytest.mark.parametrize("service", ["migrate", "web", "worker", "beat"])
def test_compose_commands_name_files_and_modules_that_exist(service):
    command = compose()["services"][service]["command"]
    for name in referenced_files(command):
        assert (ROOT / name).is_file(), f"{service}: {name} does not exist"
    if "-A" in command:
        assert (ROOT / command[command.index("-A") + 1] / "celery.py").is_file()
    if "crm_project.wsgi:application" in command:
        assert (ROOT / "crm_project" / "wsgi.py").is_file()


def test_compose_worker_takes_every_queue():
    command = compose()["services"]["worker"]["command"]
    assert command[command.index("-Q") + 1] == QUEUES


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_copies_files_that_exist():
    copies = [rest for keyword, rest in dockerfile_instructions() if keyword == "COPY"]
    assert copies
    for rest in copies:
        *sources, _destination = shlex.split(rest)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_dockerfile_command_starts_gunicorn_on_files_that_exist():
    (command,) = [rest for keyword, rest in dockerfile_instructions() if keyword == "CMD"]
    words = yaml.safe_load(command)  # the exec form is a JSON array
    assert words[0] == "gunicorn"
    for name in referenced_files(words):
        assert (ROOT / name).is_file(), f"CMD: {name} does not exist"
    module = words[-1].split(":")[0]
    assert (ROOT / (module.replace(".", "/") + ".py")).is_file()


def test_every_unit_reads_the_environment_file_and_runs_a_program_of_the_virtualenv():
    environment = read_environment_file(DEPLOY / "crm.env.example")
    for name in ("crm-web.service", "crm-worker@.service", "crm-beat.service"):
        unit = read_unit(name)
        assert unit.value("EnvironmentFile") == "/etc/crm/crm.env"
        command = exec_start(unit, environment, instance=QUEUES)
        assert Path(command[0]).parent == ROOT / ".venv" / "bin"
        for word in command[1:]:
            if word.startswith(str(ROOT)):
                assert Path(word).exists(), f"{name}: {word} does not exist"


def test_worker_unit_takes_its_queues_from_the_instance_name():
    command = exec_start(read_unit("crm-worker@.service"), {}, instance="imports,exports")
    assert command[command.index("-Q") + 1] == "imports,exports"


def test_environment_example_holds_placeholders_not_secrets():
    environment = read_environment_file(DEPLOY / "crm.env.example")
    for key in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "METRICS_TOKEN"):
        assert environment[key] == "change-me"
    assert environment["DEBUG"] == "false"


def test_nginx_accepts_an_upload_as_large_as_the_import_limit():
    site = (DEPLOY / "nginx-crm.conf").read_text()
    (size,) = re.findall(r"client_max_body_size\s+(\d+)m;", site)
    environment = read_environment_file(DEPLOY / "crm.env.example")
    assert int(size) * 1024 * 1024 == int(environment["IMPORT_MAX_BYTES"])


def installed(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def test_nginx_accepts_the_site_file_as_shipped(tmp_path):
    """`nginx -t` on the site file with only its certificate paths replaced (the cluster test
    runs it with local addresses)."""
    nginx, openssl = installed("nginx"), installed("openssl")
    if not (nginx and openssl):
        message = "needs nginx and openssl (apt-get install nginx openssl)"
        if os.environ.get("CRM_REQUIRE_INTEGRATION") == "1":
            pytest.fail(message)
        pytest.skip(message)
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "1", "-subj", "/CN=crm.example.com"]
        + ["-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = (DEPLOY / "nginx-crm.conf").read_text()
    site = site.replace("/etc/ssl/crm/fullchain.pem", str(certificate))
    site = site.replace("/etc/ssl/crm/privkey.pem", str(key))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
        f"events {{}}\nhttp {{\n{site}\n}}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
