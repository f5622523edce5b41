"""patterns stage of the loglens pipeline."""
