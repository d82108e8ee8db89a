"""Kubernetes objects and AdmissionReview requests as the API server sends them (JSON).

The objects are what `kubectl apply` leaves after the API server's defaulting, serialised the
way the API server serialises them for webhooks (admission.k8s.io/v1 `AdmissionReview` with
`request.object`); each pod-bearing kind keeps its pod spec where Kubernetes does.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

# Where the API server puts who is asking (a kubeadm cluster's admin).
ADMIN_USER = {
    "username": "kubernetes-admin",
    "groups": ["kubeadm:cluster-admins", "system:authenticated"],
}
LABELS = {"app": "web"}


def container(name: str, image: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }


def pod_spec(
    containers: list[tuple[str, str]],
    init: list[tuple[str, str]] = (),  # type: ignore[assignment]
    ephemeral: list[tuple[str, str]] = (),  # type: ignore[assignment]
    restart: str = "Always",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [container(n, i) for n, i in containers],
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
    }
    if init:
        spec["initContainers"] = [container(n, i) for n, i in init]
    if ephemeral:
        spec["ephemeralContainers"] = [
            {**container(n, i), "targetContainerName": containers[0][0]} for n, i in ephemeral
        ]
    return spec


def _metadata(name: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "uid": str(uuid.uuid4()),
        "creationTimestamp": None,
        "labels": dict(LABELS),
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
    }


def _template(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"creationTimestamp": None, "labels": dict(LABELS)}, "spec": spec}


def _job_spec(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "parallelism": 1,
        "completions": 1,
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed",
        "template": _template({**spec, "restartPolicy": "Never"}),
    }


def _selector() -> dict[str, Any]:
    return {"matchLabels": dict(LABELS)}


@dataclass(frozen=True)
class Kind:
    """A pod-bearing kind: its group/version/kind and resource, and where its pod spec is."""

    group: str
    version: str
    kind: str
    resource: str
    spec_path: str  # JSON pointer of the pod spec

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def object(self, spec: dict[str, Any], name: str = "web") -> dict[str, Any]:
        """An object of this kind around the pod spec `spec`."""
        body = {
            "Pod": lambda: spec,
            "ReplicationController": lambda: {
                "replicas": 1, "selector": dict(LABELS), "template": _template(spec),
            },
            "Deployment": lambda: {
                "replicas": 1,
                "selector": _selector(),
                "template": _template(spec),
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
                },
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
            },
            "StatefulSet": lambda: {
                "replicas": 1,
                "selector": _selector(),
                "template": _template(spec),
                "serviceName": "web",
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                "revisionHistoryLimit": 10,
                "persistentVolumeClaimRetentionPolicy": {
                    "whenDeleted": "Retain", "whenScaled": "Retain",
                },
            },
            "DaemonSet": lambda: {
                "selector": _selector(),
                "template": _template(spec),
                "updateStrategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
                },
                "revisionHistoryLimit": 10,
            },
            "ReplicaSet": lambda: {
                "replicas": 1, "selector": _selector(), "template": _template(spec),
            },
            "Job": lambda: _job_spec(spec),
            "CronJob": lambda: {
                "schedule": "*/5 * * * *",
                "concurrencyPolicy": "Allow",
                "suspend": False,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1,
                "jobTemplate": {"metadata": {"creationTimestamp": None}, "spec": _job_spec(spec)},
            },
        }[self.kind]()
        return {
            "kind": self.kind,
            "apiVersion": self.api_version,
            "metadata": _metadata(name),
            "spec": body,
            "status": {},
        }

    def gvk(self) -> dict[str, str]:
        return {"group": self.group, "version": self.version, "kind": self.kind}

    def gvr(self) -> dict[str, str]:
        return {"group": self.group, "version": self.version, "resource": self.resource}


_TEMPLATE = "/spec/template/spec"
KINDS = {
    kind.kind: kind
    for kind in (
        Kind("", "v1", "Pod", "pods", "/spec"),
        Kind("apps", "v1", "Deployment", "deployments", _TEMPLATE),
        Kind("apps", "v1", "StatefulSet", "statefulsets", _TEMPLATE),
        Kind("apps", "v1", "DaemonSet", "daemonsets", _TEMPLATE),
        Kind("apps", "v1", "ReplicaSet", "replicasets", _TEMPLATE),
        Kind("batch", "v1", "Job", "jobs", _TEMPLATE),
        Kind("batch", "v1", "CronJob", "cronjobs", "/spec/jobTemplate/spec/template/spec"),
        Kind("", "v1", "ReplicationController", "replicationcontrollers", _TEMPLATE),
    )
}
POD = KINDS["Pod"]


def review(
    kind: Kind,
    obj: dict[str, Any] | None,
    *,
    operation: str = "CREATE",
    sub_resource: str | None = None,
    uid: str | None = None,
    old: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """An AdmissionReview request for `obj`, as the API server sends a webhook."""
    metadata = (obj or old or {}).get("metadata", {})
    options_kind = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions"}.get(
        operation, "DeleteOptions"
    )
    request: dict[str, Any] = {
        "uid": uid or str(uuid.uuid4()),
        "kind": kind.gvk(),
        "resource": kind.gvr(),
        "requestKind": kind.gvk(),
        "requestResource": kind.gvr(),
        "name": metadata.get("name", ""),
        "namespace": metadata.get("namespace", "default"),
        "operation": operation,
        "userInfo": ADMIN_USER,
        "object": obj,
        "oldObject": old,
        "dryRun": dry_run,
        "options": {"kind": options_kind, "apiVersion": "meta.k8s.io/v1"},
    }
    if sub_resource:
        request["subResource"] = request["requestSubResource"] = sub_resource
    return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": request}


def patch_of(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON Patch of a mutating answer (none: [])."""
    if "patch" not in response:
        return []
    assert response["patchType"] == "JSONPatch"
    return json.loads(base64.b64decode(response["patch"]))


def apply_patch(obj: dict[str, Any], patch: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply RFC 6902 `replace` operations (all the hub sends) to a copy of `obj`."""
    result = json.loads(json.dumps(obj))
    for op in patch:
        assert op["op"] == "replace", op
        *parents, last = op["path"].lstrip("/").split("/")
        target: Any = result
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = op["value"]
        else:
            assert last in target, op
            target[last] = op["value"]
    return result


def images_at(obj: dict[str, Any], spec_path: str) -> dict[str, str]:
    """Container name -> image, over every container list of the pod spec at `spec_path`."""
    spec: Any = obj
    for key in spec_path.lstrip("/").split("/"):
        spec = spec[key]
    return {
        c["name"]: c["image"]
        for kind in ("initContainers", "containers", "ephemeralContainers")
        for c in spec.get(kind) or []
    }
