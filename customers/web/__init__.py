"""The web UI for sales staff: server-rendered pages, progressively enhanced with htmx."""
