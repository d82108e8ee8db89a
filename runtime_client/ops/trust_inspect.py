"""`trust inspect [--pretty] NAME[:TAG]...`: who signed which tags, in Docker's JSON shape."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, TextIO

from runtime_client.config import ClientConfig
from runtime_client.contenttrust import TrustContext
from runtime_client.images.naming import familiar, parse_reference, repository_of
from runtime_client.options import TrustInspectOptions
from runtime_client.tables import write_table
from trust.client.trusted_set import TrustedSet
from trust.client.updater import list_targets

__all__ = ["trust_document", "trust_inspect"]

logger = logging.getLogger(__name__)


def _signer_name(role: str) -> str:
    return "Repo Admin" if role == "targets" else role.removeprefix("targets/")


def trust_document(trusted: TrustedSet, shown_name: str, tag: str | None) -> dict[str, Any]:
    """Docker's `trust inspect` object for one repository (optionally one tag)."""
    signed_tags = []
    for name, signatures in sorted(list_targets(trusted).items()):
        if tag is not None and name != tag:
            continue
        roles = [s.role for s in signatures]
        signers = [_signer_name(r) for r in roles if r != "targets/releases"] or \
            [_signer_name(roles[0])]
        signed_tags.append({"SignedTag": name, "Digest": signatures[0].sha256,
                            "Signers": sorted(set(signers))})
    root = trusted.root.signed
    targets = trusted.targets["targets"].signed
    delegations = targets.delegations.roles if targets.delegations else []
    return {
        "Name": shown_name,
        "SignedTags": signed_tags,
        "Signers": [
            {"Name": role.name.removeprefix("targets/"),
             "Keys": [{"ID": key_id} for key_id in sorted(role.keyids)]}
            for role in delegations if role.name != "targets/releases"
        ],
        "AdministrativeKeys": [
            {"Name": "Root", "Keys": [{"ID": k} for k in sorted(root.roles["root"].keyids)]},
            {"Name": "Repository",
             "Keys": [{"ID": k} for k in sorted(root.roles["targets"].keyids)]},
        ],
    }


def trust_inspect(config: ClientConfig, opts: TrustInspectOptions, stdout: TextIO,
                  env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Write the trust data of each name (JSON, or Docker's `--pretty` text).

    Raises:
        TrustVerificationError: a repository has no (valid) trust data.
    """
    documents = []
    for name in opts.names:
        ref = parse_reference(name, config.default_registry, default_tag=None)
        gun = repository_of(ref)
        trusted = TrustContext(config, env, ref.host or config.default_registry).refresh(gun)
        shown = familiar(gun, config.default_registry) + (f":{ref.tag}" if ref.tag else "")
        documents.append(trust_document(trusted, shown, ref.tag))
    if not opts.pretty:
        stdout.write(json.dumps(documents, indent=4) + "\n")
        return documents
    for doc in documents:
        stdout.write(f"\nSignatures for {doc['Name']}\n\n")
        write_table(stdout, [("SIGNED TAG", "SignedTag"), ("DIGEST", "Digest"),
                             ("SIGNERS", "Signers")],
                    [{**t, "Signers": ", ".join(t["Signers"])} for t in doc["SignedTags"]])
        if doc["Signers"]:
            stdout.write(f"\nList of signers and their keys for {doc['Name']}\n\n")
            write_table(stdout, [("SIGNER", "Name"), ("KEYS", "Keys")],
                        [{"Name": s["Name"], "Keys": ", ".join(k["ID"][:12] for k in s["Keys"])}
                         for s in doc["Signers"]])
        stdout.write(f"\nAdministrative keys for {doc['Name']}\n\n")
        for admin in doc["AdministrativeKeys"]:
            ids = ", ".join(k["ID"] for k in admin["Keys"])
            stdout.write(f"  {admin['Name']} Key:\t{ids}\n")
    return documents
