"""Configuration: the Settings object and how it is loaded."""
