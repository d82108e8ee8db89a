"""`GET /v2/<name>/referrers/<digest>` (distribution-spec 1.1 "Listing Referrers").

Always an OCI index, never 404: an unknown subject simply has no referrers.
"""

from __future__ import annotations

import json

from aiohttp import web

from registry import keys
from registry.api.handlers.common import repository_name
from registry.oci import mediatypes as mt
from registry.services.manifests import parse_digest


async def list_referrers(request: web.Request) -> web.Response:
    name = repository_name(request)
    subject = parse_digest(request.match_info["digest"])
    artifact_type = request.query.get("artifactType") or None
    found = await request.app[keys.MANIFESTS].referrers(name, subject, artifact_type)
    manifests = []
    for record in found:
        descriptor: dict[str, object] = {
            "mediaType": record.media_type,
            "digest": record.digest,
            "size": record.size,
        }
        if record.artifact_type:
            descriptor["artifactType"] = record.artifact_type
        if record.annotations:
            descriptor["annotations"] = record.annotations
        manifests.append(descriptor)
    # The spec wants the index media type exactly, without a charset parameter.
    headers = {"Content-Type": mt.OCI_INDEX}
    if artifact_type:
        headers["OCI-Filters-Applied"] = "artifactType"
    body = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": manifests}
    return web.Response(body=json.dumps(body).encode(), headers=headers)
