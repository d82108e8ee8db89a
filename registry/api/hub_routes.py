"""The Hub's route table: token endpoint, Docker v1 search and the JSON API under `/api/v1`.

Each handler checks the caller itself (accounts differ from repository scopes), so these routes
carry no registry action. Names contain `/`: the `.../tags` and `.../star` routes come first.
"""

from __future__ import annotations

from aiohttp import web

from registry.api.hub import accounts, audit, orgs, repositories, search
from registry.api.routes import Route
from registry.auth import handlers as token

__all__ = ["HUB_ROUTES", "setup_hub_routes"]

_REPO = "/api/v1/repositories/{name:[^?#]+?}"
_TEAM = "/api/v1/orgs/{org}/teams/{team}"

HUB_ROUTES: tuple[Route, ...] = (
    Route("token-get", "GET", "/token", token.token_get, None),
    Route("token-post", "POST", "/token", token.token_post, None),
    Route("v1-ping", "GET", "/v1/_ping", search.v1_ping, None),
    Route("v1-search", "GET", "/v1/search", search.v1_search, None),
    Route("hub-search", "GET", "/api/v1/search", search.search, None),
    Route("hub-me", "GET", "/api/v1/user", accounts.me, None),
    Route("hub-me-password", "PUT", "/api/v1/user/password", accounts.change_own_password, None),
    Route("hub-tokens", "GET", "/api/v1/user/tokens", accounts.list_own_tokens, None),
    Route("hub-token-add", "POST", "/api/v1/user/tokens", accounts.create_own_token, None),
    Route(
        "hub-token-rm",
        "DELETE",
        "/api/v1/user/tokens/{token_id}",
        accounts.revoke_own_token,
        None,
    ),
    Route("hub-users", "GET", "/api/v1/users", accounts.list_users, None),
    Route("hub-user-add", "POST", "/api/v1/users", accounts.create_user, None),
    Route("hub-user-rm", "DELETE", "/api/v1/users/{user}", accounts.delete_user, None),
    Route(
        "hub-user-password",
        "PUT",
        "/api/v1/users/{user}/password",
        accounts.set_user_password,
        None,
    ),
    Route("hub-orgs", "GET", "/api/v1/orgs", orgs.list_orgs, None),
    Route("hub-org-add", "POST", "/api/v1/orgs", orgs.create_org, None),
    Route("hub-org", "GET", "/api/v1/orgs/{org}", orgs.get_org, None),
    Route("hub-org-rm", "DELETE", "/api/v1/orgs/{org}", orgs.delete_org, None),
    Route("hub-team-put", "PUT", _TEAM, orgs.put_team, None),
    Route("hub-team-rm", "DELETE", _TEAM, orgs.delete_team, None),
    Route("hub-member-put", "PUT", _TEAM + "/members/{user}", orgs.put_member, None),
    Route("hub-member-rm", "DELETE", _TEAM + "/members/{user}", orgs.delete_member, None),
    Route("hub-grant-put", "PUT", _TEAM + "/grants", orgs.put_grant, None),
    Route("hub-grant-rm", "DELETE", _TEAM + "/grants", orgs.delete_grant, None),
    Route("hub-namespace", "PUT", "/api/v1/namespaces/{namespace}", orgs.put_namespace, None),
    Route("hub-audit", "GET", "/api/v1/audit", audit.list_events, None),
    Route("hub-repos", "GET", "/api/v1/repositories", repositories.list_repositories, None),
    Route("hub-repo-tags", "GET", _REPO + "/tags", repositories.list_tags, None),
    Route("hub-repo-star", "PUT", _REPO + "/star", repositories.star, None),
    Route("hub-repo-unstar", "DELETE", _REPO + "/star", repositories.unstar, None),
    Route("hub-repo", "GET", _REPO, repositories.get_repository, None),
    Route("hub-repo-update", "PATCH", _REPO, repositories.update_repository, None),
    Route("hub-repo-delete", "DELETE", _REPO, repositories.delete_repository, None),
)


def setup_hub_routes(app: web.Application) -> None:
    for route in HUB_ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
