"""``GET /api/v1/changes/``: the change feed for systems that poll (and the ``crm`` connector).

A reader sees the events of the entities it may read: an API key needs ``<entities>:read``
(e.g. ``contacts:read``) and its user the model's view permission, as for the records
themselves."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.actors import Actor, Door
from customers.api.json_renderer import JSONRenderer
from customers.api.schema_components import JSON, error_responses
from customers.events import ENTITIES, EVENT_TYPES
from integrations.api_auth import request_actor
from integrations.models import ApiKey
from integrations.representations import representations
from integrations.services import change_feed


def readable_entities(request: Request) -> list[str]:
    api_key = request.auth if isinstance(request.auth, ApiKey) else None
    return change_feed.readable_entities(user=request.user, api_key=api_key)


class ChangeEventSerializer(serializers.Serializer):
    cursor = serializers.SerializerMethodField()
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    entity = serializers.ChoiceField(choices=ENTITIES)
    record_id = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    changed_fields = serializers.ListField(child=serializers.CharField())
    data = serializers.DictField()
    occurred_at = serializers.DateTimeField()

    def get_cursor(self, event) -> str:
        return change_feed.cursor_of(event)


class DocumentedChangeEventSerializer(ChangeEventSerializer):
    """The documented shape: ``record`` is there only with ``include=record``."""

    record = serializers.DictField(
        required=False,
        allow_null=True,
        help_text="With `include=record`: the record now (null once deleted).",
    )


def _add_records(results: list[dict], *, actor: Actor) -> None:
    """Each event's record as it is now: one lookup per entity for the whole page."""
    wanted: dict[str, set[int]] = {}
    for event in results:
        wanted.setdefault(event["entity"], set()).add(event["record_id"])
    found = {
        entity: representations(entity, ids, can_view_pii=actor.may_read_pii, actor=actor)
        for entity, ids in wanted.items()
    }
    for event in results:
        event["record"] = found[event["entity"]].get(event["record_id"])


class ChangesView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]  # a feed for machines: JSON

    @extend_schema(
        operation_id="changes_list",
        summary="Read the change feed",
        description=(
            "Domain events (`contact.created`, `contact.updated` with `changed_fields`, "
            "`contact.deleted`, `contact.merged`, `company.*`, `deal.*`, `deal.stage_changed`, "
            "`activity.*`) in a stable order. Start without `after`, then pass each reply's "
            "`next_cursor`; an empty page keeps the cursor. No event is ever skipped, even when "
            "transactions commit out of order. Events name records and fields, never values: "
            "fetch the record for its current state. Only entities the caller may read appear."
        ),
        parameters=[
            OpenApiParameter("after", OpenApiTypes.STR, description="A `next_cursor`."),
            OpenApiParameter(
                "types",
                OpenApiTypes.STR,
                description="Comma-separated event types to keep, e.g. `contact.created`.",
            ),
            OpenApiParameter(
                "include",
                OpenApiTypes.STR,
                enum=["record"],
                description="`record`: each event carries its record as it is now, in the "
                "same shape as the record's own endpoint (null once deleted), PII per your "
                "rights.",
            ),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=f"1–{change_feed.MAX_LIMIT}, default {change_feed.DEFAULT_LIMIT}.",
            ),
        ],
        responses={
            (200, JSON): inline_serializer(
                "ChangeFeedPage",
                {
                    "results": DocumentedChangeEventSerializer(many=True),
                    "next_cursor": serializers.CharField(),
                    "has_more": serializers.BooleanField(),
                },
            ),
            **{
                key: response
                for key, response in error_responses(400, 401, 404, 406, 429).items()
                if key[1] == JSON
            },
        },
        tags=["changes"],
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        types = [name.strip() for name in params.get("types", "").split(",") if name.strip()]
        try:
            limit = int(params.get("limit", change_feed.DEFAULT_LIMIT))
        except ValueError:
            raise DjangoValidationError({"limit": _("Expected a whole number.")}) from None
        include = params.get("include", "")
        if include not in ("", "record"):
            raise DjangoValidationError({"include": _("Use include=record or leave it out.")})
        page = change_feed.read_changes(
            after=params.get("after") or None,
            entities=readable_entities(request),
            types=types,
            limit=limit,
        )
        results = ChangeEventSerializer(page.events, many=True).data
        if include == "record":
            _add_records(results, actor=request_actor(request, door=Door.FEED))
        return Response(
            {
                "results": results,
                "next_cursor": page.next_cursor,
                "has_more": page.has_more,
            }
        )
