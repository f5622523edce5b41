"""Imports every command module so each registers its commands on the app."""

from loglens.cli import (
    basic,  # noqa: F401
    eval,  # noqa: F401
)
