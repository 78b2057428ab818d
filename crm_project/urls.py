from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from integrations.soap.views import soap_view

# The documentation pages are HTML templates: DRF's OPTIONS description has no template to
# render into (a 500), so they answer GET and HEAD only.
_PAGE_METHODS = ["get", "head"]

urlpatterns = [
    path("", include("customers.web.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("customers.api.urls")),
    path("api/v1/", include("integrations.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", http_method_names=_PAGE_METHODS),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", http_method_names=_PAGE_METHODS),
        name="api-redoc",
    ),
    path("soap/", soap_view, name="soap"),  # csrf-exempt: partners authenticate per message
]
