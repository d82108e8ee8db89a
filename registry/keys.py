"""Every typed `web.AppKey` of the hub, declared in one place."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.auth.access import AccessController
from registry.metrics import Metrics
from registry.services.blobs import BlobService
from registry.services.manifests import ManifestService
from registry.services.uploads import UploadService
from registry.settings import Settings
from registry.storage.driver.base import StorageDriver

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
DRIVER = web.AppKey("driver", StorageDriver)
BLOBS = web.AppKey("blobs", BlobService)
UPLOADS = web.AppKey("uploads", UploadService)
MANIFESTS = web.AppKey("manifests", ManifestService)
ACCESS = web.AppKey("access", AccessController)
METRICS = web.AppKey("metrics", Metrics)
