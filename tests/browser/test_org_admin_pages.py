"""An organization's owner at a browser: creates a robot account (whose secret, shown once,
logs skopeo in) and a webhook (whose delivery log shows a push), sets an immutable-tag rule,
a retention policy with a dry run, reads the quota and is asked before a team is deleted.

Every page visited is audited with axe-core (no serious or critical violation) and kept as a
screenshot.
"""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import PASSWORD, api, push
from tests.browser.test_web_pages import sign_in_with_keyboard, tab_to
from tests.support.browser import Browser

pytestmark = pytest.mark.slow

ORG = "shipyard"


@pytest.fixture(scope="module")
def org(web_hub, skopeo, oci_layout) -> str:
    """The organization, owned by alice, with a team and a repository."""
    assert api(web_hub, "POST", "/api/v1/orgs", {"name": ORG}, "alice", PASSWORD) == 201
    assert api(web_hub, "PUT", f"/api/v1/orgs/{ORG}/teams/crew", {}, "alice", PASSWORD) == 201
    push(skopeo, oci_layout, web_hub, f"{ORG}/webapp:1")
    return ORG


def _owner(browsers) -> Browser:
    browser = browsers()
    sign_in_with_keyboard(browser, "alice")
    return browser


def test_create_a_robot_and_log_in_with_its_secret(browsers, web_hub, org, skopeo, tmp_path):
    browser = _owner(browsers)
    browser.open(f"/orgs/{org}")
    browser.navigate(browser.find(f"a[href='/orgs/{org}/robots']").click)
    browser.assert_accessible("robots")
    tab_to(browser, "robot-name")
    browser.driver.switch_to.active_element.send_keys("deployer")
    browser.find("#robot-repositories").send_keys("webapp")
    browser.find("#robot-action-push").click()
    browser.navigate(browser.find("form[action$='/robots'] button[type=submit]").click)
    secret = browser.wait_for("#new-robot-secret").text
    browser.assert_accessible("robot-created")
    login = ["login", "--tls-verify=false", "--authfile", str(tmp_path / "auth.json"),
             "-u", f"robot${org}+deployer", "-p", secret, web_hub.host]
    assert skopeo.run(*login, check=False).returncode == 0

    browser.open(f"/orgs/{org}/robots")
    assert secret not in browser.driver.page_source
    row = browser.find("table.robots tbody tr").text
    assert f"robot${org}+deployer" in row and "pull, push" in row
    browser.navigate(browser.find("button[aria-label='Revoke robot deployer']").click)
    assert "No robot accounts." in browser.find("table.robots").text
    assert skopeo.run(*login, check=False).returncode != 0


def test_create_a_webhook_and_read_its_delivery_log(browsers, web_hub, org, skopeo,
                                                    oci_layout):
    browser = _owner(browsers)
    browser.open(f"/orgs/{org}/webhooks")
    browser.assert_accessible("webhooks")
    browser.find("#webhook-url").send_keys("http://127.0.0.1:9/hook")
    browser.navigate(lambda: browser.find("#webhook-url").send_keys(Keys.ENTER))
    secret = browser.wait_for("#new-webhook-secret").text
    assert len(secret) >= 32
    browser.assert_accessible("webhook-created")

    push(skopeo, oci_layout, web_hub, f"{org}/webapp:2")
    browser.open(f"/orgs/{org}/webhooks")
    assert secret not in browser.driver.page_source
    browser.navigate(browser.find("a[aria-label^='Deliveries of webhook']").click)
    deadline = time.monotonic() + 30
    while "push" not in browser.find("table.deliveries tbody").text:
        assert time.monotonic() < deadline, "the push never reached the delivery log"
        time.sleep(0.2)
        browser.driver.refresh()
    browser.assert_accessible("webhook-deliveries")
    browser.navigate(browser.find("button[aria-label^='Redeliver delivery']").click)
    assert len(browser.find_all("button[aria-label^='Redeliver delivery']")) == 2

    browser.open(f"/orgs/{org}/webhooks")
    browser.navigate(browser.find("a[aria-label^='Delete webhook']").click)
    browser.assert_accessible("confirm-delete-webhook")
    browser.navigate(lambda: browser.find("button.danger").send_keys(Keys.ENTER))
    assert "No webhooks." in browser.find("table.webhooks").text


def test_immutable_tags_retention_quota_and_deleting_a_team(browsers, web_hub, org):
    browser = _owner(browsers)
    browser.open(f"/orgs/{org}/immutable-tags")
    browser.navigate(lambda: browser.find("#rule-pattern").send_keys("v*", Keys.ENTER))
    assert "v*" in browser.find("table.rules").text
    browser.assert_accessible("immutable-tags")

    browser.open(f"/orgs/{org}/retention")
    browser.find("#keep-newest").send_keys("5")
    browser.navigate(browser.find(f"form[action='/orgs/{org}/retention'] button").click)
    browser.assert_accessible("retention")
    browser.find("#dry-run-repository").send_keys("webapp")
    browser.navigate(lambda: browser.find("#dry-run-repository").send_keys(Keys.ENTER))
    assert "Nothing would go." in browser.text
    assert "dry run" in browser.find("table.runs").text
    browser.assert_accessible("retention-dry-run")

    browser.open(f"/orgs/{org}/quota")
    assert "Used" in browser.text
    browser.assert_accessible("quota")

    browser.open(f"/orgs/{org}")
    browser.navigate(browser.find("a[aria-label='Delete team crew']").click)
    browser.assert_accessible("confirm-delete-team")
    browser.navigate(lambda: browser.find("button.danger").send_keys(Keys.ENTER))
    assert browser.path == f"/orgs/{org}"
    assert "Team crew" not in browser.text
