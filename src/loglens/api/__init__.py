"""api stage of the loglens pipeline."""
