def build_all(): return []
