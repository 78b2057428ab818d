"""The base for REST resources whose writes go through the service layer.

A resource declares its serializers and four hooks (create, update, upsert, delete) that call
its services; this class does the HTTP part once: content negotiation, ETags and If-Match,
upsert by external id, batches, sparse fieldsets and PII masking.
"""

from collections.abc import Mapping
from typing import Any

from django.db import models, transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from rest_framework import filters, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from customers.api import batch
from customers.api.conditional import (
    PreconditionFailed,
    check_if_match,
    etag_for,
    not_modified,
)
from customers.api.custom_field_filters import CustomFieldFilterBackend
from customers.api.filters import BoundedSearchFilter, SelectorFilterBackend
from customers.api.idempotency import idempotent
from customers.api.pagination import StableCursorPagination
from customers.custom_fields.values import active_definitions
from customers.models import CustomField
from customers.representation import entity_spec
from customers.representation.masked_input import drop_unchanged_masked
from integrations.api_auth import request_can_view_pii
from integrations.formats.csv_cells import Column, column_path_and_header


class ServiceViewSet(viewsets.GenericViewSet):
    scope_resource: str
    output_serializer_class: type
    input_serializer_class: type | None = None
    pagination_class = StableCursorPagination
    filter_backends = [
        SelectorFilterBackend,  # the list selector's filters; the next two only document theirs
        CustomFieldFilterBackend,
        BoundedSearchFilter,
        filters.OrderingFilter,
    ]
    ordering_fields = ["id", "created_at", "updated_at"]
    lookup_value_regex = r"\d+"
    csv_list_fields = {"tags"}
    #: Built-in CSV columns in order (dotted paths); custom fields are appended by name.
    csv_base_columns: list[str] = []
    #: The resource's entity: its list selector (``customers.selectors.LISTS``) filters it,
    #: and its representation says whether its records carry custom fields.
    filter_entity: str

    # Hooks: each calls one service.
    def create_record(self, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def update_record(self, instance: models.Model, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def upsert_record(self, data: dict[str, Any]) -> tuple[models.Model, bool]:
        raise NotImplementedError

    def delete_record(self, instance: models.Model) -> None:
        raise NotImplementedError

    def perform_content_negotiation(self, request: Request, force: bool = False):
        """What DRF's negotiation picks when the client names no format and accepts anything
        (no Accept header, ``*/*``) or exactly the first renderer's type: the first renderer,
        as its own media type. Partners' scripts mostly send one of these; parsing and ranking
        the Accept header cost more than the rest of the request's set-up. Anything else goes
        through DRF."""
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        override = api_settings.URL_FORMAT_OVERRIDE
        if not self.format_kwarg and not (override and override in request.query_params):
            renderers = self.get_renderers()
            if renderers and accept in ("*/*", renderers[0].media_type):
                return renderers[0], renderers[0].media_type
        return super().perform_content_negotiation(request, force)

    # Serialisation.
    def get_serializer_class(self):
        if self.request and self.request.method in ("POST", "PUT", "PATCH"):
            return self.input_serializer_class or self.output_serializer_class
        return self.output_serializer_class

    def custom_field_definitions(self) -> list[CustomField]:
        """The entity's active custom fields, loaded once per request."""
        if not entity_spec(self.filter_entity).has_custom_fields:
            return []
        if not hasattr(self, "_custom_field_definitions"):
            self._custom_field_definitions = active_definitions(self.filter_entity)
        return self._custom_field_definitions

    def csv_columns(self) -> list[Column]:
        """Built-in columns, then one per custom field headed by its name; ``?fields=``
        narrows them, so a partial CSV never looks like a file of blanked values."""
        custom = [(f"custom_fields.{f.name}", f.name) for f in self.custom_field_definitions()]
        columns = [*self.csv_base_columns, *custom]
        wanted = self.get_serializer_context().get("fields")
        if wanted:
            columns = [c for c in columns if column_path_and_header(c)[0].split(".")[0] in wanted]
        return columns

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["custom_field_definitions"] = self.custom_field_definitions()
        context["can_view_pii"] = request_can_view_pii(self.request)
        fields = self.request.query_params.get("fields") if self.request else None
        if fields:
            context["fields"] = [name.strip() for name in fields.split(",") if name.strip()]
        return context

    def output(self, instance: models.Model, **kwargs: Any) -> Response:
        serializer = self.output_serializer_class(instance, context=self.get_serializer_context())
        response = Response(serializer.data, **kwargs)
        response["ETag"] = etag_for(instance)
        return response

    def parse_input(
        self, data: Any, *, instance: models.Model | None = None, partial: bool = False
    ) -> dict[str, Any]:
        """Type-check one record; raises DRF's ValidationError (a 400) on bad types."""
        data = self.gather_custom_fields(data)
        serializer = self.input_serializer_class(
            data=data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        validated = dict(serializer.validated_data)
        if not self.get_serializer_context()["can_view_pii"]:
            validated = drop_unchanged_masked(
                entity_spec(self.filter_entity),
                validated,
                instance=instance,
                definitions=self.custom_field_definitions(),
            )
        return validated

    def gather_custom_fields(self, data: Any) -> Any:
        """Custom fields may also arrive as top-level keys (a CSV column per field, headed by
        its name): fold them into ``custom_fields``."""
        names = {field.name for field in self.custom_field_definitions()}
        if not isinstance(data, dict) or not names & set(data):
            return data
        folded = {key: value for key, value in data.items() if key not in names}
        nested = dict(data.get("custom_fields") or {})
        nested.update({key: value for key, value in data.items() if key in names})
        folded["custom_fields"] = nested
        return folded

    def reload(self, instance: models.Model) -> models.Model:
        """Fetch through the selector queryset so the response has its relations loaded."""
        return self.get_queryset().get(pk=instance.pk)

    # Endpoints.
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.list_data(page))

    def list_data(self, page: list) -> list:
        """A list page as the output serializer renders each record (a resource whose list
        reads plain rows shapes them here instead)."""
        serializer = self.output_serializer_class(
            page, many=True, context=self.get_serializer_context()
        )
        return serializer.data

    def retrieve(self, request: Request, pk: str) -> Response:
        instance = self.get_object()
        if not_modified(request, instance):
            return Response(
                status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag_for(instance)}
            )
        return self.output(instance)

    @idempotent
    def create(self, request: Request) -> Response:
        data = self.parse_input(request.data)
        instance = self.create_record(data)
        return self.output(self.reload(instance), status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        with transaction.atomic():
            instance = self.locked_object()
            check_if_match(request, instance)
            data = self.parse_input(request.data, instance=instance, partial=partial)
            self.update_record(instance, data)
        return self.output(self.reload(instance))

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            instance = self.locked_object()
            check_if_match(request, instance)
            self.delete_record(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_object(self) -> models.Model:
        """The record the route names: by id, or by external id on ``by-external-id/<id>/``.
        DRF's OPTIONS asks for it to describe PUT; the plain lookup needs a pk and failed."""
        if "external_id" not in self.kwargs:
            return super().get_object()
        instance = get_object_or_404(self.get_queryset(), external_id=self.kwargs["external_id"])
        self.check_object_permissions(self.request, instance)
        return instance

    def locked_object(self) -> models.Model:
        """The record, row-locked until the transaction ends, so If-Match cannot race."""
        model = self.get_queryset().model
        instance = get_object_or_404(model.objects.select_for_update(), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, instance)
        return instance

    @action(
        detail=False,
        methods=["get", "put"],
        url_path=r"by-external-id/(?P<external_id>[^/]+)",
        url_name="by-external-id",
    )
    def by_external_id(self, request: Request, external_id: str) -> Response:
        """GET (or HEAD) the record with this external id, or PUT to create (201) or update
        (200) it."""
        model = self.get_queryset().model
        if request.method in ("GET", "HEAD"):
            instance = self.get_object()
            if not_modified(request, instance):
                return Response(
                    status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag_for(instance)}
                )
            return self.output(instance)
        with transaction.atomic():
            existing = model.objects.select_for_update().filter(external_id=external_id).first()
            if existing is not None:
                check_if_match(request, existing)
            elif request.headers.get("If-Match") not in (None, "*"):
                raise PreconditionFailed(_("No record has this external id any more."))
            data = self.parse_input(request.data, instance=existing, partial=existing is not None)
            data["external_id"] = external_id
            instance, created = self.upsert_record(data)
        return self.output(
            self.reload(instance), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @action(detail=False, methods=["post"], url_path="batch", url_name="batch")
    @idempotent
    def batch(self, request: Request) -> Response:
        """Create, update or upsert up to 1,000 records; each gets its own outcome."""
        options = batch.BatchOptions.from_request(request)
        outcome = batch.run(
            records=options.records,
            mode=options.mode,
            atomic=options.atomic,
            parse=lambda record, instance: self.parse_input(
                record, instance=instance, partial=instance is not None
            ),
            find=self.find_for_batch,
            create=self.create_record,
            update=self.update_record,
            upsert=self.upsert_record,
        )
        return Response(outcome.as_dict(), status=outcome.http_status)

    def find_for_batch(self, record: Mapping[str, Any]) -> models.Model | None:
        """The existing record a batch entry refers to, by `id` or `external_id`."""
        model = self.get_queryset().model
        if isinstance(record, Mapping):
            if record.get("id") not in (None, ""):
                return model.objects.filter(pk=_int_or_none(record["id"])).first()
            if record.get("external_id") not in (None, ""):
                return model.objects.filter(external_id=record["external_id"]).first()
        return None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
