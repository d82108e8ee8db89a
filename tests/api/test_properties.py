"""Property-based tests (Hypothesis) against a running hub, with authentication on and off.

Input families: manifests and indexes (valid, mutated, ill-typed, not JSON at all), repository
names, tags and digests in every route, Range headers on blob GETs, and arbitrary bodies for
the Hub API, the token endpoint and trust publishing. Properties:

- no answer is ever a 500;
- every error answer carries the spec's JSON (`{"errors": [{"code", "message", "detail"}]}`);
- a refused request changes nothing stored (catalog, tags, manifest bytes, accounts).

`HYPOTHESIS_PROFILE=deep` runs thousands of cases per family; the default (`ci`) profile keeps
the whole file to well under a minute.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.oci import mediatypes as mt
from registry.settings import Settings
from tests.api.kube import KINDS, pod_spec, review
from tests.support.threadhub import Answer, ThreadHub, basic_auth

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,  # the same cases every run: a CI failure is never luck
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "deep",
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ADMIN_PASSWORD = "admin-secret-1"
FUZZ_PASSWORD = "fuzz-password-1"
ADMIN = basic_auth("admin", ADMIN_PASSWORD)
FUZZ = basic_auth("fuzz", FUZZ_PASSWORD)
REPO = "admin/app"
BLOB = bytes(range(256)) * 13  # 3,328 bytes
ACCEPT_ALL = {"Accept": ", ".join(sorted(mt.MANIFEST_TYPES))}
ADMISSION_HOST = "hub.example:5000"  # the host name admission reviews give the hub
PUSH_TAGS = ("t1", "t2")  # tags pushes may move; `base` and `multi` stay as seeded


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Seeded:
    """A hub with one repository: a config and a layer blob, an image tagged `base` and an
    index tagged `multi` pointing at it."""

    def __init__(self, hub: ThreadHub, auth: bool) -> None:
        self.hub = hub
        self.auth = auth
        self.credentials = ADMIN if auth else {}
        self.config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        self.config_digest = self._push_blob(self.config)
        self.layer_digest = self._push_blob(BLOB)
        self.image = self.image_doc()
        self.image_bytes = json.dumps(self.image).encode()
        self.image_digest = self.put_manifest("base", self.image_bytes, mt.OCI_MANIFEST)
        self.index = self.index_doc()
        index = json.dumps(self.index).encode()
        self.index_digest = self.put_manifest("multi", index, mt.OCI_INDEX)

    def request(self, method: str, path: str, **kwargs) -> Answer:
        headers = {**self.credentials, **kwargs.pop("headers", {})}
        return self.hub.request(method, path, headers=headers, **kwargs)

    def _push_blob(self, data: bytes) -> str:
        digest = sha256(data)
        answer = self.request("POST", f"/v2/{REPO}/blobs/uploads/?digest={digest}", body=data)
        assert answer.status == 201, answer.body
        return digest

    def put_manifest(self, reference: str, body: bytes, content_type: str | None) -> str:
        headers = {"Content-Type": content_type} if content_type else {}
        answer = self.request("PUT", f"/v2/{REPO}/manifests/{reference}", body=body,
                              headers=headers)
        assert answer.status == 201, answer.body
        return answer.headers["Docker-Content-Digest"]

    def image_doc(self) -> dict[str, Any]:
        return {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": {"mediaType": mt.OCI_CONFIG, "digest": self.config_digest,
                       "size": len(self.config)},
            "layers": [{"mediaType": mt.OCI_LAYER_GZIP, "digest": self.layer_digest,
                        "size": len(BLOB)}],
        }

    def index_doc(self) -> dict[str, Any]:
        return {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {"mediaType": mt.OCI_MANIFEST, "digest": self.image_digest,
                 "size": len(self.image_bytes),
                 "platform": {"os": "linux", "architecture": "amd64"}}
            ],
        }

    def registry_state(self) -> tuple:
        """What a refused registry request must leave as it was."""
        catalog = self.request("GET", "/v2/_catalog").body
        tags = self.request("GET", f"/v2/{REPO}/tags/list")
        manifests = []
        if tags.status == 200:
            for tag in tags.json()["tags"]:
                got = self.request("GET", f"/v2/{REPO}/manifests/{tag}", headers=ACCEPT_ALL)
                manifests.append((tag, got.status, got.body))
        return catalog, tags.body, tuple(manifests)

    def hub_state(self) -> tuple:
        """What a refused Hub API, token or trust request must leave as it was."""
        paths = ["/api/v1/users", "/api/v1/orgs", "/api/v1/repositories?page_size=100",
                 f"/api/v1/repositories/{REPO}", f"/v2/{REPO}/_trust/tuf/root.json"]
        state = [self.request("GET", path).body for path in paths]
        state.append(self.hub.request("GET", "/api/v1/user/tokens", headers=FUZZ).body)
        return tuple(state)


def assert_answer_in_spec(answer: Answer, method: str = "GET") -> None:
    """No 500; an error answer (with a body) is the spec's JSON."""
    assert answer.status < 500, (answer.status, answer.body[:300])
    if answer.status < 400 or method == "HEAD":
        return
    assert answer.headers.get_content_type() == "application/json", (answer.status, answer.body)
    body = json.loads(answer.body)
    assert isinstance(body["errors"], list) and body["errors"], body
    for error in body["errors"]:
        assert isinstance(error["code"], str) and error["code"], body
        assert isinstance(error["message"], str), body
        assert "detail" in error, body


def _start(tmp_path_factory, auth: bool) -> Iterator[Seeded]:
    data = tmp_path_factory.mktemp("auth" if auth else "open") / "data"
    hub = ThreadHub(
        Settings(
            data_dir=data,
            auth_enabled=auth,
            admin_password=ADMIN_PASSWORD,
            admission_enabled=True,
            admission_registry_hosts=ADMISSION_HOST,
        ).resolve()
    )
    hub.start()
    try:
        seeded = Seeded(hub, auth)
        if auth:
            answer = seeded.request("POST", "/api/v1/users", body=json.dumps(
                {"name": "fuzz", "password": FUZZ_PASSWORD}).encode())
            assert answer.status == 201, answer.body
        yield seeded
    finally:
        hub.stop()


@pytest.fixture(scope="module", params=["auth", "open"])
def seeded(request, tmp_path_factory) -> Iterator[Seeded]:
    yield from _start(tmp_path_factory, request.param == "auth")


@pytest.fixture(scope="module")
def auth_hub(tmp_path_factory) -> Iterator[Seeded]:
    yield from _start(tmp_path_factory, True)


# --- strategies -------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=24)
    | st.sampled_from([*sorted(mt.MANIFEST_TYPES), "sha256:" + "0" * 64, "linux/amd64", ""])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=16,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indexes) into a JSON value, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw, document: dict[str, Any]) -> Any:
    """`document` with one to three random edits: a value replaced, a key dropped or added."""
    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            return draw(JSON)
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace" or (action == "delete" and isinstance(parent, list)):
            parent[path[-1]] = draw(JSON)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(JSON)
        else:
            parent.append(draw(JSON))
    return doc


PLATFORMS = st.fixed_dictionaries(
    {"os": st.sampled_from(["linux", "windows"]), "architecture": st.sampled_from(["amd64",
                                                                                  "arm64"])},
    optional={"variant": st.text(max_size=4), "os.features": st.lists(st.text(max_size=4)),
              "os.version": st.text(max_size=8)},
)


def manifest_bodies(seeded: Seeded) -> st.SearchStrategy[bytes]:
    """Valid images and indexes, the same mutated, any JSON, and bytes that are not JSON."""
    image = seeded.image_doc()
    indexes = st.builds(
        lambda platform, annotations: {
            **seeded.index_doc(),
            "manifests": [{**seeded.index_doc()["manifests"][0], "platform": platform}],
            "annotations": annotations,
        },
        PLATFORMS | JSON,
        st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2),
    )
    documents = st.one_of(
        st.just(image),
        indexes,
        mutated(image),
        indexes.flatmap(mutated),
        JSON,
    )
    return st.one_of(
        documents.map(lambda doc: json.dumps(doc).encode()),
        st.binary(max_size=64),
        st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth),
    )


CONTENT_TYPES = st.sampled_from(
    [*sorted(mt.MANIFEST_TYPES), None, "application/json", "text/plain", "a/b; x=y"]
)
ACCEPTS = st.sampled_from(
    [{}, ACCEPT_ALL, {"Accept": mt.DOCKER_MANIFEST}, {"Accept": mt.OCI_MANIFEST},
     {"Accept": f"{mt.DOCKER_MANIFEST}, {mt.OCI_MANIFEST}"}, {"Accept": "*/*"}]
)


# --- manifests and indexes --------------------------------------------------------------


@given(data=st.data())
def test_manifest_pushes_never_fail_the_hub(seeded, data):
    body = data.draw(manifest_bodies(seeded), label="body")
    content_type = data.draw(CONTENT_TYPES, label="content_type")
    reference = data.draw(st.sampled_from([*PUSH_TAGS, sha256(body)]), label="reference")
    before = seeded.registry_state()
    headers = {"Content-Type": content_type} if content_type else {}
    answer = seeded.request("PUT", f"/v2/{REPO}/manifests/{reference}", body=body,
                            headers=headers)
    assert_answer_in_spec(answer, "PUT")
    if answer.status >= 400:
        assert seeded.registry_state() == before
    else:
        assert answer.status == 201
        digest = answer.headers["Docker-Content-Digest"]
        for stored in (digest, reference):
            for accept in (ACCEPT_ALL, {"Accept": mt.DOCKER_MANIFEST}, {}):
                read = seeded.request("GET", f"/v2/{REPO}/manifests/{stored}", headers=accept)
                assert_answer_in_spec(read)
        assert seeded.request("GET", f"/v2/{REPO}/manifests/{digest}",
                              headers=ACCEPT_ALL).body == body
    # Whatever was stored, every listing of the repository still answers.
    assert seeded.request("GET", f"/v2/{REPO}/tags/list").status == 200
    listing = seeded.request("GET", f"/api/v1/repositories/{REPO}/tags")
    assert listing.status == 200, listing.body


# --- names, tags and digests in every route ---------------------------------------------

PATH_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(["library/app", REPO, "a" * 300, "a/" * 60, "..", "_catalog", "x\n",
                     "A/b", "a__b/c", "a--b", "%00", "\x00"])
REFERENCES = PATH_TEXT | st.sampled_from(
    ["base", "multi", "sha256:" + "0" * 64, "sha512:" + "0" * 128, "sha256:", "md5:00",
     "t" * 129, "v1\n"]
)


def _quote(text: str, safe: str) -> str:
    return urllib.parse.quote(text, safe=safe)


@given(data=st.data())
def test_names_tags_and_digests_in_every_route(seeded, data):
    name = _quote(data.draw(PATH_TEXT, label="name"), "/")
    reference = _quote(data.draw(REFERENCES, label="reference"), ":")
    route, method = data.draw(st.sampled_from([
        (f"/v2/{name}/manifests/{reference}", "GET"),
        (f"/v2/{name}/manifests/{reference}", "HEAD"),
        (f"/v2/{name}/manifests/{reference}", "DELETE"),
        (f"/v2/{name}/manifests/{reference}", "PUT"),
        (f"/v2/{name}/blobs/{reference}", "GET"),
        (f"/v2/{name}/blobs/{reference}", "HEAD"),
        (f"/v2/{name}/blobs/{reference}", "DELETE"),
        (f"/v2/{name}/blobs/uploads/{reference}", "GET"),
        (f"/v2/{name}/blobs/uploads/{reference}", "PATCH"),
        (f"/v2/{name}/blobs/uploads/{reference}", "PUT"),
        (f"/v2/{name}/blobs/uploads/?mount={reference}&from={name}", "POST"),
        (f"/v2/{name}/tags/list?n={reference}&last={reference}", "GET"),
        (f"/v2/{name}/referrers/{reference}?artifactType={reference}", "GET"),
        (f"/v2/_catalog?n={reference}&last={name}", "GET"),
        (f"/api/v1/repositories/{name}", "GET"),
        (f"/api/v1/repositories/{name}/tags", "GET"),
        (f"/api/v1/repositories/{name}/star", "PUT"),
        (f"/api/v1/search?q={name}&page={reference}", "GET"),
        (f"/v1/search?q={name}&n={reference}", "GET"),
        (f"/v2/{name}/_trust/tuf/{reference}", "GET"),
        (f"/v2/{name}/_trust/changefeed?change_id={reference}&records={reference}", "GET"),
        (f"/token?service=berth&scope=repository:{name}:pull,push", "GET"),
    ]), label="route")
    body = seeded.image_bytes if method in ("PUT", "PATCH") else None
    before = seeded.registry_state()
    answer = seeded.request(method, route, body=body,
                            headers={"Content-Type": mt.OCI_MANIFEST} if body else {})
    assert_answer_in_spec(answer, method)
    if answer.status >= 400:
        assert seeded.registry_state() == before


# --- Range headers ----------------------------------------------------------------------

SIZE = len(BLOB)
# What a header value may hold (RFC 9110 5.5); others never reach the hub (aiohttp's parser
# answers them itself).
HEADER_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("\t")
POSITIONS = st.none() | st.integers(0, 2 * SIZE) | st.integers(0, 10**25)


@st.composite
def range_headers(draw) -> str:
    first, last = draw(POSITIONS), draw(POSITIONS)
    spec = f"{'' if first is None else first}-{'' if last is None else last}"
    return draw(st.sampled_from([
        f"bytes={spec}", f"BYTES={spec}", f"bytes= {spec}", f"items={spec}",
        f"bytes={spec},{spec}", f"bytes={spec}x",
    ])) if draw(st.booleans()) else draw(st.text(alphabet=HEADER_CHARS, max_size=30))


@given(data=st.data())
def test_range_requests_follow_rfc_9110(seeded, data):
    etag = f'"{seeded.layer_digest}"'
    headers = {"Range": data.draw(range_headers(), label="range")}
    if_range = data.draw(st.none() | st.sampled_from([etag, f"W/{etag}", '"x"',
                                                      "Wed, 21 Oct 2015 07:28:00 GMT"]),
                         label="if_range")
    if if_range is not None:
        headers["If-Range"] = if_range
    answer = seeded.request("GET", f"/v2/{REPO}/blobs/{seeded.layer_digest}", headers=headers)
    assert_answer_in_spec(answer)
    if answer.status != 416:
        assert answer.headers["ETag"] == etag
    if answer.status == 200:
        assert answer.body == BLOB
    elif answer.status == 206:
        unit, _, spec = answer.headers["Content-Range"].partition(" ")
        positions, _, total = spec.partition("/")
        first, _, last = positions.partition("-")
        assert unit == "bytes" and int(total) == SIZE
        assert answer.body == BLOB[int(first) : int(last) + 1]
        assert if_range in (None, etag)
    else:
        assert answer.status == 416, answer.status
        assert answer.headers["Content-Range"] == f"bytes */{SIZE}"


# --- JSON and form bodies for the Hub API, the token endpoint and trust publishing ------

BODIES = st.one_of(
    JSON.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {}, optional={"name": st.text(max_size=12), "password": st.text(max_size=12),
                      "old_password": st.text(max_size=12), "scopes": JSON,
                      "is_admin": JSON, "description": JSON, "is_public": JSON,
                      "role": JSON, "repository": JSON, "default_public": JSON,
                      "trust_required": JSON},
    ).map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
    st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
)
HUB_ROUTES = [
    ("PUT", "/api/v1/user/password", FUZZ),
    ("POST", "/api/v1/user/tokens", FUZZ),
    ("POST", "/api/v1/users", ADMIN),
    ("PUT", "/api/v1/users/fuzz/password", ADMIN),
    ("POST", "/api/v1/orgs", ADMIN),
    ("PATCH", f"/api/v1/repositories/{REPO}", ADMIN),
    ("PUT", "/api/v1/namespaces/admin", ADMIN),
    ("PUT", "/api/v1/orgs/nothing/teams/devs/grants", ADMIN),
    ("PUT", "/api/v1/user/password", {}),
]
FORM_TYPES = st.sampled_from([
    "application/x-www-form-urlencoded", 'multipart/form-data; boundary="', "multipart/form-data",
    "multipart/form-data; boundary=b", "application/json", "",
])
TRUST_PARTS = st.lists(
    st.tuples(
        st.sampled_from(["root", "targets", "snapshot", "timestamp", "targets/releases", "",
                         "../x", "root.json"]) | st.text(max_size=12),
        BODIES,
    ),
    max_size=3,
)


def _multipart(parts: list[tuple[str, bytes]]) -> bytes:
    chunks = []
    for filename, data in parts:
        quoted = filename.replace('"', "%22").replace("\r", "").replace("\n", "")
        chunks.append(
            b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\""
            + quoted.encode() + b"\"\r\n\r\n" + data + b"\r\n"
        )
    return b"".join(chunks) + b"--b--\r\n"


def _restore(seeded: Seeded) -> None:
    """Undo what an accepted request may have changed that later examples rely on."""
    seeded.request("PUT", "/api/v1/users/fuzz/password",
                   body=json.dumps({"password": FUZZ_PASSWORD}).encode())


@given(data=st.data())
def test_hub_api_bodies(auth_hub, data):
    method, path, credentials = data.draw(st.sampled_from(HUB_ROUTES), label="route")
    body = data.draw(BODIES, label="body")
    before = auth_hub.hub_state()
    answer = auth_hub.hub.request(method, path, body=body,
                                  headers={**credentials, "Content-Type": "application/json"})
    assert_answer_in_spec(answer, method)
    if answer.status >= 400:
        assert auth_hub.hub_state() == before
    _restore(auth_hub)


@given(data=st.data())
def test_token_endpoint_forms(auth_hub, data):
    body = data.draw(st.binary(max_size=80) | st.sampled_from([
        b"grant_type=password&username=fuzz&password=wrong&service=berth",
        b"grant_type=refresh_token&refresh_token=x.y.z",
        b"grant_type=password&service=other",
        b"--x\r\n",
    ]), label="body")
    content_type = data.draw(FORM_TYPES, label="content_type")
    before = auth_hub.hub_state()
    answer = auth_hub.hub.request("POST", "/token", body=body,
                                  headers={"Content-Type": content_type} if content_type else {})
    assert_answer_in_spec(answer, "POST")
    if answer.status >= 400:
        assert auth_hub.hub_state() == before


@given(data=st.data())
def test_trust_publish_bodies(auth_hub, data):
    parts = data.draw(TRUST_PARTS, label="parts")
    content_type = data.draw(FORM_TYPES, label="content_type")
    body = _multipart(parts) if "boundary=b" in content_type else data.draw(BODIES)
    before = auth_hub.hub_state()
    answer = auth_hub.request("POST", f"/v2/{REPO}/_trust/tuf/", body=body,
                              headers={"Content-Type": content_type})
    assert_answer_in_spec(answer, "POST")
    if answer.status >= 400:
        assert auth_hub.hub_state() == before


# --- admission reviews ------------------------------------------------------------------


def admission_bodies() -> st.SearchStrategy[bytes]:
    """Reviews of every pod-bearing kind naming the hub's image and others, the same mutated,
    any JSON, and bytes that are not JSON."""
    images = [("app", f"{ADMISSION_HOST}/{REPO}:base"), ("init", f"{ADMISSION_HOST}/{REPO}:t9"),
              ("side", "busybox:1.36")]
    reviews = st.sampled_from(list(KINDS.values())).map(
        lambda kind: review(kind, kind.object(pod_spec(images[:1], init=images[1:])))
    )
    documents = st.one_of(reviews, reviews.flatmap(mutated), JSON)
    return st.one_of(
        documents.map(lambda doc: json.dumps(doc).encode()),
        st.binary(max_size=64),
        st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
    )


@given(data=st.data())
def test_admission_reviews_are_answered_or_refused_with_a_reason(seeded, data):
    body = data.draw(admission_bodies(), label="body")
    webhook = data.draw(st.sampled_from(["validate", "mutate"]), label="webhook")
    answer = seeded.hub.request("POST", f"/admission/{webhook}", body=body,
                                headers={"Content-Type": "application/json"})
    assert_answer_in_spec(answer, "POST")
    assert answer.status in (200, 400), (answer.status, answer.body[:300])
    if answer.status == 200:
        sent, answered = json.loads(body), json.loads(answer.body)
        assert answered["response"]["uid"] == sent["request"]["uid"]
        assert isinstance(answered["response"]["allowed"], bool)
