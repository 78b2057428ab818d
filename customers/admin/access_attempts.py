"""The log-in throttle's records (django-axes) in the admin: deleting an access attempt
unlocks its account and address at once (see ``customers.web.login_throttle``)."""

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin

from customers.admin.base import with_permission

admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    """axes' admin, whose clean-up action declared no permission: it deletes attempts, so it
    needs the delete permission."""

    cleanup_expired_attempts = with_permission(
        "delete", AxesAccessAttemptAdmin.cleanup_expired_attempts
    )
