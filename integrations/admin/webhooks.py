"""Admin for webhook subscriptions (paused, resumed) and deliveries (replayed)."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integrations.webhooks import services as webhook_services
from integrations.webhooks import triggers as webhook_triggers
from integrations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

# Webhooks

_SUBSCRIPTION_FIELDS = (
    "url",
    "events",
    "description",
    "owner",
    "api_key",
    "is_active",
    "disabled_at",
    "disabled_reason",
    "created_at",
)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Watched, paused, resumed and deleted here; created through the API or the UI, which show
    the signing secret once. The secret is in no field list, so it never reaches a page."""

    list_display = ("url", "owner", "is_active", "disabled_at", "disabled_reason", "created_at")
    list_filter = ("is_active", "disabled_at", "created_at")
    list_select_related = ("owner",)
    search_fields = ("url", "description", "owner__username")
    fields = _SUBSCRIPTION_FIELDS
    readonly_fields = _SUBSCRIPTION_FIELDS
    actions = ["pause_selected", "resume_selected"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Allowed on the list (for the actions), read-only on a subscription's own page.
        return obj is None and super().has_change_permission(request, obj)

    def delete_model(self, request, obj: WebhookSubscription) -> None:
        webhook_services.subscription_delete(subscription=obj)

    def delete_queryset(self, request, queryset: QuerySet) -> None:
        for subscription in queryset:
            webhook_services.subscription_delete(subscription=subscription)

    @admin.action(description=_("Pause selected subscriptions"), permissions=["change"])
    def pause_selected(self, request, queryset: QuerySet) -> None:
        for subscription in queryset:
            webhook_services.subscription_pause(subscription=subscription)
        self.message_user(
            request,
            ngettext(
                "Paused %(count)d subscription.", "Paused %(count)d subscriptions.", len(queryset)
            )
            % {"count": len(queryset)},
        )

    @admin.action(
        description=_("Resume selected subscriptions (clears the failure flag)"),
        permissions=["change"],
    )
    def resume_selected(self, request, queryset: QuerySet) -> None:
        for subscription in queryset:
            webhook_services.subscription_resume(subscription=subscription)
        webhook_triggers.deliver_soon()
        self.message_user(
            request,
            ngettext(
                "Resumed %(count)d subscription.", "Resumed %(count)d subscriptions.", len(queryset)
            )
            % {"count": len(queryset)},
        )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("attempted_at", "status_code", "latency_ms", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        """A delivery's attempts are part of it: whoever sees the delivery sees them."""
        return request.user.has_perm(_VIEW_SUBSCRIPTIONS)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


_VIEW_SUBSCRIPTIONS = "integrations.view_webhooksubscription"
_CHANGE_SUBSCRIPTIONS = "integrations.change_webhooksubscription"
_DELIVERY_FIELDS = (
    "subscription",
    "event_type",
    "status",
    "attempts",
    "last_status_code",
    "last_error",
    "next_attempt_at",
    "delivered_at",
    "created_at",
)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Read-only, with every attempt; deliveries are read and replayed through their
    subscription's permissions (as the roles grant them)."""

    list_display = (
        "id",
        "subscription",
        "event_type",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    )
    list_filter = ("status", "created_at")
    list_select_related = ("subscription", "event")
    search_fields = ("subscription__url", "=event__type")
    fields = _DELIVERY_FIELDS
    readonly_fields = _DELIVERY_FIELDS
    inlines = [WebhookAttemptInline]
    actions = ["replay_selected"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(_VIEW_SUBSCRIPTIONS)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(_VIEW_SUBSCRIPTIONS)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(_CHANGE_SUBSCRIPTIONS)

    @admin.display(description=_("event"))
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.action(description=_("Replay selected deliveries"), permissions=["replay"])
    def replay_selected(self, request, queryset: QuerySet) -> None:
        replayed = 0
        for delivery in queryset:
            webhook_services.replay(delivery=delivery)
            replayed += 1
        webhook_triggers.deliver_soon()
        self.message_user(
            request,
            ngettext("Replaying %(count)d delivery.", "Replaying %(count)d deliveries.", replayed)
            % {"count": replayed},
        )
