"""Writes and workflows for data crossing the border: partner API keys, imports, exports."""
