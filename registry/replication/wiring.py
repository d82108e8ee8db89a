"""Building the replication service from the settings and the hub's services (app and CLI)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.hub.audit import AuditLog
from registry.keysecret import key_encryption_secret
from registry.replication.copier import RetryPolicy
from registry.replication.local import HubEndpoint
from registry.replication.sealing import RemotePasswordSealer
from registry.replication.service import ReplicationService
from registry.replication.worker import run_replication
from registry.services.blobs import BlobService
from registry.services.manifests import ManifestService
from registry.services.uploads import UploadService
from registry.settings import Settings
from registry.webhooks.events import Cause

__all__ = ["REPLICATION_ACTOR", "replication_service", "run_replication"]

REPLICATION_ACTOR = "(replication)"  # who webhook events name for replicated pushes


def replication_service(
    settings: Settings,
    engine: AsyncEngine,
    manifests: ManifestService,
    blobs: BlobService,
    uploads: UploadService,
    audit: AuditLog,
) -> ReplicationService:
    hub = HubEndpoint(manifests, blobs, uploads, Cause(REPLICATION_ACTOR))
    retry = RetryPolicy(
        attempts=max(1, settings.replication_attempts), backoff=settings.replication_backoff
    )
    return ReplicationService(
        engine,
        hub,
        RemotePasswordSealer(key_encryption_secret(settings)),
        audit,
        retry,
        settings.max_manifest_bytes,
    )
