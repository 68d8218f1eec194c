// playwright-probe.mjs drives the page as a plain Playwright script does:
// page.evaluate with string expressions, which Playwright runs through the
// page's globalThis.eval, and page.waitForFunction with a function. (A
// string predicate for waitForFunction is evaluated again at every poll,
// outside DevTools' evaluation, where the page's Content-Security-Policy
// refuses eval: pass a function, or launch the context with bypassCSP.)
// It prints one JSON line of what it read, or exits 1 with the error.
//
//   node playwright-probe.mjs URL CHROMIUM
import { chromium } from "playwright-core";

const [url, executablePath] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('.engine[data-state="ready"]') !== null, null, { timeout: 90000 });
  const engine = await page.evaluate("document.querySelector('.engine').textContent.trim()");
  const sum = await page.evaluate("window.__probe = 6 + 1, window.__probe");
  const title = await page.evaluate("document.title");
  console.log(JSON.stringify({ engine, sum, title }));
} finally {
  await browser.close();
}
