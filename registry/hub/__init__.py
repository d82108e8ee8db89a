"""The Hub layer over the registry: accounts, organizations, repository data, audit."""
