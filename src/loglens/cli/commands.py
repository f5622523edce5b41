"""Imports every command module so each registers its commands on the app."""

from loglens.cli import (  # noqa: F401
    analyze,
    basic,
    classify,
    compare,
    demo,
    eval,
    index,
    llm,
    patterns,
    search,
)
