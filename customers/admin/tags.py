"""Admin for tags. Records are tagged on their own pages; here tags are created and renamed."""

from django.contrib import admin
from django.core.exceptions import ValidationError

from customers import selectors
from customers.admin.base import ServiceModelAdmin
from customers.models import Tag
from customers.services import tags


@admin.register(Tag)
class TagAdmin(ServiceModelAdmin):
    selector = staticmethod(selectors.tag_list)
    list_display = ("name", "created_at")
    list_filter = ("created_at",)
    search_fields = ("name",)
    fields = ("name", "created_at")
    readonly_fields = ("created_at",)

    def service_create(self, request, data):
        # tag_create returns an existing tag of that name (any case); adding one here should
        # say it exists instead of reporting an addition that did not happen.
        name = data["name"].strip()
        try:
            Tag(name=name, name_key=Tag.key_for(name)).validate_constraints()
        except ValidationError as error:
            raise ValidationError({"name": error.messages}) from None
        return tags.tag_create(actor=self.actor(request), name=data["name"])

    def service_update(self, request, obj, data):
        return (
            tags.tag_rename(actor=self.actor(request), tag=obj, name=data["name"])
            if "name" in data
            else obj
        )

    def service_delete(self, request, obj):
        tags.tag_delete(actor=self.actor(request), tag=obj)
