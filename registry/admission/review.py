"""Kubernetes' `AdmissionReview` (admission.k8s.io/v1): read a review, find its images, answer.

The API server POSTs an `AdmissionReview` whose `request` carries `uid`, the object's `kind`
(group, version, kind), `operation`, `namespace`, `name`, `userInfo` and the `object`. The
answer is an `AdmissionReview` of the same version whose `response` echoes `uid` and says
`allowed`; a refusal carries `status` with `code` and `message` (shown to the user), and a
mutating answer a base64 RFC 6902 JSON Patch with `patchType: JSONPatch` (Kubernetes "Dynamic
Admission Control", webhook request and response).

Where the images are (JSON pointers into the object):

    Pod                                                  /spec
    ReplicationController; Deployment, StatefulSet,      /spec/template/spec
      DaemonSet, ReplicaSet (apps); Job (batch)
    CronJob (batch)                                      /spec/jobTemplate/spec/template/spec

and in that pod spec every `initContainers`, `containers` and `ephemeralContainers` entry's
`image`. Other kinds, and operations other than CREATE and UPDATE, carry nothing to check.

Scope: the wire format only (bytes in, values out; dicts out). What is allowed is decided in
`registry.admission.service`.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

__all__ = [
    "API_VERSION",
    "ContainerImage",
    "Review",
    "ReviewError",
    "answer",
    "parse_review",
    "replace_images",
]

logger = logging.getLogger(__name__)

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"
CHECKED_OPERATIONS = frozenset({"CREATE", "UPDATE"})
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

_TEMPLATE = ("spec", "template", "spec")
# (API group, kind) -> the path of its pod spec in the object. The version is not looked at:
# these kinds kept their pod spec where it is across versions.
POD_SPECS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): ("spec",),
    ("", "ReplicationController"): _TEMPLATE,
    ("apps", "Deployment"): _TEMPLATE,
    ("apps", "StatefulSet"): _TEMPLATE,
    ("apps", "DaemonSet"): _TEMPLATE,
    ("apps", "ReplicaSet"): _TEMPLATE,
    ("batch", "Job"): _TEMPLATE,
    ("batch", "CronJob"): ("spec", "jobTemplate", *_TEMPLATE),
}


class ReviewError(ValueError):
    """The body is not an admission.k8s.io/v1 AdmissionReview request this hub can answer."""


@dataclass(frozen=True, slots=True)
class ContainerImage:
    """One container's image, and where it is in the object."""

    container: str  # the container's name
    image: str  # as written in the object
    path: str  # JSON pointer of the `image` field


@dataclass(frozen=True, slots=True)
class Review:
    """What the hub reads of an admission request.

    Attributes:
        uid: the request's uid, echoed in the answer.
        kind: `group/Kind` of the object (`apps/Deployment`; `Pod` in the core group).
        operation: CREATE, UPDATE, DELETE or CONNECT.
        namespace: the object's namespace ("" for none).
        name: the object's name, or its `generateName` prefix when it has none yet.
        user: the Kubernetes user making the request, as the review says.
        dry_run: the request will not be persisted.
        images: every container image to check; None when nothing is to be checked (another
            kind, or an operation other than CREATE and UPDATE).
    """

    uid: str
    kind: str
    operation: str
    namespace: str
    name: str
    user: str
    dry_run: bool
    images: tuple[ContainerImage, ...] | None


_TYPE_NAMES = {str: "string", dict: "JSON object", list: "list"}


def _field(value: dict[str, Any], key: str, where: str, kind: type) -> Any:
    found = value.get(key)
    if not isinstance(found, kind):
        what = "missing" if found is None else f"not a {_TYPE_NAMES[kind]}"
        raise ReviewError(f"{where}.{key} is {what}")
    return found


def parse_review(body: bytes) -> Review:
    """Read an AdmissionReview request.

    Raises:
        ReviewError: with a message naming what is wrong (not JSON, another version, a field
            missing or of the wrong type).
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested beyond the decoder
        raise ReviewError(f"the body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ReviewError("the body is not a JSON object")
    if document.get("kind") != KIND:
        raise ReviewError(f"kind is {document.get('kind')!r}, not {KIND!r}")
    if document.get("apiVersion") != API_VERSION:
        raise ReviewError(
            f"apiVersion is {document.get('apiVersion')!r}: only {API_VERSION!r} is answered"
            " (set admissionReviewVersions: [\"v1\"])"
        )
    request = _field(document, "request", "review", dict)
    uid = _field(request, "uid", "request", str)
    if not uid:
        raise ReviewError("request.uid is empty")
    kind = _field(request, "kind", "request", dict)
    group = kind.get("group", "")
    kind_name = _field(kind, "kind", "request.kind", str)
    if not isinstance(group, str):
        raise ReviewError("request.kind.group is not a string")
    operation = _field(request, "operation", "request", str)
    user_info = request.get("userInfo") or {}
    user = user_info.get("username", "") if isinstance(user_info, dict) else ""
    images = None
    spec_path = POD_SPECS.get((group, kind_name))
    obj: dict[str, Any] = {}
    if spec_path is not None and operation in CHECKED_OPERATIONS:
        obj = _field(request, "object", "request", dict)
        images = _images(obj, spec_path)
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = request.get("name") or metadata.get("name") or metadata.get("generateName") or ""
    namespace = request.get("namespace") or metadata.get("namespace") or ""
    return Review(
        uid=uid,
        kind=f"{group}/{kind_name}" if group else kind_name,
        operation=operation,
        namespace=str(namespace),
        name=str(name),
        user=str(user),
        dry_run=request.get("dryRun") is True,
        images=images,
    )


def _images(obj: dict[str, Any], spec_path: tuple[str, ...]) -> tuple[ContainerImage, ...]:
    where = "request.object"
    spec: Any = obj
    for key in spec_path:
        spec = _field(spec, key, where, dict)
        where += f".{key}"
    pointer = "/" + "/".join(spec_path)
    found = []
    for list_name in CONTAINER_LISTS:
        containers = spec.get(list_name)
        if containers is None:  # Go's nil slice: no containers of that kind
            continue
        if not isinstance(containers, list):
            raise ReviewError(f"{where}.{list_name} is not a list")
        for index, container in enumerate(containers):
            at = f"{where}.{list_name}[{index}]"
            if not isinstance(container, dict):
                raise ReviewError(f"{at} is not a JSON object")
            image = container.get("image")
            if image is None or image == "":
                # Templates may leave the image to be set later; nothing runs without one.
                continue
            if not isinstance(image, str):
                raise ReviewError(f"{at}.image is not a string")
            found.append(
                ContainerImage(
                    str(container.get("name", "")), image, f"{pointer}/{list_name}/{index}/image"
                )
            )
    return tuple(found)


def replace_images(replacements: list[tuple[str, str]]) -> list[dict[str, str]]:
    """A JSON Patch (RFC 6902) setting each (pointer, image) pair."""
    return [{"op": "replace", "path": path, "value": image} for path, image in replacements]


def answer(
    uid: str,
    allowed: bool,
    message: str = "",
    patch: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The AdmissionReview answering request `uid`.

    Args:
        uid: the request's uid.
        allowed: whether the request may proceed.
        message: why not (sent as `status.message` with code 403 when refused).
        patch: JSON Patch operations for a mutating answer (none: no patch).
    """
    response: dict[str, Any] = {"uid": uid, "allowed": allowed}
    if not allowed:
        response["status"] = {"code": 403, "message": message}
    if patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
    return {"apiVersion": API_VERSION, "kind": KIND, "response": response}
