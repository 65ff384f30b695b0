"""The HTML explorer: driven in a real headless Chromium, escaping, and missing run files."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

import matcher
from matcher import RunFolderError
from matcher.batch import run_batch
from matcher.report import write_html_report

from .conftest import description, profile, write_corpus

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
REPO = Path(__file__).resolve().parents[1]
# Set MATCHER_SCREENSHOT=docs/aero-montreal.png to refresh the README's screenshot (uses the real model).
SCREENSHOT = os.environ.get("MATCHER_SCREENSHOT")


def _browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("Debian's chromium and chromium-driver are needed (make test installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,1000"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


@pytest.fixture(scope="module")
def browser():
    driver = _browser()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    backend = "sentence-transformers" if SCREENSHOT else "tfidf"
    run_batch(out, backend=backend, html=True, evaluation=REPO / "evaluation" / "report")
    return out / "report.html"


def _wait_ready(driver, timeout: float = 10.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if driver.execute_script("return document.body && document.body.getAttribute('data-ready')") == "1":
            return time.perf_counter() - start
        time.sleep(0.05)
    raise AssertionError("the report never became ready")


def test_report_is_self_contained_and_small(report_file):
    html = report_file.read_text(encoding="utf-8")
    # The bundled corpus's page is about 5.6 MB (profiles' sentences and 4,700 explained pairs); a
    # page carrying vectors or an unescaped copy of the data would be several times larger.
    assert report_file.stat().st_size < 6 * 2**20
    for needle in ("http://cdn", "https://cdn", "<link ", "src=\"http", "@import"):
        assert needle not in html


def test_search_filter_follow_link_in_chromium(browser, report_file, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(report_file.as_uri())
    _wait_ready(browser)
    ready_ms = browser.execute_script("return performance.now()")
    print(f"report interactive after {ready_ms:.0f} ms")
    assert ready_ms < 2000

    from selenium.webdriver.common.keys import Keys

    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Skip to content"  # keyboard users can skip the sidebar

    box = browser.find_element(By.ID, "q")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=q]").text.startswith("Search clusters")
    box.send_keys("aero montreal")
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#results a")]
    assert "Aéro Montréal" in names and len(names) < 5

    box.clear()
    box.send_keys("aerospace")
    Select(browser.find_element(By.ID, "f-country")).select_by_value("CA")
    badges = {b.text for b in browser.find_elements(By.CSS_SELECTOR, "#results .badge")}
    assert badges == {"CA"}
    assert f"of {len(matcher.load_corpus().profiles)} clusters" in browser.find_element(By.ID, "count").text

    browser.find_element(By.CSS_SELECTOR, "#results li[data-id='aero-montreal'] a").click()
    section = browser.find_element(By.ID, "aero-montreal")
    assert section.is_displayed()
    assert browser.find_element(By.ID, "aero-montreal-h").text == "Aéro Montréal"
    partners = section.find_elements(By.CSS_SELECTOR, "li.partner")
    assert len(partners) == 10
    known = [p.get_attribute("data-candidate") for p in partners if p.find_elements(By.CSS_SELECTOR, ".known")]
    from matcher.gold import load_gold_files

    documented = {g.eu_id for g in load_gold_files(None, matcher.load_corpus()) if g.ca_id == "aero-montreal"}
    assert {"aerospace-valley", "skywin", "aviation-valley", "gifas"} <= documented
    assert set(known) <= documented and known
    bar = partners[0].find_element(By.CSS_SELECTOR, ".bar")
    assert bar.get_attribute("aria-label").startswith("score ")
    partners[0].find_element(By.TAG_NAME, "summary").click()
    assert partners[0].find_elements(By.CSS_SELECTOR, ".ev mark")

    first = partners[0].get_attribute("data-candidate")
    browser.save_screenshot(str(tmp_path / "aero-montreal.png"))
    if SCREENSHOT:
        _save_small_png(tmp_path / "aero-montreal.png", REPO / SCREENSHOT)
    partners[0].find_element(By.CSS_SELECTOR, "h4 a").click()
    assert browser.execute_script("return location.hash") == f"#{first}"
    other = browser.find_element(By.ID, first)
    assert other.is_displayed()
    assert "Proposed to" in other.text and "Aéro Montréal" in other.text
    assert browser.find_element(By.ID, "evaluation").is_displayed()


def _save_small_png(src: Path, dest: Path) -> None:
    from PIL import Image

    dest.parent.mkdir(parents=True, exist_ok=True)
    Image.open(src).convert("RGB").quantize(colors=96).save(dest, optimize=True)
    assert dest.stat().st_size < 300 * 1024


def test_header_names_the_corpus(browser, report_file):
    from selenium.webdriver.common.by import By

    browser.get(report_file.as_uri())
    _wait_ready(browser)
    text = browser.find_element(By.ID, "run-info").text
    assert text.startswith("Backend tfidf (tfidf-lsa-words:128:") and "[object Object]" not in text
    corpus = matcher.load_corpus()
    from matcher.weights import load_weights

    default = load_weights(None).name
    assert text.endswith(f") · corpus corpus ({len(corpus.eu)} European and {len(corpus.ca)} Canadian profiles) · top 10 · weights {default}")


def test_overview_tables_are_compact(browser, report_file):
    """Every row of the overview's tables is about one line high, whatever the other table's length
    (the heat map's header row excepted: its column labels wrap)."""
    browser.get(report_file.as_uri() + "#overview")
    _wait_ready(browser)
    rows = browser.execute_script(
        """return [...document.querySelectorAll('#overview-body table')].map((t) => [...t.rows].map((r) => {
             const cell = r.cells[r.cells.length - 1];
             return [r.getBoundingClientRect().height, parseFloat(getComputedStyle(cell).fontSize)];
           }));"""
    )
    assert len(rows) == 3 and all(len(t) >= 8 for t in rows)
    rows[2] = rows[2][1:]
    for table in rows:
        for height, font in table:
            assert height <= 2.5 * font, (height, font)


EVIL = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">"


def test_profile_text_is_escaped(tmp_path, browser):
    from selenium.webdriver.common.by import By

    evil = EVIL
    folder = write_corpus(
        tmp_path / "c<b>old</b>",
        [
            profile(
                "eu-evil", "eu", "FR", ["automotive"], "electric vehicles",
                description=description("electric vehicles") + " " + evil,
                name="Evil " + evil, aliases=["Alias " + evil], keywords=["kw " + evil], city="City " + evil, region="Region " + evil,
                website="https://example.org/<script>window.__pwned=3</script>", sources=["https://example.org/\"><img src=x onerror=window.__pwned=4>"],
            ),
            profile("ca-auto", "ca", None, ["automotive"], "electric vehicles and batteries"),
        ],
    )
    run_batch(tmp_path / "run", corpus=folder, backend="tfidf", html=True, k=1)
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "<script>window" not in html and "<img src=x" not in html and "<b>old</b>" not in html
    browser.get((tmp_path / "run" / "report.html").as_uri() + "#eu-evil")
    _wait_ready(browser)
    assert browser.execute_script("return window.__pwned === undefined")
    assert evil in browser.find_element(By.CSS_SELECTOR, "#eu-evil .desc").text
    assert browser.find_element(By.ID, "eu-evil-h").text == "Evil " + evil
    card = browser.find_element(By.CSS_SELECTOR, "#eu-evil .card").text
    assert "Alias " + evil in card and "City " + evil in card and "Region " + evil in card
    assert f"corpus {folder} (1 European and 1 Canadian profiles)" in browser.find_element(By.ID, "run-info").text
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 2
    assert browser.find_elements(By.CSS_SELECTOR, "img") == []
    box = browser.find_element(By.ID, "q")
    box.send_keys("kw <script>")
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#results a")] == ["Evil " + evil]
    assert browser.execute_script("return window.__pwned === undefined")


def test_missing_run_file_names_it_and_the_command(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "details.json").write_text("{}")
    with pytest.raises(RunFolderError, match=r"lacks eu_to_ca.csv, which the report needs; make it with `matcher rank --out"):
        write_html_report(tmp_path / "run")
