"""Run in the cluster's environment (``python -m tests.cluster.seed NAME…``): a superuser
with one API key of every scope per NAME, printed as JSON {NAME: key}. One key per client of
the test, since the rate limit counts per key."""

import json
import sys

import django


def main(names: list[str]) -> None:
    django.setup()
    from django.contrib.auth import get_user_model

    from integrations.scopes import ALL_SCOPES
    from integrations.services.api_keys import api_key_create

    user = get_user_model().objects.create_superuser("cluster", "cluster@example.com", None)
    keys = {}
    for name in names:
        _, keys[name] = api_key_create(user=user, name=name, scopes=list(ALL_SCOPES))
    print(json.dumps(keys))


if __name__ == "__main__":
    main(sys.argv[1:])
