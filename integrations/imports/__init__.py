"""The file import pipeline: a file or a connector's records become an ImportJob, run in
chunks (parse, map columns, clean, write, report). ``services`` is the entry point."""
