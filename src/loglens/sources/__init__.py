"""sources stage of the loglens pipeline."""
