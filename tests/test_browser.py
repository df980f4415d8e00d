"""The paste-and-score page in a real headless Chromium (Debian's /usr/bin/chromium), against the real server.

CI installs Chromium (.ci/run) and sets OVERCLAIM_REQUIRE_BROWSER=1, so there a missing browser fails instead of
skipping. OVERCLAIM_SCREENSHOT=path also saves the screenshot there (``make screenshot`` refreshes the README's).
"""
import os
from pathlib import Path

import pytest

from overclaim.features import CUE_DESCRIPTIONS
from overclaim.policy import decide
from overclaim.reasons import REASONS
from overclaim.scorer import MAX_CHARS

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# As root, in a sandbox with no network: no sandboxing and no background connections to Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]

if not Path(CHROMIUM).exists() and not os.environ.get("OVERCLAIM_REQUIRE_BROWSER"):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


def seed_paragraph() -> str:
    """A paragraph of the third seed article: six sentences, several of them overclaims."""
    seed = sorted((ROOT / "data" / "raw").glob("002_*.txt"))[0]
    return [p for p in seed.read_text(encoding="utf-8").splitlines() if len(p) > 200][1]


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(server.url + "/")
    page.wait_for_function("() => document.getElementById('review-value').textContent !== '–'")  # thresholds loaded
    yield page
    context.close()


def score(page, text):
    page.get_by_label("Text to score").fill(text)
    page.get_by_role("button", name="Score", exact=True).click()
    page.wait_for_selector("#overall-decision")


def test_a_pasted_seed_paragraph_is_scored_highlighted_and_explained(page, scorer, tmp_path):
    text = seed_paragraph()
    expected = scorer.score(text)
    cuts = scorer.thresholds
    score(page, text)

    assert page.locator("#overall-decision").inner_text().lower() == expected.decision
    sentences = page.locator("#rendered .sentence")
    assert sentences.count() == len(expected.sentences)
    decisions = [sentences.nth(i).get_attribute("data-decision") for i in range(sentences.count())]
    assert decisions == [decide(s["risk"], cuts) for s in expected.sentences]
    assert "block" in decisions and "allow" in decisions
    # Colour is not the only cue: a flagged sentence carries a badge and its decision in words.
    flagged = page.locator("#rendered .sentence.block").first
    assert flagged.locator(".badge").inner_text() == "!"
    assert "(block, risk" in flagged.inner_text()

    index = decisions.index("block")
    sentences.nth(index).click()
    detail = page.locator("#detail")
    assert detail.is_visible()
    want = expected.sentences[index]
    assert page.locator("#detail-text").inner_text() == want["text"]
    words = {r.name: f"{r.moderator} ({r.code})" for r in REASONS}
    assert page.locator("#detail-reasons .reason").all_inner_texts() == [words[r] for r in want["reasons"]]
    assert page.locator("#detail-citation").inner_text() == want["citation"]
    assert page.locator("#detail-hedging").inner_text() == f"{want['hedging']:.3f}"
    assert page.locator("#detail-probabilities td").nth(2).inner_text() == f"{want['probabilities']['overclaim']:.3f}"
    assert page.locator("#detail-terms li").count() == len(want["terms"])

    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    if os.environ.get("OVERCLAIM_SCREENSHOT"):
        page.screenshot(path=os.environ["OVERCLAIM_SCREENSHOT"], full_page=True)
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_thresholds_re_decide_in_the_page_without_scoring_again(page, scorer):
    text = seed_paragraph()
    score(page, text)
    posts = sum(url.endswith("/v1/score") for url in page.requests)
    block = page.get_by_label("Block at risk")
    block.focus()
    block.press("End")  # block at 1.00: nothing is blocked any more
    assert page.locator("#block-value").inner_text() == "1.00"
    assert page.get_by_label("Review at risk").input_value() == str(scorer.thresholds["review"])
    assert page.locator("#rendered .sentence.block").count() == 0
    assert page.locator("#overall-decision").inner_text().lower() == "review"
    page.get_by_role("button", name="Model defaults").click()
    assert page.locator("#overall-decision").inner_text().lower() == scorer.score(text).decision
    assert sum(url.endswith("/v1/score") for url in page.requests) == posts


def test_sliders_start_at_the_model_thresholds_and_terms_read_in_words(page, scorer):
    """Regression: the sliders started at 0.23/0.68 written in the page, and terms showed as cue:cite:vague or ~ds."""
    for name, key in (("Review at risk", "review"), ("Block at risk", "block")):
        assert page.get_by_label(name).input_value() == str(scorer.thresholds[key])
    assert page.locator("#max-chars").inner_text() == f"{MAX_CHARS:,}"
    text = "Studies show our supplement cures arthritis with no side effects."
    score(page, text)
    page.locator("#rendered .sentence").first.click()
    terms = page.locator("#detail-terms li").all_inner_texts()
    raw = [term for term, _ in scorer.score(text).sentences[0]["terms"]]
    assert len(terms) == len(raw) and not any(t.startswith(("cue:", "~")) for t in terms)
    assert any(CUE_DESCRIPTIONS[r.removeprefix("cue:")] in t for r, t in zip(raw, terms) if r.startswith("cue:"))

def test_a_chosen_policy_decides_each_sentence_and_names_its_rule(page, scorer):
    text = "Supports healthy joints and flexibility. May help prevent colds and flu. Take two daily."
    score(page, text)
    assert page.locator("#policy option").all_inner_texts() == ["default", "editorial", "strict-eu", "us-dshea"]
    default = [s["decision"] for s in scorer.score(text).sentences]
    expected = scorer.score(text, policy="us-dshea")
    wanted = [s["decision"] for s in expected.sentences]
    assert wanted != default  # so the page must score again to show them
    page.get_by_label("Policy", exact=True).select_option("us-dshea")
    page.wait_for_function("wanted => [...document.querySelectorAll('#rendered .sentence')]"
                           ".map(s => s.dataset.decision).join() === wanted.join()", arg=wanted)
    assert page.locator("#overall-decision").inner_text().lower() == expected.decision
    assert "disease claims blocked" in page.locator("#policy-description").inner_text()
    page.locator("#rendered .sentence").nth(1).click()
    assert page.locator("#detail-rule").inner_text() == "us-dshea/disease-claim"
    assert page.locator("#detail-claim-types").inner_text() == ", ".join(expected.sentences[1]["claim_types"])


def test_the_page_works_by_keyboard_alone(page):
    page.get_by_role("button", name="Try an example").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Score", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#overall-decision")
    page.locator("#rendered").focus()
    for _ in range(40):  # tab until a flagged sentence has focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.decision") == "block":
            break
    page.keyboard.press("Enter")
    assert page.locator("#detail").is_visible()
    assert page.locator("#detail-decision").inner_text() == "block"


def test_every_control_has_a_label_and_text_has_readable_contrast(page):
    score(page, "Our turmeric cures arthritis. It may help some people. Take with food.")
    unnamed = page.evaluate("""() => [...document.querySelectorAll('input, textarea, button')]
        .filter(e => !(e.labels && e.labels.length) && !e.textContent.trim() && !e.getAttribute('aria-label'))
        .map(e => e.id)""")
    assert unnamed == []
    ratios = page.evaluate("""() => {
        const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
        const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92
            : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const ratio = e => { const s = getComputedStyle(e); const a = lum(rgb(s.color)), b = lum(rgb(s.backgroundColor));
            return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
        return [...document.querySelectorAll('#rendered .sentence.block, #rendered .sentence.review, .badge, ' +
            '#overall-decision, button, .error')].filter(e => getComputedStyle(e).backgroundColor !== 'rgba(0, 0, 0, 0)')
            .map(e => [e.className, ratio(e)]);
    }""")
    assert ratios and all(ratio >= 4.5 for _, ratio in ratios), ratios


def test_nothing_is_fetched_from_anywhere_but_the_server(page, server):
    score(page, "Zinc cures colds.")
    assert page.requests and all(url.startswith(server.url) for url in page.requests)


def test_a_text_over_the_limit_is_refused_in_the_page(page):
    page.get_by_label("Text to score").fill("x" * 100_001)
    page.get_by_role("button", name="Score", exact=True).click()
    error = page.get_by_role("alert")
    assert "limit is 100,000" in error.inner_text()
    assert "over the limit" in page.locator("#char-count").inner_text()


def test_a_server_that_cannot_be_reached_is_reported_in_the_page(page):
    page.route("**/v1/score", lambda route: route.abort("connectionrefused"))
    page.get_by_label("Text to score").fill("Zinc cures colds.")
    page.get_by_role("button", name="Score", exact=True).click()
    assert "Cannot reach the overclaim server" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("button", name="Score", exact=True).is_enabled()


def test_a_100_kb_paste_is_scored_and_rendered_whole(page, scorer):
    paragraph = seed_paragraph() + "\n"
    text = (paragraph * (100_000 // len(paragraph)))[:99_000]
    score(page, text)
    assert page.locator("#rendered .sentence").count() == len(scorer.score(text).sentences)
    assert page.locator("#rendered").inner_text().endswith(text.rstrip()[-40:])
