"""A repository's page (README, counts, tag table), a tag's page (manifest, layers, config,
trust state, referrers), an image's files, and starring. The route table has checked `pull` on
the repository before these run.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from registry import keys
from registry.errors import NotFoundError
from registry.hub.repositories import TagDetail
from registry.oci.digest import Digest
from registry.services.manifests import parse_reference
from registry.web.markdown import render_markdown
from registry.web.render import REPOSITORY, USER, render
from registry.web.views.common import display_name, holds, pager, signed_in

TAG_SORTS = ("pushed", "name", "size", "pulled")
FILES_PAGE_SIZE = 100


def pull_line(request: web.Request, name: str, reference: str) -> str:
    """The `docker pull` command for a tag (`@digest` for a digest)."""
    separator = "@" if ":" in reference else ":"
    return f"docker pull {request.host}/{display_name(name)}{separator}{reference}"


async def _starred(request: web.Request, name: str) -> bool:
    user = request.get(USER)
    if user is None:
        return False
    starred = await request.app[keys.REPOSITORIES].starred(user.user_id)
    return any(info.name == name for info in starred)


def _featured(tags: list[TagDetail]) -> str:
    """The tag the page's main pull line names: `latest` when shown, else the first listed."""
    names = [tag.name for tag in tags]
    return "latest" if "latest" in names or not names else names[0]


async def repository(request: web.Request) -> web.Response:
    name = request[REPOSITORY]
    repositories = request.app[keys.REPOSITORIES]
    info = await repositories.get(name)
    sort = request.query.get("sort", "pushed")
    sort = sort if sort in TAG_SORTS else "pushed"
    descending = request.query.get("order", "desc" if sort != "name" else "asc") == "desc"
    wanted = pager(request)
    total, tags = await repositories.tag_page(
        name, sort=sort, descending=descending, offset=wanted.offset, limit=wanted.size
    )
    signed = await request.app[keys.CONTENT_TRUST].signed_tags(name)
    return render(
        request,
        "repositories/repository.html",
        {
            "info": info,
            "name": name,
            "shown_name": display_name(name),
            # The README; a repository that has none shows its description instead.
            "readme": render_markdown(info.full_description or info.description),
            "trust": await repositories.trust_setting(name),
            "starred": await _starred(request, name),
            "may_push": await holds(request, name, {"push"}),
            "tags": [
                (tag, pull_line(request, name, tag.name), tag.digest in signed.get(tag.name, ()))
                for tag in tags
            ],
            "pull": pull_line(request, name, _featured(tags)),
            "sort": sort,
            "descending": descending,
            "pager": wanted.with_total(total),
            "page_link": f"/r/{name}?sort={sort}&order={'desc' if descending else 'asc'}&page=",
        },
    )


async def tag(request: web.Request) -> web.Response:
    name = request[REPOSITORY]
    raw, reference = request.match_info["reference"], _reference(request)
    images = request.app[keys.IMAGES]
    detail = await images.describe(name, reference)
    return render(
        request,
        "repositories/tag.html",
        {
            "name": name,
            "shown_name": display_name(name),
            "reference": raw,
            "is_tag": not isinstance(reference, Digest),
            "detail": detail,
            "pull": pull_line(request, name, raw),
            "may_delete": await holds(request, name, {"delete"}),
            "referrers": await images.referrers(name, detail.digest),
            "signatures": (
                []
                if isinstance(reference, Digest)
                else await request.app[keys.CONTENT_TRUST].tag_signatures(name, reference)
            ),
        },
    )


def _reference(request: web.Request) -> Digest | str:
    try:
        return parse_reference(request.match_info["reference"])
    except ValueError as exc:
        raise NotFoundError("no such tag") from exc


async def files(request: web.Request) -> web.Response:
    name, raw = request[REPOSITORY], request.match_info["reference"]
    wanted = pager(request, FILES_PAGE_SIZE)
    path = request.query.get("path", "/")
    listing = await request.app[keys.FILESYSTEM].directory(
        name, _reference(request), path, offset=wanted.offset, limit=wanted.size
    )
    crumbs, prefix = [("/", "/")], ""
    for part in listing.path.strip("/").split("/") if listing.path != "/" else ():
        prefix = f"{prefix}/{part}"
        crumbs.append((part, prefix))
    base = f"/r/{name}/-/tags/{raw}/files"
    return render(
        request,
        "repositories/files.html",
        {
            "name": name,
            "shown_name": display_name(name),
            "reference": raw,
            "listing": listing,
            "crumbs": crumbs,
            "base": base,
            "child_prefix": "" if listing.path == "/" else listing.path,
            "pager": wanted.with_total(listing.total),
            "page_link": f"{base}?{urlencode({'path': listing.path})}&page=",
        },
    )


async def star(request: web.Request) -> web.Response:
    name = request[REPOSITORY]
    user = request.get(USER)
    if user is None:
        raise web.HTTPSeeOther(f"/login?next=/r/{name}")
    starred = (await request.post()).get("starred") == "1"
    await request.app[keys.REPOSITORIES].star(signed_in(request).user_id, name, starred)
    raise web.HTTPSeeOther(f"/r/{name}")
