"""The web interface's route table: name, method, path, handler and who may call it.

`Audience` says who may call a route; `security.web_middleware` enforces it before any handler
runs, with the same grants as the Hub API (`registry.api.hub.common.require_actions`):

- ANYONE: anonymous included; listings show only what the caller may see.
- SIGNED_IN: a signed-in user (anonymous browsers are sent to the sign-in page).
- REPO_PULL / REPO_PUSH / REPO_DELETE / REPO_OWNER: the caller holds `pull` / `push` /
  `delete` / `*` on the repository in the path. Whoever may not pull it gets the same 404 as
  for a repository that does not exist.

Paths: repository names contain `/`, so everything after a name hangs below `/-/`, which no
name component can be.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from registry.api.routes import Handler
from registry.web.views import accounts, explore, manage, repositories

__all__ = ["STATIC_PREFIX", "WEB_ROUTES", "Audience", "WebRoute", "setup_web_routes"]

STATIC_PREFIX = "/static"
STATIC_ROUTE = "web-static"
_REPO = "/r/{repo:[^?#]+?}"
_TAG = _REPO + "/-/tags/{reference:[^/?#]+}"


class Audience(enum.Enum):
    """Who may call a web route (see the module docstring)."""

    ANYONE = frozenset()
    SIGNED_IN = frozenset({"signed-in"})
    REPO_PULL = frozenset({"pull"})
    REPO_PUSH = frozenset({"push"})
    REPO_DELETE = frozenset({"delete"})
    REPO_OWNER = frozenset({"*"})

    @property
    def repository_actions(self) -> frozenset[str]:
        """The repository actions the route needs; empty for routes without a repository."""
        return self.value - {"signed-in"}


@dataclass(frozen=True, slots=True)
class WebRoute:
    name: str
    method: str
    path: str
    handler: Handler
    audience: Audience


A = Audience
WEB_ROUTES: tuple[WebRoute, ...] = (
    WebRoute("web-explore", "GET", "/", explore.explore, A.ANYONE),
    WebRoute("web-login-form", "GET", "/login", accounts.login_form, A.ANYONE),
    WebRoute("web-login", "POST", "/login", accounts.login, A.ANYONE),
    WebRoute("web-logout", "POST", "/logout", accounts.logout, A.ANYONE),
    WebRoute("web-my-repos", "GET", "/account/repositories", accounts.my_repositories, A.SIGNED_IN),
    WebRoute("web-my-stars", "GET", "/account/stars", accounts.my_stars, A.SIGNED_IN),
    WebRoute("web-tokens", "GET", "/account/tokens", accounts.tokens, A.SIGNED_IN),
    WebRoute("web-token-add", "POST", "/account/tokens", accounts.create_token, A.SIGNED_IN),
    WebRoute(
        "web-token-revoke",
        "POST",
        "/account/tokens/{token_id:[0-9]+}/revoke",
        accounts.revoke_token,
        A.SIGNED_IN,
    ),
    # Repository routes: the more specific `/-/...` paths before the repository page.
    WebRoute("web-tag-delete-form", "GET", _TAG + "/delete", manage.delete_tag_form, A.REPO_DELETE),
    WebRoute("web-tag-delete", "POST", _TAG + "/delete", manage.delete_tag, A.REPO_DELETE),
    WebRoute("web-files", "GET", _TAG + "/files", repositories.files, A.REPO_PULL),
    WebRoute("web-tag", "GET", _TAG, repositories.tag, A.REPO_PULL),
    WebRoute("web-star", "POST", _REPO + "/-/star", repositories.star, A.REPO_PULL),
    WebRoute("web-settings", "GET", _REPO + "/-/settings", manage.settings, A.REPO_PUSH),
    WebRoute(
        "web-description", "POST", _REPO + "/-/settings/description", manage.describe, A.REPO_PUSH
    ),
    WebRoute(
        "web-visibility",
        "POST",
        _REPO + "/-/settings/visibility",
        manage.set_visibility,
        A.REPO_OWNER,
    ),
    WebRoute("web-repo-delete-form", "GET", _REPO + "/-/delete", manage.delete_form, A.REPO_DELETE),
    WebRoute("web-repo-delete", "POST", _REPO + "/-/delete", manage.delete, A.REPO_DELETE),
    WebRoute("web-repository", "GET", _REPO, repositories.repository, A.REPO_PULL),
)

ROUTE_BY_NAME = {route.name: route for route in WEB_ROUTES}


def setup_web_routes(app: web.Application) -> None:
    """Mount the pages and the static assets (served by the hub: no outside request)."""
    for route in WEB_ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
    static = Path(__file__).parent / "static"
    app.router.add_static(STATIC_PREFIX, static, name=STATIC_ROUTE, append_version=True)
