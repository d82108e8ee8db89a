"""The route table, declared once: name, method, path, handler and the access it needs.

Names contain `/`, so the more specific upload routes come before the blob routes. The `<name>`
pattern is permissive on purpose: handlers validate it and answer NAME_INVALID, which a route
that failed to match could not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from registry.api.handlers import base, blobs, catalog, manifests, referrers, tags, uploads

__all__ = ["ROUTES", "Route", "setup_routes"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_NAME = r"{name:[^?#]+?}"


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    method: str
    path: str
    handler: Handler
    action: str | None  # repository action the request needs; None: registry-level


ROUTES: tuple[Route, ...] = (
    Route("base", "GET", "/v2/", base.version_check, None),
    Route("catalog", "GET", "/v2/_catalog", catalog.catalog, None),
    Route("upload-start", "POST", f"/v2/{_NAME}/blobs/uploads/", uploads.start_upload, "push"),
    Route(
        "upload-status", "GET", f"/v2/{_NAME}/blobs/uploads/{{uuid}}", uploads.upload_status, "push"
    ),
    Route(
        "upload-patch", "PATCH", f"/v2/{_NAME}/blobs/uploads/{{uuid}}", uploads.patch_upload, "push"
    ),
    Route(
        "upload-put", "PUT", f"/v2/{_NAME}/blobs/uploads/{{uuid}}", uploads.finish_upload, "push"
    ),
    Route(
        "upload-delete",
        "DELETE",
        f"/v2/{_NAME}/blobs/uploads/{{uuid}}",
        uploads.cancel_upload,
        "push",
    ),
    Route("blob-get", "GET", f"/v2/{_NAME}/blobs/{{digest}}", blobs.get_blob, "pull"),
    Route("blob-head", "HEAD", f"/v2/{_NAME}/blobs/{{digest}}", blobs.head_blob, "pull"),
    Route("blob-delete", "DELETE", f"/v2/{_NAME}/blobs/{{digest}}", blobs.delete_blob, "delete"),
    Route(
        "manifest-get",
        "GET",
        f"/v2/{_NAME}/manifests/{{reference}}",
        manifests.get_manifest,
        "pull",
    ),
    Route(
        "manifest-head",
        "HEAD",
        f"/v2/{_NAME}/manifests/{{reference}}",
        manifests.head_manifest,
        "pull",
    ),
    Route(
        "manifest-put",
        "PUT",
        f"/v2/{_NAME}/manifests/{{reference}}",
        manifests.put_manifest,
        "push",
    ),
    Route(
        "manifest-delete",
        "DELETE",
        f"/v2/{_NAME}/manifests/{{reference}}",
        manifests.delete_manifest,
        "delete",
    ),
    Route("tags-list", "GET", f"/v2/{_NAME}/tags/list", tags.list_tags, "pull"),
    Route(
        "referrers", "GET", f"/v2/{_NAME}/referrers/{{digest}}", referrers.list_referrers, "pull"
    ),
    Route("healthz", "GET", "/healthz", base.healthz, None),
    Route("readyz", "GET", "/readyz", base.readyz, None),
    Route("metrics", "GET", "/metrics", base.metrics, None),
)

ACTION_BY_ROUTE: dict[str, str | None] = {route.name: route.action for route in ROUTES}


def setup_routes(app: web.Application) -> None:
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
