"""Admin for contacts and companies: the records that hold personal data."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from customers import selectors
from customers.admin.activities import ActivityInline
from customers.admin.base import (
    BlindIndexSearchMixin,
    PIIAdminMixin,
    ReadOnlyInline,
    ServiceModelAdmin,
)
from customers.admin.custom_fields import CustomValuesAdminMixin
from customers.models import Company, Contact
from customers.services import companies, contacts


@admin.display(description=_("tags"))
def tag_names(obj) -> str:
    return ", ".join(tag.name for tag in obj.tags.all())  # prefetched by the selector


_SYSTEM_FIELDSET = (
    _("System"),
    {"fields": ("external_id", "created_at", "updated_at"), "classes": ("collapse",)},
)


@admin.register(Contact)
class ContactAdmin(CustomValuesAdminMixin, PIIAdminMixin, BlindIndexSearchMixin, ServiceModelAdmin):
    selector = staticmethod(selectors.contact_list)
    pii_fields = ("email", "phone", "address")
    blind_index_search = ("email", "phone")
    list_display = (
        "name",
        "email",
        "phone",
        "company",
        "lifecycle_stage",
        "owner",
        tag_names,
        "created_at",
    )
    list_filter = ("lifecycle_stage", "owner", "tags", "consent_email", "created_at")
    list_select_related = ("company", "owner")
    search_fields = ("first_name", "last_name", "title", "company__name", "=external_id")
    autocomplete_fields = ("company", "tags")
    readonly_fields = ("consent_updated_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": (("first_name", "last_name"), "title", "company", "owner")}),
        (_("Contact details"), {"fields": ("email", "phone", "address")}),
        (_("Sales"), {"fields": ("lifecycle_stage", "source", "tags", "notes")}),
        (_("Consent"), {"fields": ("consent_email", "consent_phone", "consent_updated_at")}),
        _SYSTEM_FIELDSET,
    )
    inlines = (ActivityInline,)
    actions = ("merge_contacts",)

    @admin.display(description=_("name"), ordering="last_name")
    def name(self, obj: Contact) -> str:
        return str(obj)

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    def service_create(self, request, data):
        return contacts.contact_create(actor=self.actor(request), **data)

    def service_update(self, request, obj, data):
        return contacts.contact_update(actor=self.actor(request), contact=obj, data=data)

    def service_delete(self, request, obj):
        contacts.contact_delete(actor=self.actor(request), contact=obj)

    @admin.action(
        description=_("Merge selected contacts into the oldest"),
        permissions=["merge"],
    )
    def merge_contacts(self, request, queryset):
        self.merge_into_oldest(request, queryset, contacts.contact_merge)


class ContactInline(ReadOnlyInline):
    """The company's people, without their personal data (that is on each contact's page)."""

    model = Contact
    fields = ("first_name", "last_name", "title", "lifecycle_stage", "owner")
    ordering = ("last_name", "first_name", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")


@admin.register(Company)
class CompanyAdmin(CustomValuesAdminMixin, PIIAdminMixin, BlindIndexSearchMixin, ServiceModelAdmin):
    selector = staticmethod(selectors.company_list)
    pii_fields = ("phone", "address")
    blind_index_search = ("phone",)
    list_display = (
        "name",
        "domain",
        "industry",
        "country",
        "phone",
        "owner",
        "contact_count",
        tag_names,
        "created_at",
    )
    list_filter = ("size_band", "country", "owner", "tags", "created_at")
    list_select_related = ("owner",)
    search_fields = ("name", "domain", "=external_id")
    autocomplete_fields = ("tags",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "domain", "industry", "size_band", "country", "owner", "tags")}),
        (_("Contact details"), {"fields": ("phone", "address")}),
        _SYSTEM_FIELDSET,
    )
    inlines = (ContactInline,)
    actions = ("merge_companies",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(contact_count=Count("contacts"))

    @admin.display(description=_("contacts"), ordering="contact_count")
    def contact_count(self, obj: Company) -> int:
        return obj.contact_count

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    def service_create(self, request, data):
        return companies.company_create(actor=self.actor(request), **data)

    def service_update(self, request, obj, data):
        return companies.company_update(actor=self.actor(request), company=obj, data=data)

    def service_delete(self, request, obj):
        companies.company_delete(actor=self.actor(request), company=obj)

    @admin.action(
        description=_("Merge selected companies into the oldest"),
        permissions=["merge"],
    )
    def merge_companies(self, request, queryset):
        self.merge_into_oldest(request, queryset, companies.company_merge)
