from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from crm_project.api_schema import SchemaView
from crm_project.operations.views import healthz, metrics_view, readyz
from integrations.soap.views import soap_view

# The documentation pages are HTML templates: DRF's OPTIONS description has no template to
# render into (a 500), so they answer GET and HEAD only.
_PAGE_METHODS = ["get", "head"]

# ReDoc styles itself by injecting <style> elements and searches in a worker it builds from a
# blob: URL; only its page gets those allowances (scripts stay our own, none inline). Swagger
# UI needs none: the split view serves its start-up script from a URL instead of inline.
redoc_view = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})(
    SpectacularRedocView.as_view(url_name="api-schema", http_method_names=_PAGE_METHODS)
)

urlpatterns = [
    # Probes and metrics (crm_project/operations): no log-in, exempt from the SSL redirect.
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("", include("customers.web.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("customers.api.urls")),
    path("api/v1/", include("integrations.api.urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", http_method_names=_PAGE_METHODS),
        name="api-docs",
    ),
    path("api/redoc/", redoc_view, name="api-redoc"),
    path("soap/", soap_view, name="soap"),  # csrf-exempt: partners authenticate per message
]

# A database that cannot be reached answers 503 (retry shortly), any other failure Django's 500.
handler500 = "crm_project.server_errors.server_error"
