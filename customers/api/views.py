"""REST resources under /api/v1/. Each viewset parses, calls one service, shapes the reply."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.shortcuts import get_object_or_404
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from customers import export_response, selectors
from customers.api import filters, serializers
from customers.api import schema_examples as examples
from customers.api.pagination import NewestFirstCursorPagination
from customers.api.schema_views import (
    activities_of_schema,
    contact_export_schema,
    custom_field_delete_schema,
    plain_resource_schema,
    service_resource_schema,
)
from customers.api.viewsets import ServiceViewSet
from customers.models import Contact, CustomField, Pipeline
from customers.representation import ACTIVITY, COMPANY, CONTACT, DEAL, list_rows
from customers.services import (
    activities,
    companies,
    contacts,
    custom_fields,
    deals,
    pipelines,
    tags,
)
from integrations.api_auth import request_actor

User = get_user_model()


@service_resource_schema(
    resource="contacts",
    singular="contact",
    record=examples.CONTACT,
    record_input=examples.CONTACT_INPUT,
)
class ContactViewSet(ServiceViewSet):
    """Contacts (the customers). Email and phone filter by exact match through the blind index;
    PII is masked unless the caller may read it."""

    scope_resource = "contacts"
    output_serializer_class = serializers.ContactOutputSerializer
    input_serializer_class = serializers.ContactInputSerializer
    filterset_class = filters.ContactFilter
    filter_entity = "contact"
    search_fields = ["first_name", "last_name", "title", "company__name", "external_id"]
    ordering_fields = ["id", "created_at", "updated_at", "last_name", "first_name"]

    def get_queryset(self):
        if self.action == "list":  # plain rows, shaped by list_data
            return list_rows.contact_values()
        return selectors.contact_list()

    def list_data(self, page):
        # the page's statement read the definitions' fingerprint: no query of their own
        self._custom_field_definitions = list_rows.page_definitions(page)
        context = self.get_serializer_context()
        return list_rows.contact_page(
            page,
            can_view_pii=context["can_view_pii"],
            definitions=context["custom_field_definitions"],
            fields=context.get("fields"),
        )

    csv_base_columns = CONTACT.csv_columns()
    csv_list_fields = CONTACT.csv_list_columns
    nested_reads = {"activities": ("activities", "customers.view_activity")}

    def create_record(self, data: dict[str, Any]) -> Contact:
        return contacts.contact_create(actor=request_actor(self.request), **data)

    def update_record(self, instance: Contact, data: dict[str, Any]) -> Contact:
        return contacts.contact_update(
            actor=request_actor(self.request), contact=instance, data=data
        )

    def upsert_record(self, data: dict[str, Any]) -> tuple[Contact, bool]:
        return contacts.contact_upsert(actor=request_actor(self.request), data=data)

    def delete_record(self, instance: Contact) -> None:
        contacts.contact_delete(actor=request_actor(self.request), contact=instance)

    @activities_of_schema(resource="contacts", singular="contact")
    @action(detail=True, methods=["get"], pagination_class=NewestFirstCursorPagination)
    def activities(self, request: Request, pk: str) -> Response:
        """The contact's activity timeline, newest first."""
        contact = self.get_object()
        queryset = selectors.activity_list(actor=request_actor(request)).filter(contact=contact.pk)
        page = self.paginate_queryset(queryset)
        data = serializers.ActivityOutputSerializer(
            page, many=True, context=self.get_serializer_context()
        ).data
        return self.get_paginated_response(data)

    @contact_export_schema()
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request: Request):
        """Every contact matching the filters, streamed as CSV, JSON or XML in flat memory."""
        queryset = self.filter_queryset(self.get_queryset())
        return export_response.stream_contacts(
            queryset,
            export_format=request.accepted_renderer.format,
            can_view_pii=self.get_serializer_context()["can_view_pii"],
            columns=self.csv_columns(),
            definitions=self.custom_field_definitions(),
            bom=export_response.wants_bom(request),
        )


@service_resource_schema(
    resource="companies",
    singular="company",
    record=examples.COMPANY,
    record_input=examples.COMPANY_INPUT,
)
class CompanyViewSet(ServiceViewSet):
    scope_resource = "companies"
    output_serializer_class = serializers.CompanyOutputSerializer
    input_serializer_class = serializers.CompanyInputSerializer
    filterset_class = filters.CompanyFilter
    filter_entity = "company"
    search_fields = ["name", "domain", "industry", "external_id"]
    ordering_fields = ["id", "created_at", "updated_at", "name"]

    def get_queryset(self):
        return selectors.company_list()

    csv_base_columns = COMPANY.csv_columns()
    csv_list_fields = COMPANY.csv_list_columns

    def create_record(self, data):
        return companies.company_create(actor=request_actor(self.request), **data)

    def update_record(self, instance, data):
        return companies.company_update(
            actor=request_actor(self.request), company=instance, data=data
        )

    def upsert_record(self, data):
        return companies.company_upsert(actor=request_actor(self.request), data=data)

    def delete_record(self, instance):
        companies.company_delete(actor=request_actor(self.request), company=instance)


@service_resource_schema(
    resource="deals", singular="deal", record=examples.DEAL, record_input=examples.DEAL_INPUT
)
class DealViewSet(ServiceViewSet):
    scope_resource = "deals"
    output_serializer_class = serializers.DealOutputSerializer
    input_serializer_class = serializers.DealInputSerializer
    filterset_class = filters.DealFilter
    filter_entity = "deal"
    search_fields = ["name", "company__name", "external_id"]
    ordering_fields = ["id", "created_at", "updated_at", "amount", "expected_close_date", "name"]

    def get_queryset(self):
        return selectors.deal_list()

    nested_reads = {"activities": ("activities", "customers.view_activity")}
    csv_base_columns = DEAL.csv_columns()
    csv_list_fields = DEAL.csv_list_columns

    def create_record(self, data):
        return deals.deal_create(actor=request_actor(self.request), **data)

    def update_record(self, instance, data):
        return deals.deal_update(actor=request_actor(self.request), deal=instance, data=data)

    def upsert_record(self, data):
        return deals.deal_upsert(actor=request_actor(self.request), data=data)

    def delete_record(self, instance):
        deals.deal_delete(actor=request_actor(self.request), deal=instance)

    @activities_of_schema(resource="deals", singular="deal")
    @action(
        detail=True,
        methods=["get"],
        url_path="activities",
        pagination_class=NewestFirstCursorPagination,
    )
    def activities(self, request: Request, pk: str) -> Response:
        """The deal's activity timeline, newest first."""
        deal = self.get_object()
        queryset = selectors.activity_list(actor=request_actor(request)).filter(deal=deal.pk)
        page = self.paginate_queryset(queryset)
        data = serializers.ActivityOutputSerializer(
            page, many=True, context=self.get_serializer_context()
        ).data
        return self.get_paginated_response(data)


@service_resource_schema(
    resource="activities",
    singular="activity",
    record=examples.ACTIVITY,
    record_input=examples.ACTIVITY_INPUT,
)
class ActivityViewSet(ServiceViewSet):
    scope_resource = "activities"
    output_serializer_class = serializers.ActivityOutputSerializer
    input_serializer_class = serializers.ActivityInputSerializer
    filterset_class = filters.ActivityFilter
    filter_entity = "activity"
    search_fields = ["subject", "body", "external_id"]
    ordering_fields = ["id", "created_at", "updated_at", "due_at", "done_at"]
    csv_list_fields = ACTIVITY.csv_list_columns

    def get_queryset(self):
        return selectors.activity_list()

    csv_base_columns = ACTIVITY.csv_columns()

    def create_record(self, data):
        return activities.activity_create(
            actor=request_actor(self.request), author=self.request.user, **data
        )

    def update_record(self, instance, data):
        return activities.activity_update(
            actor=request_actor(self.request), activity=instance, data=data
        )

    def upsert_record(self, data):
        instance, created = activities.activity_upsert(actor=request_actor(self.request), data=data)
        if created and instance.author_id is None:
            activities.activity_update(
                actor=request_actor(self.request),
                activity=instance,
                data={"author": self.request.user},
            )
        return instance, created

    def delete_record(self, instance):
        activities.activity_delete(actor=request_actor(self.request), activity=instance)


@plain_resource_schema(
    resource="pipelines",
    singular="pipeline",
    record=examples.PIPELINE,
    input_serializer=serializers.PipelineInputSerializer,
    record_input=examples.PIPELINE_INPUT,
)
class PipelineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Pipelines with their ordered stages. Create a pipeline with its stages in one POST."""

    scope_resource = "pipelines"
    serializer_class = serializers.PipelineOutputSerializer
    pagination_class = None
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.pipeline_list()

    def get_serializer_class(self):
        if self.request and self.request.method == "POST":
            return serializers.PipelineInputSerializer
        return serializers.PipelineOutputSerializer

    def create(self, request: Request) -> Response:
        serializer = serializers.PipelineInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            pipeline = pipelines.pipeline_create(
                actor=request_actor(request),
                name=data["name"],
                is_default=data.get("is_default", False),
                **({"stages": data["stages"]} if data.get("stages") else {}),
            )
        output = serializers.PipelineOutputSerializer(Pipeline.objects.get(pk=pipeline.pk))
        return Response(output.data, status=status.HTTP_201_CREATED)


@plain_resource_schema(
    resource="tags",
    singular="tag",
    record=examples.TAG,
    input_serializer=serializers.TagSerializer,
    record_input=examples.TAG_INPUT,
)
class TagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tags. Records are tagged by name through their own endpoints; this lists and creates."""

    scope_resource = "tags"
    serializer_class = serializers.TagSerializer
    filterset_class = filters.TagFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.tag_list()

    def create(self, request: Request) -> Response:
        """Create a tag, or return the existing one with that name in any letter case."""
        serializer = serializers.TagSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tag = tags.tag_create(actor=request_actor(request), name=serializer.validated_data["name"])
        return Response(serializers.TagSerializer(tag).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        tags.tag_delete(actor=request_actor(request), tag=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_serializer_class(self):
        return serializers.TagSerializer


@plain_resource_schema(resource="users", singular="user", record=examples.USER)
class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Owners: the CRM's users, read-only."""

    scope_resource = "users"
    serializer_class = serializers.UserOutputSerializer
    lookup_value_regex = r"\d+"
    search_fields = ["username", "first_name", "last_name"]

    def get_queryset(self):
        return User.objects.filter(is_active=True).order_by("id")


class CustomFieldViewSet(viewsets.ModelViewSet):
    """Custom field definitions (scopes settings:read / settings:write).

    A type or choices change that stored values would not survive is refused with the number of
    records that would break; `incompatible/` lists them. DELETE of a field holding values needs
    `?purge=true`.
    """

    scope_resource = "settings"
    serializer_class = serializers.CustomFieldSerializer
    filterset_fields = ["entity", "type"]
    lookup_value_regex = r"\d+"
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    csv_list_fields = {"choices"}  # a CSV cell "Gold|Silver" is the list its renderer wrote

    def get_queryset(self):
        queryset = CustomField.objects.all()
        if self.request.query_params.get("archived") not in ("true", "1"):
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset

    def perform_create(self, serializer) -> None:
        serializer.instance = custom_fields.custom_field_create(
            actor=request_actor(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        custom_fields.custom_field_update(
            actor=request_actor(self.request),
            field=serializer.instance,
            data=dict(serializer.validated_data),
        )

    def get_object(self):
        return get_object_or_404(CustomField.objects.all(), pk=self.kwargs["pk"])

    @custom_field_delete_schema()
    def destroy(self, request: Request, pk: str) -> Response:
        """200 with a body, not 204: the caller learns how many stored values were purged."""
        purge = request.query_params.get("purge") in ("true", "1")
        purged = custom_fields.custom_field_delete(
            actor=request_actor(request), field=self.get_object(), purge=purge
        )
        body = serializers.CustomFieldDeletedSerializer({"purged_values": purged}).data
        return Response(body, status=status.HTTP_200_OK)

    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str) -> Response:
        """Hide the field everywhere; its stored values are kept."""
        field = custom_fields.custom_field_archive(
            actor=request_actor(request), field=self.get_object()
        )
        return Response(serializers.CustomFieldSerializer(field).data)

    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str) -> Response:
        field = custom_fields.custom_field_restore(
            actor=request_actor(request), field=self.get_object()
        )
        return Response(serializers.CustomFieldSerializer(field).data)

    @action(detail=True, methods=["get"])
    def incompatible(self, request: Request, pk: str) -> Response:
        """Ids of records whose value would not fit `?type=` and/or `?choices=a,b`."""
        field = self.get_object()
        proposed = CustomField(
            entity=field.entity,
            name=field.name,
            type=request.query_params.get("type", field.type),
            choices=(
                request.query_params["choices"].split(",")
                if "choices" in request.query_params
                else field.choices
            ),
        )
        ids = list(custom_fields.incompatible_record_ids(field, new_definition=proposed))
        return Response({"count": len(ids), "ids": ids[:1000]})
