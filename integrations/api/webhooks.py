"""``/api/v1/webhooks/``: subscribe (the signing secret is returned once), list, pause,
resume, unsubscribe, and read or replay deliveries. Each action parses, calls one service or
selector, and shapes the reply."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from customers.api.json_renderer import JSONRenderer
from customers.api.schema_components import READ_ERRORS, error_responses
from customers.events import EVENT_TYPES
from integrations.models import ApiKey
from integrations.webhooks import services, triggers
from integrations.webhooks.models import ALL_EVENTS, WebhookDelivery, WebhookSubscription


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "events",
            "description",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "created_at",
        ]
        read_only_fields = fields


class SubscriptionCreatedSerializer(SubscriptionSerializer):
    secret = serializers.CharField(
        help_text="The signing secret, shown only in this response: keep it to verify "
        "`X-CRM-Signature`."
    )

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class SubscriptionInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[ALL_EVENTS, *EVENT_TYPES]),
        allow_empty=False,
        help_text='Event types to receive, or `["*"]` for all. Each needs its records readable: '
        "the key's `<entities>:read` scope and the user's view permission (`*`: every "
        "entity's); checked again at each delivery, and a delivery its owner may no longer "
        "read is not sent (it fails with the reason).",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class AttemptSerializer(serializers.Serializer):
    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    error = serializers.CharField()


class DeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.type")
    attempt_log = AttemptSerializer(many=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "attempt_log",
        ]
        read_only_fields = fields


_READ = {200: SubscriptionSerializer, **error_responses(*READ_ERRORS)}


@extend_schema_view(
    list=extend_schema(summary="List your webhook subscriptions", responses=_READ),
    retrieve=extend_schema(summary="Read a webhook subscription", responses=_READ),
    destroy=extend_schema(
        summary="Unsubscribe",
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(*READ_ERRORS)},
    ),
)
class WebhookSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Signed webhooks: each event is POSTed as JSON with `X-CRM-Event`, `X-CRM-Delivery`
    (stable across retries), `X-CRM-Timestamp` and `X-CRM-Signature: sha256=<hex>` (HMAC-SHA256
    of `"{timestamp}.{body}"` under the secret). Failures are retried with exponential backoff
    for about a day, then the subscription is disabled and flagged."""

    scope_resource = "integrations"
    serializer_class = SubscriptionSerializer
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookSubscription.objects.none()
        return WebhookSubscription.objects.filter(owner=self.request.user).order_by("-id")

    @extend_schema(
        summary="Subscribe to events",
        request=SubscriptionInputSerializer,
        responses={
            201: SubscriptionCreatedSerializer,
            **error_responses(400, 401, 403, 406, 415, 429),
        },
    )
    def create(self, request: Request) -> Response:
        data = SubscriptionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        subscription, secret = services.subscription_create(
            owner=request.user, api_key=api_key, **data.validated_data
        )
        subscription.secret = secret
        return Response(
            SubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED
        )

    def perform_destroy(self, instance: WebhookSubscription) -> None:
        services.subscription_delete(subscription=instance)

    @extend_schema(summary="Pause deliveries", request=None, responses=_READ)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        subscription = services.subscription_pause(subscription=self.get_object())
        return Response(self.get_serializer(subscription).data)

    @extend_schema(
        summary="Resume deliveries (clears the failure flag)", request=None, responses=_READ
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        subscription = services.subscription_resume(subscription=self.get_object())
        return Response(self.get_serializer(subscription).data)

    @extend_schema(
        summary="List deliveries and their attempts, newest first",
        responses={200: DeliverySerializer(many=True), **error_responses(*READ_ERRORS)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        queryset = (
            subscription.deliveries.select_related("event")
            .prefetch_related("attempt_log")
            .order_by("-id")[:100]
        )
        return Response(DeliverySerializer(queryset, many=True).data)

    @extend_schema(
        summary="Replay a delivery (same delivery id, sent again now)",
        request=None,
        responses={202: DeliverySerializer, **error_responses(*READ_ERRORS)},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>\d+)/replay",
    )
    def replay(self, request: Request, pk: str, delivery_id: str) -> Response:
        subscription = self.get_object()
        delivery = subscription.deliveries.filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound(_("No such delivery for this subscription."))
        services.replay(delivery=delivery)
        triggers.deliver_soon()
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
