"""The cluster test (marker `cluster`) runs only under `make test-cluster` (`-m cluster`):
`make test` and `make test-integration` leave it out, since it starts some fifteen processes
and runs for minutes. test_deploy_files.py has no marker and runs everywhere."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .topology import Cluster

CLUSTER_MODULES = {"test_cluster.py"}


def pytest_collection_modifyitems(config, items):
    selected, deselected = [], []
    wanted = "cluster" in (config.getoption("-m") or "")
    for item in items:
        if Path(item.path).name in CLUSTER_MODULES:
            item.add_marker(pytest.mark.cluster)
            item.add_marker(pytest.mark.slow)
            if not wanted:
                deselected.append(item)
                continue
        selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """The whole cluster, torn down whatever happens; its logs are kept when
    CRM_CLUSTER_KEEP_LOGS names a folder (CI uploads them)."""
    tmp = Path(tempfile.mkdtemp(prefix="crm-cluster-"))
    cluster = Cluster(tmp)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        keep = os.environ.get("CRM_CLUSTER_KEEP_LOGS")
        if keep:
            shutil.copytree(cluster.logs, Path(keep), dirs_exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
