"""parsing stage of the loglens pipeline."""
