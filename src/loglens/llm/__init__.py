"""llm stage of the loglens pipeline."""
