"""The Hub's route table: token endpoint, Docker v1 search, the JSON API under `/api/v1` and
the Kubernetes admission webhooks under `/admission`.

Each route carries its `Rule` (see `registry.auth.rules`), enforced before the handler by
`registry.api.authorization`. Account management takes a password or a personal access token,
never a registry bearer token. Names contain `/`: the `.../tags`, `.../immutable-tags`,
`.../retention` and `.../star` routes come first.
"""

from __future__ import annotations

from aiohttp import web

from registry.api.hub import (
    accounts,
    admission,
    audit,
    immutability,
    orgs,
    quotas,
    replication,
    repositories,
    retention,
    robots,
    search,
    webhooks,
)
from registry.api.routes import Route
from registry.auth import handlers as token
from registry.auth.rules import Rule

__all__ = ["HUB_ROUTES", "setup_hub_routes"]

_REPO = "/api/v1/repositories/{name:[^?#]+?}"
_TEAM = "/api/v1/orgs/{org}/teams/{team}"
_REPO_RULES = _REPO + "/immutable-tags"
_NAMESPACE_RULES = "/api/v1/namespaces/{namespace}/immutable-tags"
_RULE_ID = "/{rule_id:[0-9]{1,9}}"
_REPO_RETENTION = _REPO + "/retention"
_QUOTA = "/api/v1/namespaces/{namespace}/quota"
_HOOKS = "/api/v1/namespaces/{namespace}/webhooks"
_HOOK = _HOOKS + "/{webhook_id}"

_OPEN, _LISTING, _ADMIN, _ORG = Rule.open(), Rule.listing(), Rule.hub_admin(), Rule.organization()
_READ_ACCOUNT = Rule.account("read", "read")
_MANAGE_ACCOUNT = Rule.account("admin")
_REPO_PULL, _REPO_PUSH, _REPO_DELETE = (
    Rule.repository(action, anonymous=True, hidden=True) for action in ("pull", "push", "delete")
)
_REPO_OWNER = Rule.repository("*", anonymous=True, hidden=True)
_STAR = Rule.account_on_repository("write")

HUB_ROUTES: tuple[Route, ...] = (
    Route("token-get", "GET", "/token", token.token_get, Rule.token()),
    Route("token-post", "POST", "/token", token.token_post, Rule.token()),
    Route("v1-ping", "GET", "/v1/_ping", search.v1_ping, _OPEN),
    Route("v1-search", "GET", "/v1/search", search.v1_search, _LISTING),
    Route("hub-search", "GET", "/api/v1/search", search.search, _LISTING),
    Route("hub-me", "GET", "/api/v1/user", accounts.me, _READ_ACCOUNT),
    Route(
        "hub-me-password",
        "PUT",
        "/api/v1/user/password",
        accounts.change_own_password,
        _MANAGE_ACCOUNT,
    ),
    Route(
        "hub-tokens",
        "GET",
        "/api/v1/user/tokens",
        accounts.list_own_tokens,
        Rule.account("admin", "read"),
    ),
    Route(
        "hub-token-add", "POST", "/api/v1/user/tokens", accounts.create_own_token, _MANAGE_ACCOUNT
    ),
    Route(
        "hub-token-rm",
        "DELETE",
        "/api/v1/user/tokens/{token_id}",
        accounts.revoke_own_token,
        _MANAGE_ACCOUNT,
    ),
    Route("hub-users", "GET", "/api/v1/users", accounts.list_users, _ADMIN),
    Route("hub-user-add", "POST", "/api/v1/users", accounts.create_user, _ADMIN),
    Route("hub-user-rm", "DELETE", "/api/v1/users/{user}", accounts.delete_user, _ADMIN),
    Route(
        "hub-user-password",
        "PUT",
        "/api/v1/users/{user}/password",
        accounts.set_user_password,
        _ADMIN,
    ),
    Route("hub-orgs", "GET", "/api/v1/orgs", orgs.list_orgs, _READ_ACCOUNT),
    Route("hub-org-add", "POST", "/api/v1/orgs", orgs.create_org, _MANAGE_ACCOUNT),
    Route("hub-org", "GET", "/api/v1/orgs/{org}", orgs.get_org, _LISTING),
    Route("hub-org-rm", "DELETE", "/api/v1/orgs/{org}", orgs.delete_org, _ORG),
    Route("hub-team-put", "PUT", _TEAM, orgs.put_team, _ORG),
    Route("hub-team-rm", "DELETE", _TEAM, orgs.delete_team, _ORG),
    Route("hub-member-put", "PUT", _TEAM + "/members/{user}", orgs.put_member, _ORG),
    Route("hub-member-rm", "DELETE", _TEAM + "/members/{user}", orgs.delete_member, _ORG),
    Route("hub-grant-put", "PUT", _TEAM + "/grants", orgs.put_grant, _ORG),
    Route("hub-grant-rm", "DELETE", _TEAM + "/grants", orgs.delete_grant, _ORG),
    Route("hub-robots", "GET", "/api/v1/orgs/{org}/robots", robots.list_robots, _ORG),
    Route("hub-robot-add", "POST", "/api/v1/orgs/{org}/robots", robots.create_robot, _ORG),
    Route(
        "hub-robot-rm", "DELETE", "/api/v1/orgs/{org}/robots/{robot}", robots.revoke_robot, _ORG
    ),
    Route(
        "hub-namespace",
        "PUT",
        "/api/v1/namespaces/{namespace}",
        orgs.put_namespace,
        Rule.namespace(),
    ),
    Route(
        "hub-namespace-immutable",
        "GET",
        _NAMESPACE_RULES,
        immutability.list_namespace_rules,
        Rule.namespace(),
    ),
    Route(
        "hub-namespace-immutable-add",
        "POST",
        _NAMESPACE_RULES,
        immutability.add_namespace_rule,
        Rule.namespace(),
    ),
    Route(
        "hub-namespace-immutable-rm",
        "DELETE",
        _NAMESPACE_RULES + _RULE_ID,
        immutability.remove_namespace_rule,
        Rule.namespace(),
    ),
    Route(
        "hub-namespace-retention",
        "GET",
        "/api/v1/namespaces/{namespace}/retention",
        retention.get_namespace_policy,
        Rule.namespace(),
    ),
    Route(
        "hub-namespace-retention-put",
        "PUT",
        "/api/v1/namespaces/{namespace}/retention",
        retention.put_namespace_policy,
        Rule.namespace(),
    ),
    # Harbor's split: a namespace's managers see its quota, only hub admins set it.
    Route("hub-namespace-quota", "GET", _QUOTA, quotas.get_quota, Rule.namespace()),
    Route("hub-namespace-quota-put", "PUT", _QUOTA, quotas.put_quota, _ADMIN),
    Route("hub-webhooks", "GET", _HOOKS, webhooks.list_webhooks, Rule.namespace()),
    Route("hub-webhook-add", "POST", _HOOKS, webhooks.create_webhook, Rule.namespace()),
    Route("hub-webhook-rm", "DELETE", _HOOK, webhooks.delete_webhook, Rule.namespace()),
    Route(
        "hub-webhook-deliveries",
        "GET",
        _HOOK + "/deliveries",
        webhooks.list_deliveries,
        Rule.namespace(),
    ),
    Route(
        "hub-webhook-redeliver",
        "POST",
        _HOOK + "/deliveries/{delivery_id}/redeliver",
        webhooks.redeliver,
        Rule.namespace(),
    ),
    Route("hub-audit", "GET", "/api/v1/audit", audit.list_events, _ADMIN),
    # Called by Kubernetes API servers, which carry no hub credentials: the admission service
    # checks its own token (`registry.admission.service`).
    Route("admission-validate", "POST", "/admission/validate", admission.validate, _OPEN),
    Route("admission-mutate", "POST", "/admission/mutate", admission.mutate, _OPEN),
    Route("hub-repos", "GET", "/api/v1/repositories", repositories.list_repositories, _LISTING),
    Route("hub-repo-tags", "GET", _REPO + "/tags", repositories.list_tags, _REPO_PULL),
    Route("hub-repo-immutable", "GET", _REPO_RULES, immutability.list_repository_rules, _REPO_PULL),
    Route(
        "hub-repo-immutable-add",
        "POST",
        _REPO_RULES,
        immutability.add_repository_rule,
        _REPO_OWNER,
    ),
    Route(
        "hub-repo-immutable-rm",
        "DELETE",
        _REPO_RULES + _RULE_ID,
        immutability.remove_repository_rule,
        _REPO_OWNER,
    ),
    Route(
        "hub-repo-retention-runs",
        "GET",
        _REPO_RETENTION + "/runs",
        retention.list_runs,
        _REPO_PULL,
    ),
    Route(
        "hub-repo-retention-run",
        "POST",
        _REPO_RETENTION + "/runs",
        retention.start_run,
        _REPO_OWNER,
    ),
    Route(
        "hub-repo-retention",
        "GET",
        _REPO_RETENTION,
        retention.get_repository_policy,
        _REPO_PULL,
    ),
    Route(
        "hub-repo-retention-put",
        "PUT",
        _REPO_RETENTION,
        retention.put_repository_policy,
        _REPO_OWNER,
    ),
    Route("hub-repo-star", "PUT", _REPO + "/star", repositories.star, _STAR),
    Route("hub-repo-unstar", "DELETE", _REPO + "/star", repositories.unstar, _STAR),
    Route("hub-repo", "GET", _REPO, repositories.get_repository, _REPO_PULL),
    Route("hub-repo-update", "PATCH", _REPO, repositories.update_repository, _REPO_PUSH),
    Route("hub-repo-delete", "DELETE", _REPO, repositories.delete_repository, _REPO_DELETE),
    *replication.REPLICATION_ROUTES,
)


def setup_hub_routes(app: web.Application) -> None:
    for route in HUB_ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
