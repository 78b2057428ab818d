"""Custom fields: definitions are data, values live on the record (``custom_fields`` JSON).

``types`` turns input into canonical stored values, ``values`` applies them to a record, and
``customers.services.custom_fields`` manages the definitions safely.
"""
