"""The web demo (`liepaja-bot demo --web`): its page in headless Chromium end to end, and its
server's pieces (the safe HTML, the state it streams, its guard against other sites)."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer

from fake_telegram.actors import DEFAULT_PHOTO
from liepaja_bot.telegram_html import safe_html
from liepaja_bot.web import WebDemo, build_app
from tests.conftest import ADMIN_ID, Harness

WEB_DEMO = [sys.executable, "-m", "liepaja_bot", "--env-file", os.devnull, "demo", "--web"]
ENV = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE")}
WAIT = 30.0  # the longest any step may take in the browser, in seconds


# -- the safe HTML ------------------------------------------------------------------------------


def test_only_telegrams_tags_reach_the_page_and_everything_else_is_text() -> None:
    raw = (
        '<b>Bold</b> <i>it</i> <a href="https://liepaja.lv/x?a=1&amp;b=2">site</a> '
        '<a href="javascript:alert(1)">js</a> <tg-spoiler>secret</tg-spoiler> &lt;img src=x '
        'onerror=alert(1)&gt; <span class="tg-spoiler" onclick="x()">s</span>'
    )
    html = safe_html(raw, None, "HTML")
    assert html.startswith("<b>Bold</b> <i>it</i> ")
    assert '<a href="https://liepaja.lv/x?a=1&amp;b=2" rel="noopener noreferrer"' in html
    assert "javascript" not in html and " js " in html  # the link's text stays, not the link
    assert '<span class="spoiler">secret</span>' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "onclick" not in html
    # Not sent as HTML: plain text, escaped; tags left open are closed.
    assert safe_html("<b>x</b>", "<b>x</b>", None) == "&lt;b&gt;x&lt;/b&gt;"
    assert safe_html("<script>alert(1)</script><i>open", None, "HTML") == ("alert(1)<i>open</i>")


# -- the server, in-process ---------------------------------------------------------------------


@pytest.fixture
async def page(tg: Harness) -> Any:
    specialist = tg.fake.user("Inese", user_id=ADMIN_ID).in_chat(tg.staff_chat)
    demo = WebDemo(tg.fake, specialist)
    client = TestClient(TestServer(build_app(demo), host="127.0.0.1"))
    await client.start_server()
    try:
        yield demo, client
    finally:
        await client.close()


async def test_the_state_shows_messages_buttons_edits_and_photos(page: Any) -> None:
    _, client = page
    created = await client.post("/residents", json={"language": "ru"})
    assert (await created.json()) == {"pane": "r1"}
    state = await (await client.get("/state")).json()
    [resident] = [pane for pane in state["panes"] if pane["kind"] == "resident"]
    assert resident["title"] == "Olga (ru)" and resident["language"] == "ru"
    question = resident["messages"][-1]
    assert question["buttons"][0][0]["label"] == "✅ Русский"  # its language, pre-selected

    pressed = await client.post(
        "/chat/r1/press", json={"message": question["id"], "label": "✅ Русский"}
    )
    assert pressed.status == 200
    form = FormData()
    form.add_field("file", DEFAULT_PHOTO, filename="bench.png", content_type="image/png")
    sent = await client.post("/chat/r1/upload", data=form)
    assert sent.status == 200, await sent.text()
    state = await (await client.get("/state")).json()
    messages = state["panes"][1]["messages"]
    assert messages[1]["key"] == question["key"] and messages[1]["edited"]  # edited in place
    assert messages[1]["html"] == "Язык: Русский" and messages[1]["buttons"] == []
    [photo] = [m for m in messages if m.get("file")]
    image = await client.get(photo["file"]["url"])
    assert image.content_type == "image/png" and await image.read() == DEFAULT_PHOTO


async def test_another_site_cannot_act_and_a_gone_button_is_said_so(page: Any) -> None:
    _, client = page
    await client.post("/residents", json={"language": "lv"})
    forged = await client.post(
        "/chat/r1/send", json={"text": "hi"}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status == 403
    gone = await client.post("/chat/r1/press", json={"message": 999, "label": "x"})
    assert gone.status == 409 and "no longer there" in (await gone.json())["error"]
    assert (await client.post("/chat/nobody/send", json={"text": "x"})).status == 404


# -- the page in headless Chromium --------------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip(
            "needs Chromium and its driver: apt-get install chromium chromium-driver "
            "(.ci/run installs them)"
        )
    try:
        from selenium import webdriver
    except ImportError:
        pytest.skip("needs selenium (the dev dependencies: pip install -e '.[dev]')")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
        options.add_argument(argument)
    # The driver is given: Selenium Manager would otherwise look for one on the internet.
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def web_demo(tmp_path: Path) -> Iterator[str]:
    """`liepaja-bot demo --web` on a free port; its URL. Ctrl-C ends it, cleanly."""
    process = subprocess.Popen(
        [*WEB_DEMO, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=60), "the web demo printed no URL within 60 s"
        first = process.stdout.readline().decode()
        assert first.startswith("The web demo is at http://127.0.0.1:"), first
        yield first.split(" at ", 1)[1].split()[0]
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr, stderr.decode()
    finally:
        if process.returncode is None:
            process.kill()
            process.wait()


class Page:
    """The page as a person uses it: clicks and typing, with bounded waits (no sleeps)."""

    def __init__(self, driver: Any) -> None:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.by = By
        self.wait = WebDriverWait(driver, WAIT, ignored_exceptions=[StaleElementReferenceException])

    def until(self, condition: Callable[[Any], Any], what: str | Callable[[], str]) -> Any:
        from selenium.common.exceptions import TimeoutException

        try:
            return self.wait.until(condition)
        except TimeoutException:
            said = what() if callable(what) else what
            raise AssertionError(f"not within {WAIT} s: {said}") from None

    def messages(self, pane: str) -> list[str]:
        return [
            el.text for el in self.driver.find_elements(self.by.CSS_SELECTOR, f"#chat-{pane} .msg")
        ]

    def shows(self, pane: str, text: str) -> Any:
        """Waits until a message in the pane shows ``text``; returns the newest such message."""

        def found(driver: Any) -> Any:
            # Its own text, not a quote of it in a reply.
            return driver.execute_script(
                "return [...document.querySelectorAll(`#chat-${arguments[0]} .msg`)]"
                ".filter(m => [...m.querySelectorAll('.text, .attachment, .place')]"
                ".some(t => t.textContent.includes(arguments[1]))).pop() || null",
                pane,
                text,
            )

        return self.until(found, lambda: f"{text!r} in chat {pane}; it shows {self.messages(pane)}")

    def click(self, pane: str, label: str, *, where: str = ".msg") -> None:
        """Clicks the newest button in the pane labelled ``label`` (once there is one)."""

        def clicked(driver: Any) -> bool:
            buttons = [
                el
                for el in driver.find_elements(self.by.CSS_SELECTOR, f"#chat-{pane} {where} button")
                if el.text == label and el.is_displayed()
            ]
            if not buttons:
                return False
            buttons[-1].click()
            return True

        self.until(clicked, f"a button {label!r} in chat {pane}")

    def type(self, pane: str, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        box = self.driver.find_element(self.by.CSS_SELECTOR, f"#chat-{pane} input[type=text]")
        box.send_keys(text + Keys.ENTER)
        self.until(lambda driver: box.get_attribute("value") == "", f"{text!r} sent")


def test_a_resident_proposes_with_a_photo_and_a_specialist_answers_in_the_page(
    browser: Any, web_demo: str, tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import Select

    page = Page(browser)
    by = page.by
    browser.get(web_demo)
    page.shows("r1", "Lūdzu, izvēlieties valodu")  # Rasma is there from the start

    # A second resident, whose Telegram is in Latvian, in a tab of their own.
    Select(browser.find_element(by.ID, "new-language")).select_by_value("lv")
    browser.find_element(by.ID, "add-resident").click()
    tab = page.until(
        lambda driver: driver.find_element(by.CSS_SELECTOR, "#tab-r2[aria-selected=true]"),
        "the new resident's tab, selected",
    )
    assert tab.text == "Jānis (lv)"
    assert not browser.find_element(by.ID, "chat-r1").is_displayed()
    key = page.shows("r2", "Lūdzu, izvēlieties valodu").get_attribute("data-key")
    page.click("r2", "✅ Latviešu")
    page.until(
        lambda driver: (
            "Valoda: Latviešu"
            in driver.find_element(by.CSS_SELECTOR, f'#chat-r2 [data-key="{key}"]').text
        ),
        "the question, edited in place",
    )

    page.click("r2", "📝 Iesniegt priekšlikumu")
    page.click("r2", "Mobilitāte")
    page.type("r2", "Lūdzu, izveidojiet drošu veloceliņu gar Graudu ielu līdz jūrai.")
    page.shows("r2", "Saglabāts.")
    photo = tmp_path / "bench.png"
    photo.write_bytes(DEFAULT_PHOTO)
    browser.find_element(by.CSS_SELECTOR, "#chat-r2 input[type=file]").send_keys(str(photo))
    page.shows("r2", "Pievienots 1 pielikums")
    page.click("r2", "➡️ Turpināt")
    page.click("r2", "Izlaist", where=".keys")  # the reply keyboard: no contact details
    page.click("r2", "✅ Iesniegt")
    reference = page.shows("r2", "reģistrēts ar numuru LIEP-").text.split("numuru ", 1)[1][:14]

    # The staff chat, beside it: the card and the resident's photo.
    card = page.shows("staff", f"🆕 {reference}")
    page.until(
        lambda driver: driver.execute_script(
            "return [...document.querySelectorAll('#chat-staff img.photo')]"
            ".some(img => img.complete && img.naturalWidth === 4)"
        ),
        "the photo, downloaded from the page",
    )
    card.find_element(by.CSS_SELECTOR, ".reply-to").click()
    page.type("staff", "Paldies! Nodots Mobilitātes darba grupai.")
    page.shows("staff", f"Atbilde uz {reference} nosūtīta")

    page.click("staff", "🔄 Statuss")
    page.click("staff", "Izskatīšanā")
    page.until(
        lambda driver: (
            "Statuss: Izskatīšanā"
            in driver.find_element(by.CSS_SELECTOR, "#chat-staff .notice").text
        ),
        "the press's notice",
    )
    page.shows("staff", f"{reference} · Mobilitāte\nStatuss: Izskatīšanā")  # the card, edited

    # Back to the resident: the answer arrived there.
    browser.find_element(by.ID, "tab-r2").click()
    page.shows("r2", "Paldies! Nodots Mobilitātes darba grupai.")
    page.shows("r2", "Izskatīšanā")

    # A resident whose Telegram is in Russian gets Russian pre-selected.
    Select(browser.find_element(by.ID, "new-language")).select_by_value("ru")
    browser.find_element(by.ID, "add-resident").click()
    page.click("r3", "✅ Русский")
    page.shows("r3", "Язык: Русский")
