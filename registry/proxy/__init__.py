"""The pull-through cache: proxy namespaces served from upstream registries.

A proxy namespace (`<hub>/<namespace>/<path>`) maps to one upstream registry. Pulls fill the
hub's own stores (the database's manifests and tags, the storage's content-addressed blobs)
from the upstream on a miss; the registry's handlers then serve them as any other content.

- `config`: the `[proxy]` settings, parsed into `ProxyNamespace` values.
- `credentials`: upstream passwords sealed under the hub's key-encryption secret.
- `upstream`: an HTTP client of one upstream registry (Docker token auth, typed errors).
- `blobfetch`: one upstream fetch per missing blob, streamed to every waiting client.
- `fetchclaims`: the same across hub processes sharing a database (a lease per digest).
- `cache`: fills manifests and tags (with revalidation) and blobs.
- `middleware`: routes proxy-namespace requests through the cache, refuses pushes.
- `expiry`: cached tags not pulled for `expire_days` go (the collector reclaims the rest).
"""

from registry.proxy.config import ProxyNamespace, parse_namespaces

__all__ = ["ProxyNamespace", "parse_namespaces"]
