"""The OpenAPI schema at /api/schema/, shown by a browser rather than saved as a download.

drf-spectacular answers with `application/vnd.oai.openapi` (YAML), a type browsers do not
display: opening the link saved a 1.2 MB file. A request that accepts `text/html` (a browser
navigating) gets JSON as `application/json`, or with `?format=yaml` YAML as `text/plain`; tools
(curl, code generators, Swagger UI, ReDoc) negotiate exactly as before.
"""

from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView
from rest_framework.negotiation import DefaultContentNegotiation

_SHOWN_BY_BROWSERS = {"application/json", "text/plain"}


class OpenApiYamlTextRenderer(OpenApiYamlRenderer):
    media_type = "text/plain"


class BrowserShownSchemaNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if "text/html" in request.META.get("HTTP_ACCEPT", ""):
            wanted = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
            for renderer in renderers:
                if renderer.media_type in _SHOWN_BY_BROWSERS and renderer.format == (
                    wanted or "json"
                ):
                    return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)


class SchemaView(SpectacularAPIView):
    content_negotiation_class = BrowserShownSchemaNegotiation
    renderer_classes = [*SpectacularAPIView.renderer_classes, OpenApiYamlTextRenderer]
