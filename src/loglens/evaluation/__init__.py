"""evaluation stage of the loglens pipeline."""
