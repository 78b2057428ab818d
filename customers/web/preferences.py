"""Where the UI keeps a user's language: the database (lasting) and the session (fast)."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from customers.models import UserPreference

SESSION_KEY = "crm_language"
_SUPPORTED = {code for code, _ in settings.LANGUAGES}


def session_language(request: HttpRequest) -> str:
    session = getattr(request, "session", None)
    if session is None or not request.user.is_authenticated:
        return ""
    return session.get(SESSION_KEY, "")


def language_set(*, request: HttpRequest, language: str) -> str:
    """Store the user's choice ("" follows the browser again). Returns what was stored."""
    language = language if language in _SUPPORTED else ""
    if request.user.is_authenticated:
        UserPreference.objects.update_or_create(user=request.user, defaults={"language": language})
        request.session[SESSION_KEY] = language
    return language


@receiver(user_logged_in, dispatch_uid="crm_web_language_on_login")
def _load_language(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    preference = UserPreference.objects.filter(user=user).values_list("language", flat=True)
    request.session[SESSION_KEY] = preference.first() or ""
