"""Counts and times every response (first in MIDDLEWARE, so redirects, refusals and errors
count too, with the time every other middleware took)."""

import time

from crm_project.operations.metrics import observe_request


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        observe_request(
            path=request.path_info,
            method=request.method,
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response
