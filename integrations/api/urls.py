from rest_framework import routers

from integrations.api import views

router = routers.SimpleRouter()
router.register("imports", views.ImportJobViewSet, basename="import-job")
router.register("exports", views.ExportJobViewSet, basename="export-job")

urlpatterns = router.urls
