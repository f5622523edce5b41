def write_readme(path, written): pass
