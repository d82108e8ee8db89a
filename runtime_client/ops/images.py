"""`image ls`: list local images as Docker's table, IDs only, JSON lines or a template."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, TextIO

from runtime_client.config import Stores
from runtime_client.humanize import human_size, parse_time, since
from runtime_client.images.naming import familiar, parse_reference, repository_of
from runtime_client.images.store import Image
from runtime_client.options import ImagesOptions
from runtime_client.tables import write_table
from runtime_client.templating import render_rows

__all__ = ["image_rows", "images"]

logger = logging.getLogger(__name__)


def image_rows(stores: Stores, opts: ImagesOptions, now: datetime) -> list[dict[str, Any]]:
    """One row per (image, repository:tag), with Docker's `--format` field names."""
    default = stores.images.default_registry
    wanted_repo = wanted_tag = None
    if opts.repository:
        ref = parse_reference(opts.repository, default, default_tag=None)
        wanted_repo, wanted_tag = repository_of(ref), ref.tag
    filters = opts.filters

    def created_of(ref: str) -> datetime | None:
        return parse_time(stores.images.resolve(ref).created)

    listed = [image for image in stores.images.list()
              if not filters or filters.keeps(image, created_of)]
    sizes = stores.images.unpacked_sizes(listed)
    rows = []
    for image in listed:
        for repo, tag in _names(image) or [("<none>", "<none>")]:
            if wanted_repo and (repo != wanted_repo or (wanted_tag and tag != wanted_tag)):
                continue
            row = _row(image, sizes[image.id], repo, tag, default, now, opts.no_trunc)
            name = row["Repository"] + (f":{tag}" if tag != "<none>" else "")
            if filters and not filters.keeps_name(name):
                continue
            rows.append(row)
    return rows


def _names(image: Image) -> list[tuple[str, str]]:
    names = [tuple(t.rsplit(":", 1)) for t in image.repo_tags]
    tagged_repos = {repo for repo, _ in names}
    # Docker lists an image known only by digest in a repository with TAG <none>.
    for repo_digest in image.repo_digests:
        repo = repo_digest.split("@", 1)[0]
        if repo not in tagged_repos:
            names.append((repo, "<none>"))
            tagged_repos.add(repo)
    return names  # type: ignore[return-value]


def _row(image: Image, size: int, repo: str, tag: str, default: str, now: datetime,
         no_trunc: bool) -> dict[str, Any]:
    digest = "<none>"
    for repo_digest in image.repo_digests:
        name, _, value = repo_digest.partition("@")
        if name == repo:
            digest = value
            break
    created = parse_time(image.created)
    return {
        "Containers": "N/A",
        "CreatedAt": created.strftime("%Y-%m-%d %H:%M:%S %z %Z") if created else "",
        "CreatedSince": since(image.created, now),
        "Digest": digest,
        "ID": str(image.id) if no_trunc else image.short_id,
        "Repository": familiar(repo, default) if repo != "<none>" else repo,
        "SharedSize": "N/A",
        "Size": human_size(size),
        "Tag": tag,
        "UniqueSize": "N/A",
        "VirtualSize": human_size(size, precision=4),  # the docker CLI's HumanSize
    }


HEADERS = {"Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST", "ID": "IMAGE ID",
           "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
           "Containers": "CONTAINERS", "SharedSize": "SHARED SIZE",
           "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE"}


def images(stores: Stores, opts: ImagesOptions, stdout: TextIO) -> None:
    """Write the image list to `stdout` in the format `opts` asks for."""
    rows = image_rows(stores, opts, datetime.now(UTC))
    if opts.quiet:
        seen: set[str] = set()
        for row in rows:
            if row["ID"] not in seen:
                seen.add(row["ID"])
                stdout.write(row["ID"] + "\n")
        return
    fmt = opts.format
    if fmt == "json":
        for row in rows:
            stdout.write(json.dumps(row, separators=(",", ":")) + "\n")
        return
    if fmt and fmt != "table":
        stdout.write(render_rows(fmt, rows, HEADERS, "*formatter.imageContext",
                                 exec_prefix="template parsing error"))
        return
    columns = [("REPOSITORY", "Repository"), ("TAG", "Tag")]
    if opts.digests:
        columns.append(("DIGEST", "Digest"))
    columns += [("IMAGE ID", "ID"), ("CREATED", "CreatedSince"), ("SIZE", "Size")]
    write_table(stdout, columns, rows)
