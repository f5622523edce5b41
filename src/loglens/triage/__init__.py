"""triage stage of the loglens pipeline."""
