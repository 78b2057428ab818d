"""gunicorn's logger with personal data masked (``crm_project.log_masking``): in the access
log's atoms (the request line, the query string, the referrer, every header and environ value
that carries a URL) and in every error log line (gunicorn logs the URI of a failed request).

The project's ``gunicorn.conf.py`` sets it as ``logger_class``; gunicorn reads that file from
the folder it starts in, or pass ``--logger-class crm_project.gunicorn_logging.MaskingLogger``.
"""

from typing import Any

from gunicorn.glogging import Logger

from crm_project.log_masking import MaskPersonalData, mask_query, mask_text

# Atoms holding a bare query string (no leading "?"): masked parameter by parameter.
_QUERY_ATOMS = ("q", "{query_string}e")


class MaskingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, MaskPersonalData) for f in log.filters):
                log.addFilter(MaskPersonalData())

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if isinstance(value, str):
                atoms[name] = mask_query(value) if name in _QUERY_ATOMS else mask_text(value)
        return atoms
