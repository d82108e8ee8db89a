"""The pure parts of webhooks: the receiver allow-list, the delivery-time resolver, signatures."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket

import pytest
from aiohttp.abc import AbstractResolver

from registry.webhooks.addresses import AddressPolicy, CheckedResolver
from registry.webhooks.events import Cause, EventType, PayloadFormat, render
from registry.webhooks.secretseal import WebhookSecretSealer
from registry.webhooks.signing import SignatureError, signature_header, verify
from registry.webhooks.worker import DeliveryOptions, DeliveryWorker

ip = ipaddress.ip_address


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "172.16.5.5", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1"],
)
def test_the_default_refuses_internal_addresses(address):
    assert not AddressPolicy.parse("public").permits("hooks.example", ip(address))


def test_the_default_permits_public_addresses_but_the_hubs_own():
    policy = AddressPolicy.parse("public", own=frozenset({ip("93.184.216.35")}))
    assert policy.permits("hooks.example", ip("93.184.216.34"))
    assert policy.permits("hooks.example", ip("2606:2800:220:1:248:1893:25c8:1946"))
    assert not policy.permits("hooks.example", ip("93.184.216.35"))


def test_an_explicit_allow_list_permits_only_what_it_names():
    policy = AddressPolicy.parse("127.0.0.1, 10.0.0.0/8, Hooks.Internal")
    assert policy.permits("x", ip("127.0.0.1"))
    assert policy.permits("x", ip("10.200.0.1"))
    assert policy.permits("hooks.internal", ip("192.168.7.7"))
    assert not policy.permits("x", ip("127.0.0.2"))
    assert not policy.permits("x", ip("93.184.216.34"))  # no `public` in the list


def test_a_malformed_allow_list_is_an_error():
    with pytest.raises(ValueError):
        AddressPolicy.parse("public, not a host!")


class FlippingResolver(AbstractResolver):
    """Answers a public address first, then loopback: DNS rebinding."""

    def __init__(self) -> None:
        self.answers = ["93.184.216.34", "127.0.0.1"]

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [{"hostname": host, "host": self.answers.pop(0), "port": port,
                 "family": socket.AF_INET, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        return None


async def test_the_delivery_resolver_refuses_a_name_rebound_to_an_internal_address():
    resolver = CheckedResolver(AddressPolicy.parse("public"), FlippingResolver())
    first = await resolver.resolve("hooks.example", 443)
    assert first[0]["host"] == "93.184.216.34"
    with pytest.raises(OSError, match="may not reach"):
        await resolver.resolve("hooks.example", 443)


def test_a_signature_verifies_and_refuses_changes_wrong_secrets_and_old_times():
    body = b'{"event":"push"}'
    header = signature_header("s3cret", 1_000_000, body)
    assert verify("s3cret", header, body, now=1_000_100) == 1_000_000
    with pytest.raises(SignatureError, match="does not match"):
        verify("s3cret", header, body + b" ", now=1_000_100)
    with pytest.raises(SignatureError, match="does not match"):
        verify("other", header, body, now=1_000_100)
    with pytest.raises(SignatureError, match="tolerance"):
        verify("s3cret", header, body, now=1_000_301)
    with pytest.raises(SignatureError, match="timestamp"):
        verify("s3cret", "v1=abc", body, now=1_000_000)


def test_both_payload_formats_carry_the_event():
    event = Cause("alice", "https://hub.example").event(
        EventType.PUSH, "acme/app", tag="v1", digest="sha256:" + "a" * 64
    )
    docker, docker_type = render(event, "e-1", PayloadFormat.DOCKER, "https://hub.example/cb")
    body = json.loads(docker)
    assert docker_type == "application/json"
    assert body["callback_url"] == "https://hub.example/cb"
    assert body["push_data"]["pusher"] == "alice" and body["push_data"]["tag"] == "v1"
    assert body["repository"]["repo_url"] == "https://hub.example/r/acme/app"
    cloud, cloud_type = render(event, "e-1", PayloadFormat.CLOUDEVENTS, "unused")
    body = json.loads(cloud)
    assert cloud_type == "application/cloudevents+json"
    assert (body["specversion"], body["id"], body["type"]) == ("1.0", "e-1", "io.berth.push")
    assert body["time"].endswith("Z") and body["data"]["digest"] == event.digest


class IdleOutbox:
    """A writer whose outbox is always empty; counts the worker's claims."""

    def __init__(self) -> None:
        self.claims = 0

    async def run(self, job):  # type: ignore[no-untyped-def]
        self.claims += 1
        return []

    def close(self) -> None:
        return None


async def test_a_worker_cancelled_as_it_is_woken_stops():
    """A hub shutting down cancels its delivery worker; an event recorded in the same moment
    must not swallow the cancellation (Python 3.11's wait_for did, and shutdown hung)."""
    outbox = IdleOutbox()
    worker = DeliveryWorker(
        outbox, AddressPolicy.parse(""), DeliveryOptions(poll_seconds=60),
        WebhookSecretSealer(b"k" * 32),
    )
    task = asyncio.create_task(worker.run())
    while outbox.claims < 2:  # the first pass also prunes the log: then it claims
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.01)  # now waiting for work, for up to a minute
    worker.wake()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=10)
    assert task in done and task.cancelled()
