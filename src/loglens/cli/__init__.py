"""cli stage of the loglens pipeline."""
