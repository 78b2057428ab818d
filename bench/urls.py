"""The real URLconf plus the naive baseline under /bench/naive/, for benchmark servers only."""

from django.urls import include, path

from crm_project.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("bench/naive/", include("bench.naive_api")),
    *app_urlpatterns,
]
