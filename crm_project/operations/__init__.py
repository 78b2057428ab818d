"""Operating the CRM: liveness and readiness probes (``health``), Prometheus metrics
(``metrics``, ``collectors``, ``middleware``) and the three endpoints that serve them (``views``).

It reads the core (models, crypto, the webhook outbox) and imports no door.
"""
