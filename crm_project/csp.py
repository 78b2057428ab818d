"""The Content-Security-Policy middleware: django-csp's, with the one allowance that the
browsable API's pages need, given to them alone."""

from dataclasses import replace

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.http import HttpRequest, HttpResponseBase
from rest_framework.renderers import BrowsableAPIRenderer

# DRF's templates lay out a few buttons with style="" attributes. An attribute can restyle
# its own element but neither run script nor select other elements, and <style> elements stay
# refused (``style-src-elem`` falls back to ``style-src 'self'``).
_BROWSABLE_API = {"style-src-attr": [UNSAFE_INLINE]}


class CSPMiddleware(BaseCSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        renderer = getattr(response, "accepted_renderer", None)
        if isinstance(renderer, BrowsableAPIRenderer):
            parts = replace(parts, update={**(parts.update or {}), **_BROWSABLE_API})
        return parts
