"""Replication between the hub and other registries speaking the distribution API.

`rules` (pure: what a rule says), `remote` and `local` (the two kinds of endpoint a copy
goes between), `copier` (the walk over a tag's descriptors), `service` (rules, runs and their
history on the database) and `worker` (schedules and pushes, on every replica).
"""
