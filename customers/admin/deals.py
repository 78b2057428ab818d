"""Admin for deals and the pipelines and stages they move through."""

from django.conf import settings
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from customers import selectors
from customers.admin.activities import ActivityInline
from customers.admin.base import ServiceModelAdmin
from customers.admin.custom_fields import CustomValuesAdminMixin
from customers.models import Deal, Pipeline, Stage
from customers.services import deals, pipelines


def _stages_with_pipeline():
    # Stage.__str__ reads its pipeline's name: one join instead of a query per stage.
    return Stage.objects.select_related("pipeline").order_by("pipeline__name", "position", "id")


class StageListFilter(admin.SimpleListFilter):
    title = _("stage")
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return [(str(stage.pk), str(stage)) for stage in _stages_with_pipeline()]

    def queryset(self, request, queryset):
        return queryset.filter(stage_id=self.value()) if self.value() else queryset


@admin.register(Deal)
class DealAdmin(CustomValuesAdminMixin, ServiceModelAdmin):
    selector = staticmethod(selectors.deal_list)
    list_display = (
        "name",
        "company",
        "primary_contact",
        "stage",
        "status",
        "amount_display",
        "owner",
        "expected_close_date",
        "created_at",
    )
    list_filter = (
        "status",
        StageListFilter,
        "owner",
        "tags",
        "expected_close_date",
        "created_at",
    )
    list_select_related = ("company", "primary_contact", "stage__pipeline", "owner")
    search_fields = ("name", "company__name", "=external_id")
    autocomplete_fields = ("company", "primary_contact", "tags")
    # A deal's status follows its stage (see services.deals): move the stage to change it.
    readonly_fields = ("status", "closed_at", "created_at", "updated_at")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("name", "company", "primary_contact", "owner", "tags")}),
        (
            _("Pipeline"),
            {
                "fields": (
                    ("amount", "currency"),
                    "stage",
                    "status",
                    "expected_close_date",
                    "closed_at",
                )
            },
        ),
        (
            _("System"),
            {"fields": ("external_id", "created_at", "updated_at"), "classes": ("collapse",)},
        ),
    )
    inlines = (ActivityInline,)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Deal) -> str:
        return f"{obj.amount:,.2f} {obj.currency}"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "stage":
            kwargs["queryset"] = _stages_with_pipeline()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = {"owner": request.user.pk, "currency": settings.DEFAULT_CURRENCY}
        pipeline = selectors.default_pipeline()
        stage = selectors.first_stage(pipeline=pipeline) if pipeline else None
        if stage is not None:
            initial["stage"] = stage.pk
        return {**initial, **super().get_changeform_initial_data(request)}

    def service_create(self, request, data):
        return deals.deal_create(actor=self.actor(request), **data)

    def service_update(self, request, obj, data):
        return deals.deal_update(actor=self.actor(request), deal=obj, data=data)

    def service_delete(self, request, obj):
        deals.deal_delete(actor=self.actor(request), deal=obj)


class StageInline(admin.TabularInline):
    """Editable, saved through the stage services by PipelineAdmin.save_formset. Its forms
    validate with the model's rules, which are all the stage services check."""

    model = Stage
    fields = ("position", "name", "win_probability", "outcome")
    ordering = ("position", "id")
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(ServiceModelAdmin):
    """There is no service to rename or delete a pipeline, so neither is offered here; the
    default pipeline changes through the action (``pipeline_set_default``)."""

    selector = staticmethod(selectors.pipeline_list)
    list_display = ("name", "is_default", "stage_count", "created_at")
    list_filter = ("is_default",)
    search_fields = ("name",)
    fields = ("name", "is_default", "created_at", "updated_at")
    readonly_fields = ("created_at", "updated_at")
    inlines = (StageInline,)
    actions = ("make_default",)

    @admin.display(description=_("stages"))
    def stage_count(self, obj: Pipeline) -> int:
        return len(obj.stages.all())  # prefetched by the selector

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly + ["name", "is_default"] if obj is not None else readonly

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def service_create(self, request, data):
        # Stages come from the inline, in save_formset, once the pipeline exists.
        return pipelines.pipeline_create(actor=self.actor(request), **data, stages=())

    def service_update(self, request, obj, data):
        return obj  # name and default flag are read-only here; stages save in save_formset

    def save_formset(self, request, form, formset, change) -> None:
        formset.save(commit=False)  # collects the changes (and the history entry) unwritten
        for stage in formset.deleted_objects:
            pipelines.stage_delete(actor=self.actor(request), stage=stage)
        for stage, changed in formset.changed_objects:
            data = {name: getattr(stage, name) for name in changed}
            pipelines.stage_update(actor=self.actor(request), stage=stage, data=data)
        for stage in formset.new_objects:
            data = {name: getattr(stage, name) for name in StageInline.fields}
            pipelines.stage_create(actor=self.actor(request), pipeline=form.instance, data=data)

    @admin.action(description=_("Make the selected pipeline the default"), permissions=["change"])
    def make_default(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one pipeline."), messages.WARNING)
            return
        pipeline = pipelines.pipeline_set_default(
            actor=self.actor(request), pipeline=queryset.get()
        )
        self.log_change(request, pipeline, "Made the default pipeline.")
        self.message_user(request, _("“%s” is now the default pipeline.") % pipeline)


@admin.register(Stage)
class StageAdmin(ServiceModelAdmin):
    list_display = ("name", "pipeline", "position", "win_probability", "outcome")
    list_filter = ("pipeline", "outcome")
    list_select_related = ("pipeline",)
    search_fields = ("name", "pipeline__name")
    ordering = ("pipeline__name", "position", "id")

    def get_readonly_fields(self, request, obj=None):
        # The stage services cannot move a stage to another pipeline.
        return ("pipeline",) if obj is not None else ()

    def service_create(self, request, data):
        return pipelines.stage_create(
            actor=self.actor(request), pipeline=data.pop("pipeline"), data=data
        )

    def service_update(self, request, obj, data):
        return pipelines.stage_update(actor=self.actor(request), stage=obj, data=data)

    def service_delete(self, request, obj):
        # Deal.stage is PROTECT, so the admin refuses to delete a stage holding deals before
        # this runs; the service's own check is the second guard.
        pipelines.stage_delete(actor=self.actor(request), stage=obj)
