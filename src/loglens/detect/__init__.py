"""detect stage of the loglens pipeline."""
