"""Bulk exports: a filtered set of records written to a file (an ExportJob) or a stream.
``services`` is the entry point."""
