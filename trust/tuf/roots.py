"""Root verification shared by the client and the server: signatures plus certificate pinning.

A root is trusted when a threshold of the *signing* root's root-role keys signed it (the root
itself for a first root, the previous root for a rotation). Certificate keys must be issued for
the GUN (a wrong CN is always an error) and be valid at `now` (an expired certificate only
stops that key from counting), as notary's trust pinning does on first use.

Scope: pure; no I/O.
"""

from __future__ import annotations

import datetime as dt
import logging

from trust.tuf.errors import CertificateError, CertificateExpiredError, ThresholdError
from trust.tuf.keys import PublicKey, check_root_certificate
from trust.tuf.model import Metadata, Root

__all__ = ["verify_root"]

logger = logging.getLogger(__name__)


def verify_root(
    signer_root: Metadata[Root], root: Metadata[Root], gun: str, now: dt.datetime
) -> None:
    """Check that `root` is signed by a threshold of `signer_root`'s usable root keys.

    Raises:
        CertificateError: a root certificate names another GUN, or too few are valid.
        ThresholdError: too few valid signatures.
    """
    keys, threshold = signer_root.signed.role_keys("root")
    usable: dict[str, PublicKey] = {}
    for key_id, key in keys.items():
        try:
            check_root_certificate(key, gun, now)
        except CertificateExpiredError as exc:
            logger.warning("root key %s of %s unusable: %s", key_id, gun, exc)
            continue
        usable[key_id] = key
    try:
        root.verify_threshold(usable, threshold, "root")
    except ThresholdError:
        if len(usable) < threshold:
            raise CertificateError(f"too few valid root certificates for {gun}") from None
        raise
