"""Hub settings: one frozen value built from flags, environment and defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from registry.proxy.config import ProxyNamespace

__all__ = ["Settings"]

DEFAULT_LISTEN = "127.0.0.1:5000"


def _split_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--listen wants HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `create_app` needs. Paths are absolute once built by `resolve()`."""

    listen_host: str = "127.0.0.1"
    listen_port: int = 5000
    data_dir: Path = Path("berth-data")
    database_url: str | None = None  # default: SQLite file in data_dir
    storage_url: str | None = None  # default: file://<data_dir>/storage
    tls_cert: Path | None = None
    tls_key: Path | None = None
    auth_enabled: bool = True  # Docker token auth; False is the open registry (--no-auth)
    auth_service: str = "berth"  # the token audience, `service=` in the Bearer challenge
    auth_realm: str | None = None  # token endpoint URL; default: <request origin>/token
    token_ttl_seconds: int = 300  # lifetime of issued bearer tokens
    refresh_ttl_seconds: int = 30 * 24 * 3600  # lifetime of refresh (identity) tokens
    admin_password: str | None = field(default=None, repr=False)  # first-start admin password
    # Login throttling (registry/auth/throttle.py): failures counted over this window.
    login_window_seconds: int = 300
    login_failures_per_pair: int = 5  # from one address on one account: that pair is refused
    login_failures_per_account: int = 20  # from all addresses: the account's logins slow down
    login_failures_per_address: int = 20  # in all: the address keeps one try per account
    login_slowdown_seconds: float = 1.0  # the wait before each password check when slowed
    pull_flush_seconds: float = 2.0  # pull counts are buffered in memory this long
    delete_enabled: bool = True
    auto_migrate: bool | None = None  # apply migrations at start; default: only on SQLite
    max_manifest_bytes: int = 4 * 1024 * 1024  # bytes; larger manifests get 413
    upload_chunk_min_bytes: int = 0  # advertised as OCI-Chunk-Min-Length when > 0
    log_level: str = "INFO"
    extra: Mapping[str, Any] = field(default_factory=dict)  # for features layered on top
    s3_region: str | None = None  # default: the AWS chain's region
    s3_endpoint_url: str | None = None  # an S3-compatible service instead of AWS
    s3_path_style: bool = False  # path-style bucket addressing (MinIO, moto)
    s3_redirect: bool = False  # answer blob GETs with 307 to a presigned S3 URL
    gc_interval: float = 0.0  # seconds between online GC runs in `serve`; 0: never
    gc_grace: float = 3600.0  # seconds an unreferenced blob or untagged manifest is kept
    # Seconds between checks for due scheduled retention runs (one replica runs them); 0: never
    retention_check_interval: float = 60.0
    # Replication (registry/replication): seconds between each replica's checks for due rules
    # and pushed tags (0: never), tries per item, and seconds before the first retry (doubling).
    replication_check_interval: float = 5.0
    replication_attempts: int = 4
    replication_backoff: float = 1.0
    workers: int = 1  # `serve` processes sharing the listening port (SO_REUSEPORT)
    # Pull-through cache (registry/proxy): namespaces served from upstreams; file only.
    proxy_namespaces: tuple[ProxyNamespace, ...] = ()
    proxy_tag_ttl: float = 300.0  # seconds a cached tag is served before a HEAD revalidates it
    proxy_mirror: str | None = None  # the proxy namespace behind dockerd's registry-mirrors
    # Webhooks (registry/webhooks): receivers they may reach, as host names, addresses, CIDR
    # networks and `public` (any global address but the hub's own), comma-separated.
    webhook_allowed_targets: str = "public"
    webhook_deliver: bool = True  # run a delivery worker; false leaves delivery to other hubs
    webhook_poll_seconds: float = 1.0  # outbox look-ups of each process without a local event
    webhook_timeout_seconds: float = 10.0  # one delivery attempt
    webhook_retry_seconds: float = 10.0  # wait after the first failure; doubles, at most 1 h
    webhook_max_attempts: int = 10  # then the delivery is marked failed
    webhook_lease_seconds: float = 60.0  # a claimed delivery's lease; above the timeout
    webhook_log_days: float = 30.0  # delivered and failed deliveries are kept this long
    # Kubernetes admission webhook (registry/admission): off unless enabled.
    admission_enabled: bool = False
    # `Authorization: Bearer` value the webhook callers must send; unset: the endpoints are
    # open and say no more about private repositories than allow or deny.
    admission_token: str | None = field(default=None, repr=False)
    # Host names (host[:port], comma-separated) by which pods name this hub's images;
    # default: the listen address (and localhost when listening on loopback).
    admission_registry_hosts: str = ""
    admission_other_registries: str = "allow"  # images on other registries: allow or deny
    # Seals the private keys kept in the database (token signing, trust); default: file in data_dir
    trust_key_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `BERTH_*` environment variables, then explicit overrides."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        host, port = _split_listen(env.get("BERTH_LISTEN", DEFAULT_LISTEN))
        values.update(listen_host=host, listen_port=port)
        if "BERTH_DATA" in env:
            values["data_dir"] = Path(env["BERTH_DATA"])
        if "BERTH_DATABASE_URL" in env:
            values["database_url"] = env["BERTH_DATABASE_URL"]
        if "BERTH_STORAGE" in env:
            values["storage_url"] = env["BERTH_STORAGE"]
        if "BERTH_TLS_CERT" in env:
            values["tls_cert"] = Path(env["BERTH_TLS_CERT"])
        if "BERTH_TLS_KEY" in env:
            values["tls_key"] = Path(env["BERTH_TLS_KEY"])
        if env.get("BERTH_AUTH", "").lower() == "none":
            values["auth_enabled"] = False
        if "BERTH_AUTH_SERVICE" in env:
            values["auth_service"] = env["BERTH_AUTH_SERVICE"]
        if "BERTH_AUTH_REALM" in env:
            values["auth_realm"] = env["BERTH_AUTH_REALM"]
        if env.get("BERTH_ADMIN_PASSWORD"):
            values["admin_password"] = env["BERTH_ADMIN_PASSWORD"]
        if "BERTH_LOG_LEVEL" in env:
            values["log_level"] = env["BERTH_LOG_LEVEL"]
        if "BERTH_TRUST_KEY_SECRET" in env:
            values["trust_key_secret"] = env["BERTH_TRUST_KEY_SECRET"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "listen" in values:
            values["listen_host"], values["listen_port"] = _split_listen(values.pop("listen"))
        return cls(**values).resolve()

    def resolve(self) -> Settings:
        data_dir = self.data_dir.absolute()
        database_url = self.database_url or f"sqlite+aiosqlite:///{data_dir / 'berth.db'}"
        return replace(
            self,
            data_dir=data_dir,
            database_url=database_url,
            storage_url=self.storage_url or f"file://{data_dir / 'storage'}",
            # A shared server database is upgraded deliberately (`berth-hub db upgrade`),
            # never by whichever replica happens to start first.
            auto_migrate=(
                database_url.startswith("sqlite")
                if self.auto_migrate is None
                else self.auto_migrate
            ),
        )

    @property
    def is_sqlite(self) -> bool:
        return (self.database_url or "").startswith("sqlite")
