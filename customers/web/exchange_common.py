"""What the import, integrations and settings screens share: a guard by any app's permission."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

# Managers (who may change anyone's bulk jobs) run the integrations page; sales staff do not.
MANAGE_INTEGRATIONS = "integrations.change_importjob"


def requires_perm(permission: str) -> Callable:
    """Signed in (else to the login page) and holding `app_label.codename` (else 403)."""

    def decorate(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return guarded

    return decorate
