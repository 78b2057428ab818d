"""gunicorn's logger as the app's own handlers log: personal data masked
(``crm_project.log_masking``) in the access log's atoms (the request line, the query string,
the referrer, every header and environ value that carries a URL) and in every error log line
(gunicorn logs the URI of a failed request); each line with the request's id (an access line
takes it from the response's ``X-Request-ID``); one JSON object per line under
``LOG_FORMAT=json`` (``crm_project.json_logging``).

The project's ``gunicorn.conf.py`` sets it as ``logger_class``; gunicorn reads that file from
the folder it starts in, or pass ``--logger-class crm_project.gunicorn_logging.MaskingLogger``.
"""

from typing import Any

from gunicorn.glogging import Logger

from crm_project.json_logging import JsonFormatter, json_logs
from crm_project.log_masking import MaskPersonalData, mask_query, mask_text
from crm_project.request_id import HEADER, RequestIdFilter, bound, sane_or_none

# Atoms holding a bare query string (no leading "?"): masked parameter by parameter.
_QUERY_ATOMS = ("q", "{query_string}e")


class MaskingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        as_json = json_logs()
        for log in (self.error_log, self.access_log):
            for kind in (MaskPersonalData, RequestIdFilter):
                if not any(isinstance(f, kind) for f in log.filters):
                    log.addFilter(kind())
            if as_json:
                for handler in log.handlers:
                    handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        # The app's context is gone by now; the response still names the request.
        with bound(_request_id_of(resp)):
            super().access(resp, req, environ, request_time)

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if isinstance(value, str):
                atoms[name] = mask_query(value) if name in _QUERY_ATOMS else mask_text(value)
        return atoms


def _request_id_of(resp: Any) -> str | None:
    wanted = HEADER.lower()
    for name, value in getattr(resp, "headers", None) or ():
        if name.lower() == wanted:
            return sane_or_none(value)
    return None
