"""Settings for benchmark servers only: the real settings, with the naive baseline API mounted
beside the real one (``bench.urls``). The app itself never routes to ``bench``."""

from crm_project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
