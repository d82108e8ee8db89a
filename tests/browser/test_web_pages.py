"""A person at a browser: searches, opens a repository and a tag, sees its layers and its
signature, browses its files, copies a pull line, signs in with the keyboard, makes and revokes
an access token, hides a repository, deletes a tag, creates an organization and a team, and
visits the admin pages.

Every page visited is audited with axe-core (no serious or critical violation) and kept as a
screenshot.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import PASSWORD
from tests.support.browser import Browser

pytestmark = pytest.mark.slow


def tab_to(browser: Browser, element_id: str, limit: int = 40) -> None:
    """Press Tab until the element has the focus, as a keyboard user would."""
    for _ in range(limit):
        focused = browser.driver.switch_to.active_element
        if focused.get_attribute("id") == element_id:
            return
        focused.send_keys(Keys.TAB)
    raise AssertionError(f"#{element_id} never got the keyboard focus")


def sign_in_with_keyboard(browser: Browser, user: str) -> None:
    browser.open("/login")
    tab_to(browser, "username")
    browser.driver.switch_to.active_element.send_keys(user, Keys.TAB, PASSWORD, Keys.ENTER)
    browser.wait_for("form[action='/logout']")


def test_search_open_repository_copy_pull_line_and_see_layers(browsers, web_hub):
    browser = browsers()
    browser.open("/")
    browser.assert_accessible("explore")
    box = browser.find("#top-q")
    # The explore page lists the repository too: wait for the results page to replace it.
    browser.navigate(lambda: box.send_keys("webapp", Keys.ENTER))
    assert "q=webapp" in browser.path
    browser.wait_for("a[href='/r/alice/webapp']").click()
    browser.wait_for("#tags-heading")
    assert browser.path == "/r/alice/webapp"
    browser.assert_accessible("repository")
    assert "A test image." in browser.text

    browser.driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": web_hub.url,
        "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
    })
    signed = {
        row.text.split()[0]: row.find_element("css selector", "td.signed").text
        for row in browser.find_all("table.tags tbody tr")
    }
    assert signed == {"1.0": "Signed", "2.0": "No"}
    row = next(r for r in browser.find_all("table.tags tbody tr") if "1.0" in r.text)
    line = row.find_element("css selector", "code[id^='pull-']").text
    assert line == f"docker pull {web_hub.host}/alice/webapp:1.0"
    button = row.find_element("css selector", "button[data-copy]")
    button.click()
    WebDriverWait(browser.driver, 10).until(lambda _: button.text != "Copy")
    assert button.text == "Copied"
    copied = browser.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('error: ' + e));"
    )
    assert copied == line

    row.find_element("css selector", "a[href='/r/alice/webapp/-/tags/1.0']").click()
    browser.wait_for("#layers-heading")
    browser.assert_accessible("tag")
    layers = browser.find_all("table.layers tbody tr")
    assert len(layers) == 3
    assert "berth-test: busybox-static and applet links" in layers[0].text
    assert "berth-test: data files for linux/amd64" in layers[2].text
    assert "linux/amd64" in browser.text and "PATH=" in browser.text
    signature = browser.find("dl.signature").text
    assert f"{web_hub.host}/alice/webapp" in signature and "targets" in signature
    assert "Timestamp expires" in signature

    browser.find("#browse-files").click()
    browser.wait_for("table.files")
    browser.assert_accessible("files")
    browser.navigate(browser.find("a[href$='path=/etc']").click)
    names = [row.text.split()[0] for row in browser.find_all("table.files tbody tr")]
    assert names == ["berth-platform", "berth-release", "group", "passwd"]
    passwd = next(r for r in browser.find_all("table.files tbody tr") if "passwd" in r.text)
    assert "2 added" in passwd.text  # the /etc layer brought it


def test_not_found_page_is_accessible(browsers):
    browser = browsers()
    browser.open("/r/alice/nothing-here")
    assert browser.find("h1").text == "Not found"
    browser.assert_accessible("not-found")


def test_sign_in_by_keyboard_create_and_revoke_a_token(browsers, web_hub, skopeo, tmp_path):
    browser = browsers()
    browser.open("/login")
    browser.assert_accessible("sign-in")
    sign_in_with_keyboard(browser, "alice")
    assert "Sign out alice" in browser.text
    browser.open("/account/repositories")
    assert "alice/webapp" in browser.text
    browser.assert_accessible("my-repositories")

    browser.open("/account/tokens")
    browser.assert_accessible("tokens")
    tab_to(browser, "token-name")
    browser.driver.switch_to.active_element.send_keys("ci-laptop", Keys.ENTER)
    secret = browser.wait_for("#new-token").text
    browser.assert_accessible("token-created")
    login = ["login", "--tls-verify=false", "--authfile", str(tmp_path / "auth.json"),
             "-u", "alice", "-p", secret, web_hub.host]
    assert skopeo.run(*login, check=False).returncode == 0

    browser.open("/account/tokens")
    assert secret not in browser.driver.page_source
    browser.navigate(browser.find("button[aria-label='Revoke token ci-laptop']").click)
    assert "revoked" in browser.find("table.tokens").text
    result = skopeo.run(*login, check=False)
    assert result.returncode != 0


def test_make_a_repository_private(browsers):
    owner = browsers()
    sign_in_with_keyboard(owner, "alice")
    owner.open("/r/alice/secret/-/settings")
    owner.assert_accessible("settings")
    owner.find("#vis-private").click()
    owner.navigate(owner.find("form[action$='/settings/visibility'] button").click)
    assert owner.find("#vis-private").is_selected()
    owner.open("/r/alice/secret")
    assert owner.find("#visibility").text == "Private"

    anonymous, other = browsers(), browsers()
    sign_in_with_keyboard(other, "bob")
    for browser in (anonymous, other):
        browser.open("/r/alice/secret")
        assert browser.find("h1").text == "Not found"
        hidden = browser.find("main").text
        browser.open("/r/alice/never-pushed")
        assert browser.find("main").text == hidden
        browser.open("/?q=secret")
        assert "alice/secret" not in browser.find("main").text
        assert "0 repositories" in browser.text


def test_delete_a_tag_after_confirming(browsers, web_hub, skopeo):
    browser = browsers()
    sign_in_with_keyboard(browser, "alice")
    browser.open("/r/alice/webapp/-/tags/2.0")
    browser.find("a[href='/r/alice/webapp/-/tags/2.0/delete']").click()
    browser.wait_for("button.danger")
    browser.assert_accessible("confirm-delete-tag")
    browser.find("button.danger").send_keys(Keys.ENTER)  # the keyboard confirms
    browser.wait_for("#tags-heading")
    assert browser.path == "/r/alice/webapp"
    tags = [row.text.split()[0] for row in browser.find_all("table.tags tbody tr")]
    assert tags == ["1.0"]
    assert skopeo.list_tags(f"docker://{web_hub.host}/alice/webapp") == ["1.0"]


def test_create_an_organisation_and_a_team(browsers):
    browser = browsers()
    sign_in_with_keyboard(browser, "alice")
    browser.open("/orgs")
    browser.assert_accessible("organisations")
    browser.find("#org-name").send_keys("acme", Keys.ENTER)
    browser.wait_for("#new-team-heading")
    assert browser.path == "/orgs/acme"
    browser.navigate(lambda: browser.find("#team-name").send_keys("devs", Keys.ENTER))
    browser.navigate(lambda: browser.find("#member-devs").send_keys("bob", Keys.ENTER))
    assert "bob" in browser.find("section.team ul.members").text
    browser.assert_accessible("organisation")


def test_admin_pages(browsers):
    from tests.browser.conftest import ADMIN_PASSWORD

    browser = browsers()
    browser.open("/login")
    tab_to(browser, "username")
    browser.driver.switch_to.active_element.send_keys("admin", Keys.TAB, ADMIN_PASSWORD, Keys.ENTER)
    browser.wait_for("form[action='/logout']")
    for path, name in (("/admin/users", "admin-users"), ("/admin/health", "admin-health"),
                       ("/admin/audit", "admin-audit")):
        browser.open(path)
        browser.assert_accessible(name)
    assert "user-add" in browser.text
    browser.open("/admin/gc")
    browser.find("form[action='/admin/gc'] button").click()  # the dry run
    browser.wait_for("#gc-report")
    assert "Would remove (dry run)" in browser.text
    browser.assert_accessible("admin-gc")
