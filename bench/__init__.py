"""Benchmarks, run as scripts (each explains itself); the app never imports this package."""
