"""SafeFlow: a metadata-driven no-code platform for workplace safety."""

__version__ = "0.1.0"
