"""Every registry table as a SQLAlchemy Core `Table`, declared once for the query modules.

The ORM models (`models.py`, `hub_models.py`) define the tables; the query modules build Core
statements on these handles. Trust's own tables stay in `trust.server.store.sql`.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from registry.db.hub_models import (
    AccessToken,
    AuditEvent,
    Grant,
    LoginFailure,
    Namespace,
    RepositoryProfile,
    RobotAccount,
    SigningKey,
    Star,
    Team,
    TeamMember,
    User,
    WebSession,
)
from registry.db.models import (
    Blob,
    ImmutableTagRule,
    Lease,
    Manifest,
    ManifestReference,
    NamespaceQuota,
    Repository,
    RepositoryBlob,
    RetentionPolicyRow,
    RetentionRun,
    SignaturePolicyDocument,
    Tag,
)
from registry.db.replication_models import ReplicationPush, ReplicationRule, ReplicationRun
from registry.db.webhook_models import Webhook, WebhookDelivery

# The registry's content.
repositories = cast(Table, Repository.__table__)
blobs = cast(Table, Blob.__table__)
repository_blobs = cast(Table, RepositoryBlob.__table__)
manifests = cast(Table, Manifest.__table__)
manifest_references = cast(Table, ManifestReference.__table__)
tags = cast(Table, Tag.__table__)
signature_policies = cast(Table, SignaturePolicyDocument.__table__)
immutable_tag_rules = cast(Table, ImmutableTagRule.__table__)
retention_policies = cast(Table, RetentionPolicyRow.__table__)
retention_runs = cast(Table, RetentionRun.__table__)
leases = cast(Table, Lease.__table__)
namespace_quotas = cast(Table, NamespaceQuota.__table__)

# The hub: accounts, organizations, repository profiles and stars, the audit log.
users = cast(Table, User.__table__)
namespaces = cast(Table, Namespace.__table__)
teams = cast(Table, Team.__table__)
team_members = cast(Table, TeamMember.__table__)
grants = cast(Table, Grant.__table__)
access_tokens = cast(Table, AccessToken.__table__)
signing_keys = cast(Table, SigningKey.__table__)
profiles = cast(Table, RepositoryProfile.__table__)
stars = cast(Table, Star.__table__)
audit_events = cast(Table, AuditEvent.__table__)
login_failures = cast(Table, LoginFailure.__table__)
web_sessions = cast(Table, WebSession.__table__)
robot_accounts = cast(Table, RobotAccount.__table__)

# Webhooks and their outbox of deliveries.
webhooks = cast(Table, Webhook.__table__)
webhook_deliveries = cast(Table, WebhookDelivery.__table__)

# Replication rules, their runs, and pushes waiting for on-push rules.
replication_rules = cast(Table, ReplicationRule.__table__)
replication_runs = cast(Table, ReplicationRun.__table__)
replication_pushes = cast(Table, ReplicationPush.__table__)
