"""The integrations area of the web UI: the import wizard, partner API keys, connections
and webhook subscriptions. URLs in ``urls`` (included by ``customers.web.urls``, in the
``web`` namespace); templates in templates/web/."""
