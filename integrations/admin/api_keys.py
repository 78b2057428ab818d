"""Admin for partner API keys: see and revoke them; the stored hash is never shown."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integrations.models import ApiKey
from integrations.services import api_keys

_FIELDS = (
    "name",
    "user",
    "prefix",
    "scope_list",
    "created_at",
    "expires_at",
    "revoked_at",
    "last_used_at",
)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = _FIELDS
    list_filter = ("revoked_at", "expires_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("name", "=prefix", "user__username")
    fields = _FIELDS
    readonly_fields = _FIELDS  # key_hash is in neither list: it never reaches a page
    actions = ["revoke_selected"]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Allowed on the list (for the revoke action), read-only on a key's own page.
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description=_("Revoke selected keys"), permissions=["change"])
    def revoke_selected(self, request, queryset) -> None:
        """Only the keys this user may revoke (their own; any, for a superuser); the others
        are counted back, not revoked."""
        revoked = refused = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            if not api_keys.api_key_may_revoke(api_key=api_key, user=request.user):
                refused += 1
                continue
            api_keys.api_key_revoke(api_key=api_key, revoked_by=request.user)
            revoked += 1
        self.message_user(
            request,
            ngettext("Revoked %(count)d key.", "Revoked %(count)d keys.", revoked)
            % {"count": revoked},
        )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d key was not revoked: a key is revoked by its owner or a superuser.",
                    "%(count)d keys were not revoked: a key is revoked by its owner or a "
                    "superuser.",
                    refused,
                )
                % {"count": refused},
                messages.ERROR,
            )
