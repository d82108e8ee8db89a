"""Every typed `web.AppKey` of the hub, declared in one place."""

from __future__ import annotations

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.admission.service import AdmissionService
from registry.auth.access import AccessController
from registry.auth.controller import TokenAccessController
from registry.auth.tokens import TokenIssuer
from registry.db.hotreads import HotReads
from registry.db.writer import Writer
from registry.hub.accounts import AccountService
from registry.hub.audit import AuditLog
from registry.hub.filesystem import ImageFilesystem
from registry.hub.images import ImageService
from registry.hub.immutability import ImmutabilityService
from registry.hub.pulls import PullCounter
from registry.hub.quotas import QuotaService
from registry.hub.repositories import RepositoryService
from registry.hub.retention import RetentionService
from registry.hub.robots import RobotService
from registry.hub.signature_policies import SignaturePolicyService
from registry.metrics import Metrics
from registry.proxy.cache import ProxyCache
from registry.proxy.fetchclaims import FetchClaims
from registry.replication.service import ReplicationService
from registry.services.blobs import BlobService
from registry.services.contenttrust import ContentTrustPolicy
from registry.services.manifests import ManifestService
from registry.services.uploads import UploadService
from registry.settings import Settings
from registry.storage.driver.base import StorageDriver
from registry.web.sessions import SessionStore
from registry.webhooks.service import WebhookService
from registry.webhooks.worker import DeliveryWorker

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
READS = web.AppKey("reads", HotReads)  # prebuilt reads of every request (pulls, auth)
WRITER = web.AppKey("writer", Writer)  # write transactions of the registry's hot paths
DRIVER = web.AppKey("driver", StorageDriver)
BLOBS = web.AppKey("blobs", BlobService)
UPLOADS = web.AppKey("uploads", UploadService)
MANIFESTS = web.AppKey("manifests", ManifestService)
ACCESS = web.AppKey("access", AccessController)
METRICS = web.AppKey("metrics", Metrics)
# The Hub layer (accounts, token auth, repository data).
AUTH = web.AppKey("auth", TokenAccessController)  # credentials and grants, even with --no-auth
TOKEN_ISSUER = web.AppKey("token_issuer", TokenIssuer)
ACCOUNTS = web.AppKey("accounts", AccountService)
ROBOTS = web.AppKey("robots", RobotService)  # organisations' robot accounts
REPOSITORIES = web.AppKey("repositories", RepositoryService)
PULLS = web.AppKey("pulls", PullCounter)
AUDIT = web.AppKey("audit", AuditLog)
CONTENT_TRUST = web.AppKey("content_trust", ContentTrustPolicy)  # the verification gate
ADMISSION = web.AppKey("admission", AdmissionService)  # the Kubernetes admission webhook
SIGNATURE_POLICIES = web.AppKey("signature_policies", SignaturePolicyService)
IMMUTABILITY = web.AppKey("immutability", ImmutabilityService)  # immutable tag rules
RETENTION = web.AppKey("retention", RetentionService)  # retention policies and runs
QUOTAS = web.AppKey("quotas", QuotaService)  # namespaces' storage quotas and usage
PROXY = web.AppKey("proxy", ProxyCache)  # the pull-through cache of proxy namespaces
PROXY_CLAIMS = web.AppKey("proxy_claims", FetchClaims)  # blob fetches across hub processes
REPLICATION = web.AppKey("replication", ReplicationService)  # rules, runs and their history
# The web interface (registry.web).
IMAGES = web.AppKey("images", ImageService)  # manifests and configs as the tag page shows them
FILESYSTEM = web.AppKey("filesystem", ImageFilesystem)  # an image's merged files, for browsing
WEB_SESSIONS = web.AppKey("web_sessions", SessionStore)
WEB_TEMPLATES = web.AppKey("web_templates", jinja2.Environment)
# Webhooks: their management and this process's delivery worker.
WEBHOOKS = web.AppKey("webhooks", WebhookService)
WEBHOOK_WORKER = web.AppKey("webhook_worker", DeliveryWorker)
