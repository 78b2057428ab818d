"""Exactly one celery beat at a time: a lease in the database that beat holds while it sends."""
