"""Admin for activities, and the read-only activity list shown on contact and deal pages."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from customers import selectors
from customers.admin.base import ReadOnlyInline, ServiceModelAdmin
from customers.models import Activity
from customers.services import activities


class ActivityInline(ReadOnlyInline):
    model = Activity
    fields = ("kind", "subject", "due_at", "done_at", "author", "created_at")
    ordering = ("-created_at", "-id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


@admin.register(Activity)
class ActivityAdmin(ServiceModelAdmin):
    selector = staticmethod(selectors.activity_list)
    list_display = (
        "subject",
        "kind",
        "contact",
        "company",
        "deal",
        "author",
        "due_at",
        "done_at",
        "created_at",
    )
    list_filter = ("kind", "author", "due_at", "done_at", "created_at")
    list_select_related = ("contact", "company", "deal", "author")
    search_fields = (
        "subject",
        "contact__first_name",
        "contact__last_name",
        "company__name",
        "deal__name",
        "=external_id",
    )
    autocomplete_fields = ("contact", "company", "deal")
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("kind", "subject", "body", "due_at", "done_at", "author")}),
        (_("Linked to"), {"fields": ("contact", "company", "deal")}),
        (_("System"), {"fields": ("external_id", "created_at", "updated_at")}),
    )

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def service_create(self, request, data):
        return activities.activity_create(actor=self.actor(request), **data)

    def service_update(self, request, obj, data):
        return activities.activity_update(actor=self.actor(request), activity=obj, data=data)

    def service_delete(self, request, obj):
        activities.activity_delete(actor=self.actor(request), activity=obj)
