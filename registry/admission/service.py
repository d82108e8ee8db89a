"""Admission decisions: every image of this hub resolved to a digest and put to the pull gate.

For each container image of a review (`registry.admission.review`):

- an image names this hub when its registry host is one of the configured host names
  (`AdmissionOptions.hosts`); its path names the repository as a pull would (with auth on, a
  bare `app` is `library/app`);
- it is resolved in the hub's database: a tag to its digest, a digest to a manifest of the
  repository (with both, the digest counts: the kubelet pulls by it); one the hub does not
  have is refused;
- a repository that requires content trust must pass `ContentTrustPolicy.check` for that
  reference, the very check a manifest GET passes: its signature policy (cosign, Notation,
  Docker Content Trust, index rules) or, without one, Docker Content Trust; the refusal's
  reason is the gate's own message;
- images on other registries (no host, `docker.io`, any host not named) are allowed or refused
  as `other_registries` says.

What the caller learns: with an admission token configured, only callers that send it are
answered, and they read each refusal's reason. Without one the endpoints are open; then an
image in a private repository, or in none, is refused with one reason for every cause
(`PRIVATE_REASON`) and never pinned to its digest, so an answer tells an unknown caller no more
about private repositories than allowed or refused. The audit log keeps the full reasons.

Scope: the decision and its audit row; the wire format is `registry.admission.review`'s.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.admission.review import ContainerImage, Review
from registry.db import hub_queries
from registry.errors import ManifestUnknownError, UnauthorizedError, UnsignedContentError
from registry.hub.audit import AuditLog
from registry.hub.names import repository_of_path
from registry.oci.reference import Reference, ReferenceError
from registry.services.contenttrust import ContentTrustPolicy
from registry.services.manifests import ManifestService
from registry.settings import Settings

__all__ = [
    "ADMISSION_ACTOR",
    "PRIVATE_REASON",
    "AdmissionOptions",
    "AdmissionService",
    "Decision",
    "ImageResult",
]

logger = logging.getLogger(__name__)

ADMISSION_ACTOR = "(admission)"  # the audit log's actor for admission decisions
DOCKER_HUB = "docker.io"  # where an image without a registry host comes from
PRIVATE_REASON = "not on this hub, or not signed as its policy requires"
# Listening on one of these, the hub answers on localhost too (the wildcards: everywhere).
_LOCAL_BINDS = frozenset({"127.0.0.1", "::1", "localhost", "0.0.0.0", "::"})
_MAX_TARGET = 255  # characters of the audit log's target column


def normal_host(host: str) -> str:
    """A registry host as compared: lowercase, and `:443` (https' port) is the bare host."""
    host = host.strip().lower()
    return host.removesuffix(":443")


@dataclass(frozen=True, slots=True)
class AdmissionOptions:
    """How the webhook answers.

    Attributes:
        hosts: this hub's registry host names (`host[:port]`, normalised).
        allow_other_registries: whether images on other registries pass.
        token: the bearer token callers must send; None: the endpoints are open.
    """

    hosts: frozenset[str]
    allow_other_registries: bool
    token: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> AdmissionOptions:
        """The options the `admission_*` settings give.

        Raises:
            ValueError: `admission_other_registries` is neither allow nor deny.
        """
        rule = settings.admission_other_registries.strip().lower()
        if rule not in ("allow", "deny"):
            raise ValueError(f"wants allow or deny, got {settings.admission_other_registries!r}")
        named = [h for h in settings.admission_registry_hosts.split(",") if h.strip()]
        if not named:
            host, port = settings.listen_host, settings.listen_port
            named = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
            if host in _LOCAL_BINDS:
                named += [f"localhost:{port}", f"127.0.0.1:{port}"]
        return cls(
            frozenset(normal_host(h) for h in named), rule == "allow", settings.admission_token
        )


@dataclass(frozen=True, slots=True)
class ImageResult:
    """The decision on one container's image.

    Attributes:
        image: the container and its image.
        allowed: whether the image may run.
        reason: why it may not (in full, for the audit log).
        shown: the reason the caller reads.
        digest: the digest it resolved to (this hub's images).
        pinned: the image by that digest, when the answer may pin it.
    """

    image: ContainerImage
    allowed: bool
    reason: str = ""
    shown: str = ""
    digest: str | None = None
    pinned: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one review: allowed, and if not why; each image's result."""

    allowed: bool
    message: str
    results: tuple[ImageResult, ...]

    def pins(self) -> list[tuple[str, str]]:
        """(JSON pointer, image by digest) for each image to pin; none unless allowed."""
        if not self.allowed:
            return []
        return [
            (result.image.path, result.pinned)
            for result in self.results
            if result.pinned is not None
        ]


@dataclass(frozen=True, slots=True)
class _Checked:
    """One image reference checked (shared by every container that names it)."""

    allowed: bool
    reason: str = ""
    repository: str | None = None  # the hub's repository it names (None: not this hub's)
    digest: str | None = None
    pinned: str | None = None


class AdmissionService:
    """Decides admission reviews with the hub's own pull gate.

    Args:
        options: host names, the rule for other registries, the token.
        manifests: resolves tags and digests.
        trust: the pull gate (signature policies and Docker Content Trust).
        engine: the hub database (repository visibility).
        audit: where decisions are recorded.
        open_registry: the hub runs without authentication (nothing is private).
    """

    def __init__(
        self,
        options: AdmissionOptions,
        manifests: ManifestService,
        trust: ContentTrustPolicy,
        engine: AsyncEngine,
        audit: AuditLog,
        *,
        open_registry: bool,
    ) -> None:
        self.options = options
        self.manifests = manifests
        self.trust = trust
        self.engine = engine
        self.audit = audit
        self.open_registry = open_registry

    def authorise(self, authorization: str | None) -> bool:
        """Whether the caller is authorised (it sent the configured token).

        Returns:
            False when no token is configured (the endpoints are open to anyone).

        Raises:
            UnauthorizedError: a token is configured and the caller did not send it.
        """
        if self.options.token is None:
            return False
        scheme, _, sent = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            sent.strip().encode(), self.options.token.encode()
        ):
            return True
        exc = UnauthorizedError("the admission webhook wants the hub's admission token")
        exc.headers = {"WWW-Authenticate": 'Bearer realm="berth-admission"'}  # type: ignore[attr-defined]
        raise exc

    async def decide(
        self, review: Review, *, authorised: bool, address: str = "", mutating: bool = False
    ) -> Decision:
        """Decide a review and record the decision in the audit log.

        Args:
            review: the parsed request.
            authorised: the caller sent the admission token (it reads every reason).
            address: the caller's address, for the audit log.
            mutating: the answer may pin images to their digests.
        """
        if review.images is None:
            return Decision(True, "", ())
        checked: dict[str, _Checked] = {}
        for image in review.images:
            if image.image not in checked:
                checked[image.image] = await self._check(image.image)
        hidden = await self._hidden(checked.values(), authorised)
        results = []
        for image in review.images:
            found = checked[image.image]
            secret = found.repository in hidden
            results.append(
                ImageResult(
                    image,
                    found.allowed,
                    found.reason,
                    PRIVATE_REASON if secret and not found.allowed else found.reason,
                    found.digest,
                    None if secret else found.pinned,
                )
            )
        refused = [result for result in results if not result.allowed]
        message = ""
        if refused:
            message = f"{len(refused)} of {len(results)} container images refused by berth: " + (
                "; ".join(
                    f"container {r.image.container!r} image {r.image.image!r}: {r.shown}"
                    for r in refused
                )
            )
            logger.info("admission refused %s %s/%s: %s", review.kind, review.namespace,
                        review.name, message)
        decision = Decision(not refused, message, tuple(results))
        await self._record(review, decision, authorised, address, mutating)
        return decision

    async def _check(self, image: str) -> _Checked:
        try:
            ref = Reference.parse(image)
        except ReferenceError as exc:
            return _Checked(False, f"not a valid image reference ({exc})")
        host = ref.host or DOCKER_HUB
        if normal_host(host) not in self.options.hosts:
            if self.options.allow_other_registries:
                return _Checked(True)
            return _Checked(False, f"registry {host} is not this hub, and other registries'"
                                   " images are refused")
        repository = ref.name if self.open_registry else repository_of_path(ref.name)
        if repository is None:
            return _Checked(False, f"{ref.name} names no repository on this hub")
        reference = ref.digest if ref.digest is not None else (ref.tag or "latest")
        try:
            record = await self.manifests.get(repository, reference)
        except ManifestUnknownError:
            what = f"tag {reference!r}" if isinstance(reference, str) else f"manifest {reference}"
            return _Checked(False, f"no {what} in {repository} on this hub", repository)
        if record.trust_required:
            try:
                await self.trust.check(repository, reference, record)
            except UnsignedContentError as exc:
                return _Checked(False, exc.message or "not signed", repository, record.digest)
        # An image that names its digest is already pinned (the kubelet pulls by the digest).
        pinned = None if ref.digest is not None else f"{host}/{ref.name}@{record.digest}"
        return _Checked(True, "", repository, record.digest, pinned)

    async def _hidden(self, checked: Iterable[_Checked], authorised: bool) -> set[str | None]:
        """This hub's repositories (named by the review) whose details the caller may not read:
        none for an authorised caller or an open registry; else every one that is not public."""
        if authorised or self.open_registry:
            return set()
        names = sorted({c.repository for c in checked if c.repository is not None})
        if not names:
            return set()
        async with self.engine.connect() as conn:
            public = await hub_queries.visibility_of(conn, names)
        return {name for name in names if not public.get(name, False)}

    async def _record(
        self, review: Review, decision: Decision, authorised: bool, address: str, mutating: bool
    ) -> None:
        target = f"{review.namespace}/{review.kind}/{review.name}"[:_MAX_TARGET]
        images = [
            {
                "container": r.image.container,
                "image": r.image.image,
                "allowed": r.allowed,
                **({"digest": r.digest} if r.digest else {}),
                **({"reason": r.reason} if r.reason else {}),
                **({"pinned": r.pinned} if mutating and r.pinned else {}),
            }
            for r in decision.results
        ]
        await self.audit.record(
            ADMISSION_ACTOR,
            "admission-allowed" if decision.allowed else "admission-denied",
            target,
            address,
            uid=review.uid,
            operation=review.operation,
            user=review.user,
            dry_run=review.dry_run,
            authorised=authorised,
            webhook="mutate" if mutating else "validate",
            images=images,
        )
