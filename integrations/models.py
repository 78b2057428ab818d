"""Integration records (import/export jobs, connections, webhooks) arrive with their issues."""
