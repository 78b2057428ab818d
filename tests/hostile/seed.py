"""Run inside the hostile-input server's environment (``python -m tests.hostile.seed``): a
superuser with an API key of every scope and a logged-in web session, printed as JSON.

A superuser reaches every door (custom field definitions included) with one credential."""

import json
from importlib import import_module

import django


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    from integrations.scopes import ALL_SCOPES
    from integrations.services.api_keys import api_key_create

    user = get_user_model().objects.create_superuser("hostile", "hostile@example.com", None)
    _, raw_key = api_key_create(user=user, name="hostile-input suite", scopes=list(ALL_SCOPES))
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # The backend that logs users in; django-axes' own one, listed first, only counts failures.
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    print(
        json.dumps({"username": user.username, "api_key": raw_key, "session": session.session_key})
    )


if __name__ == "__main__":
    main()
