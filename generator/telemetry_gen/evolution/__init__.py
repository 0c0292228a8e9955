"""Catalog evolution: compare two catalogs (diff), check the version bumps they need (versions),
read earlier catalogs from git (git) and write the history of a catalog (changelog)."""
