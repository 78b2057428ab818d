"""The write side of the domain: every door (REST, SOAP, UI, admin, imports, tasks) calls these.

Services validate with the model's own rules and raise ``django.core.exceptions.ValidationError``
keyed by field; each door translates that once into its own error shape.
"""
