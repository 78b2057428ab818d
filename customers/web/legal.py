"""The legal notices AGPL-3.0 asks of a program used over a network: the licence, the absence of
warranty, and the source of the running code, for every visitor (signed in or not)."""

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_safe

from crm_project.source_archive import open_source_archive

LICENCE_FILE = "LICENSE"


@require_safe
def licence(request: HttpRequest) -> HttpResponse:
    """The notice, then the licence verbatim (the FSF text is English only)."""
    text = (settings.BASE_DIR / LICENCE_FILE).read_text(encoding="utf-8")
    return render(request, "legal/licence.html", {"licence_text": text})


@require_safe
def source(request: HttpRequest) -> HttpResponse:
    """The Corresponding Source: SOURCE_URL when the operator publishes it, else a zip of the
    running code built from the project folder (local state and secrets left out)."""
    if settings.SOURCE_URL:
        return redirect(settings.SOURCE_URL)
    archive = open_source_archive(
        settings.BASE_DIR,
        cache_dir=settings.VAR_DIR / "source-archive",
        left_out=[settings.VAR_DIR, settings.MEDIA_ROOT, settings.STATIC_ROOT],
    )
    return FileResponse(
        archive, as_attachment=True, filename="crm-source.zip", content_type="application/zip"
    )


urlpatterns = [
    path("licence/", licence, name="legal-licence"),
    path("source/", source, name="legal-source"),
]
