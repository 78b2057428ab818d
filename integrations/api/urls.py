from django.urls import path
from rest_framework import routers

from integrations.api import changes, connections, views, webhooks

router = routers.SimpleRouter()
router.register("imports", views.ImportJobViewSet, basename="import-job")
router.register("exports", views.ExportJobViewSet, basename="export-job")
router.register("webhooks", webhooks.WebhookSubscriptionViewSet, basename="webhook")
router.register("connections", connections.ConnectionViewSet, basename="connection")
router.register("sync-runs", connections.SyncRunViewSet, basename="sync-run")

urlpatterns = [
    path("changes/", changes.ChangesView.as_view(), name="changes"),
    *router.urls,
]
