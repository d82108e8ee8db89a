"""Pure OCI building blocks: digests, references, media types, manifests, error codes.

No aiohttp, SQLAlchemy, boto3 or filesystem access here: bytes in, values out.
"""
