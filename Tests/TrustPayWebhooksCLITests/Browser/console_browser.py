"""Drives the operator console in headless Chromium, as an operator would.

Run by ConsoleBrowserTests (Swift), which starts `serve`, posts callbacks with
`send` and passes what to look for. Prints one line per step; exits 0 when
every check held, 1 with the failing step otherwise. Every wait is explicit
and bounded: nothing here sleeps for a fixed time.
"""

import argparse
import os
import sys
import traceback

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 15


def parse():
    parser = argparse.ArgumentParser()
    parser.add_argument("--start-url", required=True, help="the URL serve logged, with its token")
    parser.add_argument("--screenshots", required=True, help="folder for one PNG per page")
    parser.add_argument("--orders", required=True, help="comma-separated order numbers send posted")
    parser.add_argument("--dead-order", required=True, help="the order whose handler fails until --fix exists")
    parser.add_argument("--second-dead-order", required=True, help="another failing order, retried from the list")
    parser.add_argument("--hostile-order", required=True, help="the order whose body holds <script>")
    parser.add_argument("--hostile-text", required=True, help="the hostile text, to be shown verbatim")
    parser.add_argument("--conflict-order", required=True,
                        help="an order posted twice with different signed content (--hostile-text added)")
    parser.add_argument("--fix", required=True, help="the file whose existence makes the handler succeed")
    return parser.parse_args()


def browser():
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,900", "--disable-extensions", "--no-first-run"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    driver.set_script_timeout(WAIT_SECONDS)
    return driver


class Console:
    def __init__(self, driver, args):
        self.driver = driver
        self.args = args
        self.base = args.start_url.split("/console/")[0]

    def step(self, text):
        print("step: " + text, flush=True)

    def wait(self, what, condition):
        # The page redraws itself every few seconds: an element found just
        # before a redraw is gone after it, so such a look is simply retried.
        return WebDriverWait(self.driver, WAIT_SECONDS, poll_frequency=0.1,
                             ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
            lambda d: condition(d), message="waited %ss for %s" % (WAIT_SECONDS, what))

    def text(self, selector):
        """The text of the first element matching `selector`, read in one step."""
        return self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", selector)

    def click(self, selector):
        """Clicks the first match in one step, so no redraw can come between finding and clicking."""
        assert self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); if (e) e.click(); return !!e;", selector), selector

    def loaded(self):
        """Waits for the page's script to have drawn from the API at least once."""
        self.wait("the page to load its data",
                  lambda d: int(d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") or 0) >= 1)

    def click_row(self, order, selector):
        """Clicks `selector` in the table row of `order`, in one step."""
        assert self.driver.execute_script(
            "const row = [...document.querySelectorAll('#events-table tbody tr')]"
            ".find((r) => r.querySelector('.order-no').textContent === arguments[0]);"
            "const e = row && row.querySelector(arguments[1]); if (e) e.click(); return !!e;", order, selector), order

    def row_orders(self):
        return self.driver.execute_script(
            "return [...document.querySelectorAll('#events-table .order-no')].map((e) => e.textContent);")

    def shot(self, name):
        path = os.path.join(self.args.screenshots, name + ".png")
        self.driver.save_screenshot(path)
        print("screenshot: " + path, flush=True)

    def open_start_url(self):
        self.step("open the logged start URL")
        self.driver.get(self.args.start_url)
        self.wait("the redirect that drops the token", lambda d: "token=" not in d.current_url)
        self.loaded()
        assert self.driver.find_element(By.TAG_NAME, "body").get_attribute("data-page") == "overview"
        self.wait("both dead letters counted on the overview",
                  lambda d: self.text('[data-state="dead"]') == "2")
        assert self.text("#store-health") == "available"
        cookies = self.driver.get_cookies()
        assert any(c["name"] == "trustpay_console" and c["httpOnly"] and c.get("sameSite") == "Strict"
                   for c in cookies), cookies
        assert self.driver.execute_script("return document.cookie") == "", "the session cookie is HttpOnly"
        self.shot("overview")

    def see_events(self):
        self.step("see the events send posted")
        self.driver.get(self.base + "/console/events")
        self.loaded()
        expected = set(self.args.orders.split(","))
        self.wait("every posted order in the table", lambda d: expected <= set(self.row_orders()))
        self.shot("events")

    def filter_by_order(self):
        self.step("filter by order number")
        field = self.driver.find_element(By.CSS_SELECTOR, 'form.filters input[name="order_no"]')
        field.clear()
        field.send_keys(self.args.dead_order)
        self.driver.find_element(By.ID, "apply").click()
        self.wait("the filtered address", lambda d: "order_no=" in d.current_url)
        self.loaded()
        self.wait("only the filtered order", lambda d: self.row_orders() == [self.args.dead_order])
        self.shot("events-filtered")

    def hostile_body_is_text(self):
        self.step("open the event whose body holds <script>")
        self.driver.get(self.base + "/console/events?order_no=" + self.args.hostile_order)
        self.loaded()
        self.wait("the hostile event's row", lambda d: self.row_orders() == [self.args.hostile_order])
        self.click("#events-table tbody a")
        self.wait("the event page", lambda d: "/console/event?id=" in d.current_url)
        self.loaded()
        body = self.wait("the body", lambda d: self.text("#body"))
        assert self.args.hostile_text in body, "shown verbatim: %r" % body
        assert self.driver.find_elements(By.CSS_SELECTOR, "#body *") == [], "no element made from the body"
        assert self.driver.find_elements(By.CSS_SELECTOR, "main script, main img") == []
        assert self.driver.execute_script("return window.pwned === undefined"), "the body's script ran"
        self.shot("event")

    def conflicting_copy_is_text(self):
        self.step("see a conflict's other copy, its hostile field shown as text")
        self.driver.get(self.base + "/console/events?order_no=" + self.args.conflict_order)
        self.loaded()
        self.wait("the conflicted event's row", lambda d: self.row_orders() == [self.args.conflict_order])
        self.click("#events-table tbody a")
        self.wait("the event page", lambda d: "/console/event?id=" in d.current_url)
        self.loaded()
        self.wait("the kept copy", lambda d: self.text("#copy-1 .signature") == "verified")
        rows = self.driver.execute_script(
            "return [...document.querySelectorAll('#copy-1 table.differences tbody tr')]"
            ".map((r) => [...r.cells].map((c) => c.textContent));")
        assert rows == [["remark", "(absent)", '"%s"' % self.args.hostile_text]], rows
        copy_body = self.text("#copy-1 pre.copy-body")
        assert self.args.hostile_text in copy_body, "the copy's body is shown: %r" % copy_body
        assert '"order_amount": 20.00' in copy_body, "numbers as transmitted: %r" % copy_body
        assert self.driver.find_elements(By.CSS_SELECTOR, "#copy-1 td *, #copy-1 pre *") == [], \
            "no element made from the copy"
        assert self.driver.execute_script("return window.pwned === undefined"), "the copy's script ran"
        self.driver.execute_script("document.querySelector('#copy-1').scrollIntoView()")
        self.shot("event-conflict")

    def replay_dead_letter(self):
        self.step("replay the dead letter once the handler is fixed")
        self.driver.get(self.base + "/console/dead-letters")
        self.loaded()
        both = {self.args.dead_order, self.args.second_dead_order}
        self.wait("both dead letters", lambda d: set(self.row_orders()) == both)
        self.shot("dead-letters")
        self.click_row(self.args.dead_order, "a")
        self.wait("the event page", lambda d: "/console/event?id=" in d.current_url)
        self.loaded()
        self.wait("its state: dead", lambda d: self.text("#field-state") == "dead")
        open(self.args.fix, "w").close()
        self.driver.find_element(By.ID, "replay").click()
        # The page polls: the state changes without a reload.
        self.wait("its state: completed", lambda d: self.text("#field-state") == "completed")
        # The failed attempt with its error, then the success after the fix.
        attempts = self.wait("both attempts in the table", lambda d: (lambda rows: rows if len(rows) == 2 else None)(
            d.execute_script("return [...document.querySelectorAll('#attempts-table tbody tr')]"
                             ".map((r) => [...r.cells].map((c) => c.textContent));")))
        assert [row[1] for row in attempts] == ["failed", "handled"], attempts
        assert attempts[0][4].startswith("handler threw: ") and attempts[1][4] == "", attempts
        assert all(row[2] and row[3] for row in attempts), "every attempt has its times: %r" % attempts
        self.shot("event-replayed")

    def retry_selected(self):
        self.step("retry the other dead letter with its checkbox")
        self.driver.get(self.base + "/console/dead-letters")
        self.loaded()
        self.wait("the one dead letter left", lambda d: self.row_orders() == [self.args.second_dead_order])
        self.click_row(self.args.second_dead_order, "input.pick")
        self.driver.find_element(By.ID, "retry-selected").click()
        self.wait("the retry's answer", lambda d: self.text("#message") == "Replayed 1 dead letter(s).")
        self.wait("an empty list", lambda d: self.row_orders() == [])
        self.shot("dead-letters-retried")


def main():
    args = parse()
    os.makedirs(args.screenshots, exist_ok=True)
    stale = os.path.join(args.screenshots, "failure.png")
    if os.path.exists(stale):
        os.remove(stale)
    driver = browser()
    console = Console(driver, args)
    try:
        console.open_start_url()
        console.see_events()
        console.filter_by_order()
        console.hostile_body_is_text()
        console.conflicting_copy_is_text()
        console.replay_dead_letter()
        console.retry_selected()
    except Exception:
        traceback.print_exc()
        console.shot("failure")
        print("page at failure: " + driver.current_url, flush=True)
        return 1
    finally:
        driver.quit()
    print("all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
