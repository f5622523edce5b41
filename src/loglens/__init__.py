"""loglens: log intelligence for small Kubernetes clusters."""

from importlib.metadata import PackageNotFoundError, version

from loglens import native

# Before anything imports a hot-path module: compiled only if built from these sources.
native.guard()

try:
    __version__ = version("loglens")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["__version__"]
