"""Connections on the integrations area (managers): list with each one's last run, create,
edit, delete, run now, test (the first records of the source and how they would import), and a
page of recent runs. Every write goes through ``integrations.services.connections``, as the
REST API's; secrets are shown only as the placeholder the sync service gives."""

import time
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers import pii
from customers.web.exchange_common import MANAGE_INTEGRATIONS, requires_perm
from integrations.connectors import available_connectors, connector_class
from integrations.models import Connection, ImportJob, Resource, SyncRun
from integrations.services import connections, sync
from integrations.web.connection_forms import ConnectionInputForm

RECENT_RUNS = 50
SOURCE_ERRORS_SHOWN = 20
QUEUED_WAIT_SECONDS = 60  # how long the page waits for a queued run to start


@requires_perm(MANAGE_INTEGRATIONS)
@require_GET
def connection_list(request: HttpRequest) -> HttpResponse:
    connections = list(_connections())
    for connection in connections:
        _label(connection)
        connection.schedule_words = schedule_in_words(connection)
        connection.last_run = connection.latest_runs[0] if connection.latest_runs else None
    return render(request, "web/connections/list.html", {"connections": connections})


@requires_perm(MANAGE_INTEGRATIONS)
@require_http_methods(["GET", "POST"])
def connection_new(request: HttpRequest) -> HttpResponse:
    form = ConnectionInputForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        connection = _save(
            form,
            lambda: connections.connection_create(actor=request.user, data=form.service_data()),
        )
        if connection is not None:
            messages.success(request, _("The connection “%(name)s” is saved.") % _name(connection))
            return redirect("web:connection-detail", connection.pk)
    return _form_page(request, form, status=422 if form.errors else 200)


@requires_perm(MANAGE_INTEGRATIONS)
@require_http_methods(["GET", "POST"])
def connection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(_with_schedule(Connection.objects), pk=pk)
    form = ConnectionInputForm(request.POST or None, connection=connection)
    if request.method == "POST" and form.is_valid():
        saved = _save(
            form,
            lambda: connections.connection_update(
                actor=request.user, connection=connection, data=form.service_data()
            ),
        )
        if saved is not None:
            messages.success(request, _("The connection “%(name)s” is saved.") % _name(saved))
            return redirect("web:connection-detail", saved.pk)
    return _form_page(request, form, connection=connection, status=422 if form.errors else 200)


@requires_perm(MANAGE_INTEGRATIONS)
@require_GET
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(_with_schedule(Connection.objects), pk=pk)
    _label(connection)
    runs = list(connection.runs.select_related("import_job")[:RECENT_RUNS])
    for run in runs:
        run.shown_source_errors = run.source_errors[:SOURCE_ERRORS_SHOWN]
    context = {
        "connection": connection,
        "refresh": _refresh_while_running(request, runs),
        "config": sync.public_config(connection),
        "schedule_words": schedule_in_words(connection),
        "runs": runs,
        "source_errors_shown": SOURCE_ERRORS_SHOWN,
    }
    return render(request, "web/connections/detail.html", context)


@requires_perm(MANAGE_INTEGRATIONS)
@require_POST
def connection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    connections.connection_delete(connection=connection)
    messages.success(request, _("The connection “%(name)s” is deleted.") % _name(connection))
    return redirect("web:connection-list")


@requires_perm(MANAGE_INTEGRATIONS)
@require_POST
def connection_run(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    queued_at = int(time.time())  # before queueing: the run may start at once
    try:
        connections.connection_run(connection=connection)
    except (sync.RunRefused, sync.QueueUnavailable) as error:
        messages.error(request, str(error))
        return redirect("web:connection-detail", connection.pk)
    messages.success(
        request, _("A run of “%(name)s” is queued; its outcome appears below.") % _name(connection)
    )
    detail = reverse("web:connection-detail", args=[connection.pk])
    return redirect(f"{detail}?queued={queued_at}")


@requires_perm(MANAGE_INTEGRATIONS)
@require_POST
def connection_test(request: HttpRequest, pk: int) -> HttpResponse:
    """The REST API's test, as a page: nothing is written, so a POST only because it calls the
    source (a link prefetched or followed twice should not)."""
    connection = get_object_or_404(Connection, pk=pk)
    result = connections.connection_test(
        connection=connection, can_view_pii=pii.can_view_pii(request.user)
    )
    for record in result.records:
        record.error_items = [
            (field or _("whole record"), " ".join(texts)) for field, texts in record.errors.items()
        ]
    context = {"connection": connection, "result": result, "limit": connections.TEST_RECORDS}
    return render(request, "web/connections/test.html", context)


def _refresh_while_running(request: HttpRequest, runs: list[SyncRun]) -> bool:
    """Whether the runs table should poll (htmx): a run is going, or one was queued from this
    page (``?queued=<epoch>``) and has not started yet, for up to a minute."""
    if runs and not runs[0].is_finished:
        return True
    queued = request.GET.get("queued", "")
    if not queued.isdigit() or time.time() - int(queued) > QUEUED_WAIT_SECONDS:
        return False
    return not runs or runs[0].started_at.timestamp() < int(queued)


def schedule_in_words(connection: Connection) -> str:
    every_seconds, crontab = sync.schedule_parts(connection)
    if crontab is not None:
        return _("Crontab “%(line)s” (UTC)") % {"line": crontab}
    if every_seconds is None:
        return _("Only when run by hand")
    for unit, words in ((86400, _days), (3600, _hours), (60, _minutes)):
        if every_seconds % unit == 0:
            return words(every_seconds // unit)
    return ngettext("Every %(count)d second", "Every %(count)d seconds", every_seconds) % {
        "count": every_seconds
    }


def _days(count: int) -> str:
    return ngettext("Every day", "Every %(count)d days", count) % {"count": count}


def _hours(count: int) -> str:
    return ngettext("Every hour", "Every %(count)d hours", count) % {"count": count}


def _minutes(count: int) -> str:
    return ngettext("Every minute", "Every %(count)d minutes", count) % {"count": count}


def _save(form: ConnectionInputForm, write: Callable[[], Connection]) -> Connection | None:
    """Write through the service; on refusal (which reports every field at once, the
    schedule's too, and stores nothing) each error goes next to its field."""
    try:
        return write()
    except ValidationError as error:
        form.apply_errors(error)
        return None


def _form_page(request: HttpRequest, form: ConnectionInputForm, *, status: int, **extra):
    context = {"form": form, "connectors": _connector_help(), **extra}
    return render(request, "web/connections/form.html", context, status=status)


def _connector_help() -> list[dict]:
    """Each connector's keys (which are secret, which required) shown beside the form."""
    described = []
    for name in available_connectors():
        try:
            connector = connector_class(name)
        except ValidationError:
            continue  # a misconfigured plug-in: the select still names it, the service refuses
        keys = [
            {"name": key, "required": spec.required, "secret": spec.secret, "help": spec.help}
            for key, spec in connector.config_keys.items()
        ]
        described.append({"name": name, "label": connector.label or name, "keys": keys})
    return described


def _connections() -> QuerySet[Connection]:
    """One query for the connections and their schedules, one for their last runs."""
    latest = SyncRun.objects.order_by("-started_at", "-id")[:1]
    return _with_schedule(Connection.objects).prefetch_related(
        Prefetch("runs", queryset=latest, to_attr="latest_runs")
    )


def _with_schedule(queryset: QuerySet[Connection]) -> QuerySet[Connection]:
    return queryset.select_related("schedule__interval", "schedule__crontab")


def _label(connection: Connection) -> None:
    """The choices' translated labels (the model stores the plain values)."""
    connection.resource_label = dict(Resource.choices).get(connection.resource, connection.resource)
    connection.mode_label = dict(ImportJob.Mode.choices).get(connection.mode, connection.mode)
    connection.match_key_label = dict(ImportJob.MatchKey.choices).get(
        connection.match_key, connection.match_key
    )


def _name(connection: Connection) -> dict[str, str]:
    return {"name": connection.name}
