"""A real S3-speaking server on loopback for the shared-storage tests: moto's standalone server
in a process of its own, reached over HTTP by boto3 exactly as a production store would be."""

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from crm_project.storage_url import default_storage

REGION = "us-east-1"
ACCESS_KEY_ID = "test-access-key"
SECRET_ACCESS_KEY = "test-secret-key"  # moto accepts any pair; these only need to be sent
START_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def new_bucket(self) -> str:
        name = f"crm-test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(entry["Key"] for entry in listed.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def storage_url(self, bucket: str) -> str:
        return f"s3://{bucket}?endpoint_url={self.endpoint_url}&region_name={REGION}"

    def storage(self, bucket: str) -> dict[str, Any]:
        """STORAGES["default"] for `bucket`, as STORAGE_URL would make it, with the keys."""
        storage = default_storage(self.storage_url(bucket))
        storage["OPTIONS"].update(access_key=ACCESS_KEY_ID, secret_key=SECRET_ACCESS_KEY)
        return storage

    def environment(self, bucket: str) -> dict[str, str]:
        """What a process started by a test needs to use `bucket` as its store."""
        return {
            "STORAGE_URL": self.storage_url(bucket),
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_s3_server(log_path: Path) -> Iterator[S3Server]:
    """Start the server on a free loopback port and stop it afterwards; a server that does not
    answer within START_TIMEOUT_SECONDS fails with its log rather than hanging the run."""
    port = free_loopback_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(process, port, log_path)
        yield S3Server(endpoint_url=f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_listening(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The S3 test server exited:\n{log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(
        f"The S3 test server did not listen within {START_TIMEOUT_SECONDS} s:\n"
        f"{log_path.read_text()}"
    )
