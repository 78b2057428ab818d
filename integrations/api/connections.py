"""``/api/v1/connections/`` and ``/api/v1/sync-runs/``: partners manage the connections that pull
from their systems (create, read, change, delete, run now, test) and read each run's counts and
errors. Each action parses, calls one service of ``integrations.services.connections``, and
shapes the reply; scopes ``integrations:read`` / ``integrations:write``."""

from django.db.models import QuerySet
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from customers.api.json_renderer import JSONRenderer
from customers.api.pagination import NewestFirstCursorPagination, StableCursorPagination
from customers.api.parsers import JSONParser
from integrations.api import schema
from integrations.api import serializers as s
from integrations.api_auth import request_can_view_pii
from integrations.models import Connection, SyncRun
from integrations.services import connections, sync


class RunConflict(exceptions.APIException):
    """A run of the connection cannot start now (disabled, or one is going)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "run_conflict"


class QueueUnavailable(exceptions.APIException):
    """The broker did not take the run; nothing was queued, so the client should retry."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "queue_unavailable"


class _JsonOnly:
    """Configurations are nested objects: JSON only (as webhooks)."""

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    parser_classes = [JSONParser]
    lookup_value_regex = r"\d+"
    scope_resource = "integrations"


class ConnectionPagination(StableCursorPagination):
    ordering = ("name", "id")


@schema.connections
class ConnectionViewSet(
    _JsonOnly,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Connections: an external source synced into contacts, companies or deals on a schedule.
    Needs the user's connection permissions (managers) besides the key's scope."""

    serializer_class = s.ConnectionOutputSerializer
    pagination_class = ConnectionPagination

    def get_queryset(self) -> QuerySet[Connection]:
        return Connection.objects.select_related(
            "schedule__interval", "schedule__crontab", "created_by"
        )

    def create(self, request: Request) -> Response:
        data = s.ConnectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        connection = connections.connection_create(
            actor=request.user,
            data=data.validated_data,
            may_look_up_pii=request_can_view_pii(request),
        )
        location = request.build_absolute_uri(reverse("connection-detail", args=[connection.pk]))
        return Response(
            self._shown(connection), status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    def partial_update(self, request: Request, pk: str) -> Response:
        connection = self.get_object()
        data = s.ConnectionInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        connection = connections.connection_update(
            actor=request.user,
            connection=connection,
            data=data.validated_data,
            may_look_up_pii=request_can_view_pii(request),
        )
        return Response(self._shown(connection))

    def perform_destroy(self, instance: Connection) -> None:
        connections.connection_delete(connection=instance)

    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str) -> Response:
        connection = self.get_object()
        try:
            run = connections.connection_run(connection=connection)
        except sync.RunRefused as error:
            raise RunConflict(str(error)) from None
        except sync.QueueUnavailable as error:
            raise QueueUnavailable(str(error)) from None
        location = request.build_absolute_uri(reverse("sync-run-detail", args=[run.pk]))
        body = s.SyncRunOutputSerializer(run, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})

    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        connection = self.get_object()
        options = s.ConnectionTestInputSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        result = connections.connection_test(
            connection=connection,
            limit=options.validated_data["limit"],
            can_view_pii=request_can_view_pii(request),
        )
        return Response(s.ConnectionTestOutputSerializer(result).data)

    def _shown(self, connection: Connection) -> dict:
        """As a GET would show it (the schedule and creator read back fresh)."""
        return self.get_serializer(self.get_queryset().get(pk=connection.pk)).data


@schema.sync_runs
class SyncRunViewSet(
    _JsonOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Runs of every connection, newest first, with their counts and errors."""

    serializer_class = s.SyncRunOutputSerializer
    pagination_class = NewestFirstCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["connection", "status"]

    def get_queryset(self) -> QuerySet[SyncRun]:
        return SyncRun.objects.select_related("connection")
