"""The route table, declared once: name, method, path, handler and its authorisation rule.

Every route carries a `Rule` (`registry.auth.rules`); `registry.api.authorization` enforces it
before the handler runs, and the app does not start with a route that lacks one.

Names contain `/`, so the more specific upload routes come before the blob routes. The `<name>`
pattern is permissive on purpose: handlers validate it and answer NAME_INVALID, which a route
that failed to match could not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from registry.api.handlers import base, blobs, catalog, manifests, referrers, tags, uploads
from registry.auth.rules import Resource, Rule

__all__ = ["REPOSITORY_ROUTES", "ROUTES", "Route", "setup_routes"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_NAME = r"{name:[^?#]+?}"
_PULL, _PUSH, _DELETE = (Rule.repository(action) for action in ("pull", "push", "delete"))


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    method: str
    path: str
    handler: Handler
    rule: Rule  # who may call it, with which credentials


ROUTES: tuple[Route, ...] = (
    Route("base", "GET", "/v2/", base.version_check, Rule.registry()),
    Route("catalog", "GET", "/v2/_catalog", catalog.catalog, Rule.catalog()),
    Route("upload-start", "POST", f"/v2/{_NAME}/blobs/uploads/", uploads.start_upload, _PUSH),
    Route(
        "upload-status", "GET", f"/v2/{_NAME}/blobs/uploads/{{uuid}}", uploads.upload_status, _PUSH
    ),
    Route(
        "upload-patch", "PATCH", f"/v2/{_NAME}/blobs/uploads/{{uuid}}", uploads.patch_upload, _PUSH
    ),
    Route("upload-put", "PUT", f"/v2/{_NAME}/blobs/uploads/{{uuid}}", uploads.finish_upload, _PUSH),
    Route(
        "upload-delete",
        "DELETE",
        f"/v2/{_NAME}/blobs/uploads/{{uuid}}",
        uploads.cancel_upload,
        _PUSH,
    ),
    Route("blob-get", "GET", f"/v2/{_NAME}/blobs/{{digest}}", blobs.get_blob, _PULL),
    Route("blob-head", "HEAD", f"/v2/{_NAME}/blobs/{{digest}}", blobs.head_blob, _PULL),
    Route("blob-delete", "DELETE", f"/v2/{_NAME}/blobs/{{digest}}", blobs.delete_blob, _DELETE),
    Route(
        "manifest-get",
        "GET",
        f"/v2/{_NAME}/manifests/{{reference}}",
        manifests.get_manifest,
        _PULL,
    ),
    Route(
        "manifest-head",
        "HEAD",
        f"/v2/{_NAME}/manifests/{{reference}}",
        manifests.head_manifest,
        _PULL,
    ),
    Route(
        "manifest-put",
        "PUT",
        f"/v2/{_NAME}/manifests/{{reference}}",
        manifests.put_manifest,
        _PUSH,
    ),
    Route(
        "manifest-delete",
        "DELETE",
        f"/v2/{_NAME}/manifests/{{reference}}",
        manifests.delete_manifest,
        _DELETE,
    ),
    Route("tags-list", "GET", f"/v2/{_NAME}/tags/list", tags.list_tags, _PULL),
    Route("referrers", "GET", f"/v2/{_NAME}/referrers/{{digest}}", referrers.list_referrers, _PULL),
    Route("healthz", "GET", "/healthz", base.healthz, Rule.open()),
    Route("readyz", "GET", "/readyz", base.readyz, Rule.open()),
    Route("metrics", "GET", "/metrics", base.metrics, Rule.open()),
)


# Routes about the repository in their path (the Hub's hooks resolve and count those).
REPOSITORY_ROUTES = frozenset(
    route.name for route in ROUTES if route.rule.resource is Resource.REPOSITORY
)


def setup_routes(app: web.Application) -> None:
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
