"""How the web page copes with a 100 KB paste, in headless Chromium (Debian's /usr/bin/chromium).

Usage: python bench/web_page.py [--chars 100000] [--runs 3]
Starts `overclaim serve` on a free port, pastes a text of --chars characters made of seed-article paragraphs,
and measures in the page: Score pressed -> every sentence rendered (server scoring included), and one threshold
change -> every sentence re-decided (no request). The longest main-thread task during each is reported too,
since a long task is what makes a page feel frozen.
"""
import argparse
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_load import BIN, free_port, wait_ready  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]

WATCH_LONG_TASKS = """() => { window.longest = 0; new PerformanceObserver(list => { for (const e of list.getEntries())
    window.longest = Math.max(window.longest, e.duration); }).observe({type: 'longtask', buffered: false}); }"""


def paste_text(chars: int) -> str:
    paragraphs = [p for path in sorted((ROOT / "data" / "raw").glob("*.txt"))
                  for p in path.read_text(encoding="utf-8").splitlines() if p.strip()]
    text, i = "", 0
    while len(text) < chars:
        text += paragraphs[i % len(paragraphs)] + "\n"
        i += 1
    return text[:chars]


def _long(durations) -> str:
    """Chromium reports only tasks of 50 ms or more."""
    return f"{max(durations):.0f} ms" if max(durations) else "none of 50 ms or more"


def main():
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(BIN), "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_ready(url)
        text = paste_text(args.chars)
        scored, redecided, long_score, long_redecide = [], [], [], []
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for _ in range(args.runs):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url + "/")
                page.wait_for_function("document.getElementById('review-value').textContent !== '–'")
                page.get_by_label("Text to score").fill(text)
                page.evaluate(WATCH_LONG_TASKS)
                started = page.evaluate("performance.now()")
                page.get_by_role("button", name="Score", exact=True).click()
                page.wait_for_selector("#overall-decision")
                scored.append(page.evaluate("performance.now()") - started)
                long_score.append(page.evaluate("window.longest"))
                sentences = page.locator("#rendered .sentence").count()
                page.evaluate(WATCH_LONG_TASKS)
                redecided.append(page.evaluate("""() => { const s = document.getElementById('block-threshold');
                    const t = performance.now(); s.value = 0.5; s.dispatchEvent(new Event('input'));
                    return performance.now() - t; }"""))
                page.wait_for_timeout(200)
                long_redecide.append(page.evaluate("window.longest"))
                page.close()
            browser.close()
        print(f"{len(text):,} characters, {sentences} sentences, {args.runs} runs")
        print(f"Score -> rendered: median {statistics.median(scored):.0f} ms (max {max(scored):.0f}); "
              f"longest main-thread task: {_long(long_score)}")
        print(f"threshold change -> re-decided: median {statistics.median(redecided):.0f} ms "
              f"(max {max(redecided):.0f}); longest main-thread task: {_long(long_redecide)}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
