"""The replication loop every hub process runs: due schedules, then queued pushes.

Replicas do not coordinate beyond the database: a due rule is claimed by one of them per
period, a queued push is leased to one of them, and the rule's run lease keeps any two runs
of one rule apart.
"""

from __future__ import annotations

import asyncio
import logging

from registry.replication.service import ReplicationService

logger = logging.getLogger(__name__)

__all__ = ["run_replication"]


async def run_replication(service: ReplicationService, interval: float) -> None:
    """Every `interval` seconds, run what is due and what was pushed, forever (cancel to stop)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await service.run_due()
            await service.run_pushes()
        except Exception:
            logger.exception("replication check failed")
