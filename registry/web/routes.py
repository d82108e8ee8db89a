"""The web interface's route table: name, method, path, handler and who may call it.

`Audience` says who may call a route; `security.web_middleware` enforces it before any handler
runs, with the same grants as the Hub API (`registry.api.hub.common.require_actions`):

- ANYONE: anonymous included; listings show only what the caller may see.
- SIGNED_IN: a signed-in user (anonymous browsers are sent to the sign-in page).
- ORG_MANAGER: a signed-in owner of the organization in the path, or an admin (the Hub API's
  `AccountService.may_manage`).
- ADMIN: a signed-in admin.
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
from registry.auth.rules import Rule
from registry.web.views import accounts, admin, explore, manage, org_admin, orgs, repositories

__all__ = ["STATIC_PREFIX", "WEB_ROUTES", "WEB_RULES", "Audience", "WebRoute", "setup_web_routes"]

STATIC_PREFIX = "/static"
STATIC_ROUTE = "web-static"
_REPO = "/r/{repo:[^?#]+?}"
_TAG = _REPO + "/-/tags/{reference:[^/?#]+}"
_ORG = "/orgs/{org:[a-z0-9._-]+}"
_TEAM = _ORG + "/teams/{team:[a-z0-9._-]+}"
_ROBOT = _ORG + "/robots/{robot:[a-z0-9._-]+}"
_RULE = _ORG + "/immutable-tags/{rule_id:[0-9]+}"
_HOOK = _ORG + "/webhooks/{webhook_id:[0-9]+}"


class Audience(enum.Enum):
    """Who may call a web route (see the module docstring)."""

    ANYONE = "anyone"
    SIGNED_IN = "signed-in"
    ORG_MANAGER = "org-manager"
    ADMIN = "admin"
    REPO_PULL = "repository:pull"
    REPO_PUSH = "repository:push"
    REPO_DELETE = "repository:delete"
    REPO_OWNER = "repository:*"

    @property
    def repository_actions(self) -> frozenset[str]:
        """The repository actions the route needs; empty for routes without a repository."""
        kind, _, action = self.value.partition(":")
        return frozenset({action}) if kind == "repository" else frozenset()


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
    WebRoute("web-orgs", "GET", "/orgs", orgs.list_orgs, A.SIGNED_IN),
    WebRoute("web-org-add", "POST", "/orgs", orgs.create_org, A.SIGNED_IN),
    WebRoute("web-org", "GET", _ORG, orgs.org, A.SIGNED_IN),
    WebRoute("web-team-add", "POST", _ORG + "/teams", orgs.add_team, A.ORG_MANAGER),
    WebRoute("web-team-rm-form", "GET", _TEAM + "/delete", orgs.remove_team_form, A.ORG_MANAGER),
    WebRoute("web-team-rm", "POST", _TEAM + "/delete", orgs.remove_team, A.ORG_MANAGER),
    WebRoute("web-member-add", "POST", _TEAM + "/members", orgs.add_member, A.ORG_MANAGER),
    WebRoute(
        "web-member-rm", "POST", _TEAM + "/members/{user}/remove", orgs.remove_member,
        A.ORG_MANAGER,
    ),
    WebRoute("web-grant-put", "POST", _TEAM + "/grants", orgs.grant, A.ORG_MANAGER),
    WebRoute("web-grant-rm", "POST", _TEAM + "/grants/remove", orgs.revoke, A.ORG_MANAGER),
    # An organization's admin area (`views.org_admin`): the Hub API's rules for the same calls.
    WebRoute("web-robots", "GET", _ORG + "/robots", org_admin.robots, A.ORG_MANAGER),
    WebRoute("web-robot-add", "POST", _ORG + "/robots", org_admin.create_robot, A.ORG_MANAGER),
    WebRoute(
        "web-robot-rm", "POST", _ROBOT + "/revoke", org_admin.revoke_robot, A.ORG_MANAGER
    ),
    WebRoute(
        "web-immutable", "GET", _ORG + "/immutable-tags", org_admin.immutable_tags, A.ORG_MANAGER
    ),
    WebRoute(
        "web-immutable-add",
        "POST",
        _ORG + "/immutable-tags",
        org_admin.add_immutable_rule,
        A.ORG_MANAGER,
    ),
    WebRoute(
        "web-immutable-rm",
        "POST",
        _RULE + "/remove",
        org_admin.remove_immutable_rule,
        A.ORG_MANAGER,
    ),
    WebRoute("web-retention", "GET", _ORG + "/retention", org_admin.retention, A.ORG_MANAGER),
    WebRoute(
        "web-retention-set", "POST", _ORG + "/retention", org_admin.set_retention, A.ORG_MANAGER
    ),
    WebRoute(
        "web-retention-dry-run",
        "POST",
        _ORG + "/retention/dry-run",
        org_admin.retention_dry_run,
        A.ORG_MANAGER,
    ),
    WebRoute("web-webhooks", "GET", _ORG + "/webhooks", org_admin.webhooks, A.ORG_MANAGER),
    WebRoute(
        "web-webhook-add", "POST", _ORG + "/webhooks", org_admin.create_webhook, A.ORG_MANAGER
    ),
    WebRoute("web-webhook", "GET", _HOOK, org_admin.deliveries, A.ORG_MANAGER),
    WebRoute(
        "web-webhook-redeliver",
        "POST",
        _HOOK + "/deliveries/{delivery_id:[0-9]+}/redeliver",
        org_admin.redeliver,
        A.ORG_MANAGER,
    ),
    WebRoute(
        "web-webhook-rm-form", "GET", _HOOK + "/delete", org_admin.delete_webhook_form,
        A.ORG_MANAGER,
    ),
    WebRoute(
        "web-webhook-rm", "POST", _HOOK + "/delete", org_admin.delete_webhook, A.ORG_MANAGER
    ),
    WebRoute("web-quota", "GET", _ORG + "/quota", org_admin.quota, A.ORG_MANAGER),
    # As in the API (and Harbor): an organization's managers see its quota, hub admins set it.
    WebRoute("web-quota-set", "POST", _ORG + "/quota", org_admin.set_quota, A.ADMIN),
    WebRoute("web-admin-users", "GET", "/admin/users", admin.users, A.ADMIN),
    WebRoute("web-admin-user-add", "POST", "/admin/users", admin.add_user, A.ADMIN),
    WebRoute(
        "web-admin-user-rm-form", "GET", "/admin/users/{user}/delete", admin.remove_user_form,
        A.ADMIN,
    ),
    WebRoute("web-admin-user-rm", "POST", "/admin/users/{user}/delete", admin.remove_user, A.ADMIN),
    WebRoute("web-admin-audit", "GET", "/admin/audit", admin.audit, A.ADMIN),
    WebRoute("web-admin-health", "GET", "/admin/health", admin.health, A.ADMIN),
    WebRoute("web-admin-gc", "GET", "/admin/gc", admin.gc_form, A.ADMIN),
    WebRoute("web-admin-gc-run", "POST", "/admin/gc", admin.gc_run, A.ADMIN),
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
    WebRoute(
        "web-trust-required",
        "POST",
        _REPO + "/-/settings/trust",
        manage.set_trust_required,
        A.REPO_OWNER,
    ),
    WebRoute("web-repo-delete-form", "GET", _REPO + "/-/delete", manage.delete_form, A.REPO_DELETE),
    WebRoute("web-repo-delete", "POST", _REPO + "/-/delete", manage.delete, A.REPO_DELETE),
    WebRoute("web-repository", "GET", _REPO, repositories.repository, A.REPO_PULL),
)

ROUTE_BY_NAME = {route.name: route for route in WEB_ROUTES}


# The hub's rule table entries for the pages (`registry.auth.rules.Rule.web`) and the assets.
WEB_RULES: dict[str, Rule] = {
    **{route.name: Rule.web(route.audience.value) for route in WEB_ROUTES},
    STATIC_ROUTE: Rule.open(),
}


def setup_web_routes(app: web.Application) -> None:
    """Mount the pages and the static assets (served by the hub: no outside request)."""
    for route in WEB_ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
    static = Path(__file__).parent / "static"
    app.router.add_static(STATIC_PREFIX, static, name=STATIC_ROUTE, append_version=True)
