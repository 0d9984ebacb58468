"""Uploaded files: deciding what a file is from its bytes, and where it is kept."""
