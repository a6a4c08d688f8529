"""Package version (read by setuptools and shown by ``kdsupport --version``)."""

__version__ = "0.1.0"
