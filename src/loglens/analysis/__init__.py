"""analysis stage of the loglens pipeline."""
