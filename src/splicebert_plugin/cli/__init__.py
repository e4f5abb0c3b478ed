"""The ``splicebert`` command: ``main`` (parser, exit policy) and one module per group of verbs."""

from .main import main

__all__ = ["main"]
