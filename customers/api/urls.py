from rest_framework import permissions, routers

from customers.api import views


class ApiRootView(routers.APIRootView):
    """The CRM's REST API. Every resource speaks JSON, XML and CSV (Accept or ?format=)."""

    permission_classes = [permissions.IsAuthenticated]


class Router(routers.DefaultRouter):
    APIRootView = ApiRootView


router = Router()
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("companies", views.CompanyViewSet, basename="company")
router.register("deals", views.DealViewSet, basename="deal")
router.register("activities", views.ActivityViewSet, basename="activity")
router.register("pipelines", views.PipelineViewSet, basename="pipeline")
router.register("tags", views.TagViewSet, basename="tag")
router.register("users", views.UserViewSet, basename="user")
router.register("custom-fields", views.CustomFieldViewSet, basename="custom-field")

urlpatterns = router.urls
