"""retrieval stage of the loglens pipeline."""
