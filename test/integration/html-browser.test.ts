// The HTML report in a real browser: Debian's headless Chromium driven by playwright-core.
// The example operator's report (test/fixtures/reports/findings.json, or a fresh report.json
// named by KUBEFLAKE_HTML_REPORT) must render with no console error and no network request,
// show the right heatmap cells, let the keyboard reach every control (and copy a reproduce
// command), fit a 400-pixel phone, and switch to dark colours. Screenshots go to
// results/html-browser/ (not committed). Chromium is installed by .ci/run, never by the test:
// without it the test fails saying what to run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { renderHtml } from '../../src/report/html.ts';
import { validateReport } from '../../src/report/validate.ts';
import type { Report } from '../../src/model.ts';
import { loadReport } from '../fixtures/reports/load.ts';
import { HOSTILE, hostileReport } from '../fixtures/reports/hostile.ts';
import { projectRoot } from '../support/paths.ts';

// The browser globals the callbacks evaluated in the page use (the project compiles without the DOM lib).
declare const document: { activeElement: unknown; documentElement: { scrollWidth: number }; body: unknown; querySelectorAll(selector: string): ArrayLike<unknown> & Iterable<unknown>; querySelector(selector: string): { textContent: string | null } | null };
declare function getComputedStyle(element: unknown): { backgroundColor: string; outlineStyle: string };
declare const navigator: { clipboard: { readText(): Promise<string> } };

const executablePath = '/usr/bin/chromium';
const shots = join(projectRoot, 'results', 'html-browser');

/** Debian's chromium; `.ci/run` installs it. A test that finds none fails saying what to run. */
function requireChromium(): void {
  assert.ok(existsSync(executablePath), `chromium is not installed at ${executablePath}: run \`apt-get install -y chromium\` (.ci/run installs it), then run this test again`);
}

function loadExampleReport(): { report: Report; source: string } {
  const file = process.env.KUBEFLAKE_HTML_REPORT;
  if (!file) return { report: loadReport('findings'), source: 'test/fixtures/reports/findings.json' };
  const checked = validateReport(JSON.parse(readFileSync(file, 'utf8')));
  if (!checked.ok) throw new Error(`${file} is not a valid report: ${checked.errors.join('; ')}`);
  return { report: checked.report, source: file };
}

const { report } = loadExampleReport();

/** Serves pages on loopback (a secure context, so the clipboard works) and records every request. */
async function pageServer(pages: Record<string, string>): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = pages[req.url ?? ''];
    res.statusCode = body === undefined ? 404 : 200;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, requests };
}

async function browser(profile: string): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  return context;
}

/** Console errors, page errors and dialogs of a page, from the moment it is opened. */
function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return problems;
}

test('the example report in Chromium', async (t) => {
  requireChromium();
  mkdirSync(shots, { recursive: true });
  const site = await pageServer({ '/report.html': renderHtml(report), '/hostile.html': renderHtml(hostileReport()), '/clean.html': renderHtml(loadReport('clean')) });
  const profile = mkdtempSync(join(tmpdir(), 'kf-chromium-'));
  const context = await browser(profile);
  t.after(async () => {
    await context.close();
    site.server.close();
    // Chromium may still be flushing its profile as it exits.
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: site.url });
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(`${site.url}/report.html`);

  await t.test('renders with no console error and loads nothing but itself', async () => {
    await page.waitForLoadState('networkidle');
    assert.deepEqual(problems, []);
    assert.deepEqual(site.requests, ['/report.html']);
    assert.match(await page.locator('h1').innerText(), /order-dependent/);
    await page.screenshot({ path: join(shots, 'desktop.png'), fullPage: true });
  });

  await t.test('the heatmap shows each known run\'s outcome and position for every finding', async () => {
    const findings = report.tests.filter((x) => x.verdict !== 'stable' && x.verdict !== 'skipped');
    assert.ok(findings.length > 0);
    const rows = await page.$$eval('table.matrix tbody tr', (trs) => trs.map((tr) => ({
      name: tr.querySelector('th.label .name')?.getAttribute('title') ?? '',
      cells: [...tr.querySelectorAll('td')].map((td) => ({ cls: td.className, text: td.textContent ?? '', title: td.getAttribute('title') ?? '' })),
    })));
    for (const finding of findings) {
      const row = rows.find((r) => r.name === finding.name);
      assert.ok(row, `no heatmap row for ${finding.name}`);
      assert.equal(row.cells.length, report.runs.length);
      report.runs.forEach((run, i) => {
        const cell = row.cells[i]!;
        const position = run.order.indexOf(finding.id);
        const expected = run.failed.includes(finding.id) ? 'fail' : position >= 0 ? 'pass' : run.skipped?.includes(finding.id) ? 'skip' : 'absent';
        assert.equal(cell.cls.split(' ')[1], expected, `${finding.name}, run ${run.id}`);
        assert.equal(cell.cls.includes('probe'), run.probe, `${run.id} probe marking`);
        if (position >= 0) {
          assert.equal(cell.text, String(position + 1));
          assert.match(cell.title, new RegExp(`^${run.id}: position ${position + 1} of ${run.order.length}, (passed|failed)$`));
        }
      });
    }
    // Colours really differ between outcomes (the classes are styled, not just present).
    const colours = await page.$$eval('table.matrix td.c.pass:not(.probe), table.matrix td.c.fail:not(.probe)', (tds) =>
      [...new Set(tds.map((td) => `${td.classList.contains('fail') ? 'fail' : 'pass'}=${getComputedStyle(td).backgroundColor}`))]);
    assert.equal(new Set(colours.map((c) => c.split('=')[1])).size, 2, colours.join(', '));
  });

  await t.test('each victim\'s failing order highlights its polluter and the leaked object', async () => {
    const victim = report.tests.find((x) => x.verdict === 'order-dependent' && x.polluters.length)!;
    const polluter = report.tests.find((x) => x.id === victim.polluters[0]!.test)!;
    const block = page.locator('article.victim', { hasText: victim.name }).first();
    const orders = block.locator('.order');
    const failing = report.runs.filter((run) => run.failed.includes(victim.id));
    assert.equal(await orders.count(), Math.min(failing.length, 6));
    const first = orders.first();
    assert.match(await first.locator('.step.polluter').innerText(), new RegExp(polluter.name.slice(0, 30)));
    const leak = report.leaks[victim.polluters[0]!.via[0] ?? -1];
    if (leak) assert.ok((await first.locator('.step.polluter .leaked').innerText()).includes(`${leak.kind} ${leak.namespace ? `${leak.namespace}/` : ''}${leak.name}`));
    assert.match(await first.locator('.step.victim').innerText(), /failed/);
    const [p, v] = await Promise.all([first.locator('.step.polluter').boundingBox(), first.locator('.step.victim').boundingBox()]);
    // Reading order: left of the victim on its line, or on an earlier line.
    assert.ok(p && v && (p.y + p.height <= v.y || p.x + p.width <= v.x), 'the polluter comes before the victim on the timeline');
  });

  await t.test('the keyboard reaches every control, and Enter on Copy copies the reproduce command', async () => {
    const controls = await page.$$eval('a[href], button, summary, [tabindex="0"]', (els) => els.length);
    const reached = new Set<string>();
    await page.locator('body').focus();
    for (let i = 0; i < controls + 5; i++) {
      await page.keyboard.press('Tab');
      const key = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return '';
        const all = [...document.querySelectorAll('a[href], button, summary, [tabindex="0"]')];
        return String(all.indexOf(el));
      });
      if (key) reached.add(key);
    }
    assert.equal(reached.size, controls, `Tab reached ${reached.size} of ${controls} controls`);

    const victim = report.tests.find((x) => x.verdict === 'order-dependent')!;
    const button = page.locator('article.card.order-dependent button.copy');
    await button.focus();
    const outline = await button.evaluate((el) => getComputedStyle(el).outlineStyle);
    assert.notEqual(outline, 'none', 'a focused control shows where the focus is');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('article.card.order-dependent button.copy')?.textContent === 'Copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), victim.reproduce);
  });

  await t.test('fits a 400-pixel phone screen', async () => {
    await page.setViewportSize({ width: 400, height: 860 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 400, `the page is ${overflow} px wide on a 400 px screen`);
    const tooWide = await page.$$eval('main section > table, main section article, .cards', (els) =>
      els.filter((el) => el.getBoundingClientRect().right > 400).map((el) => el.className || el.tagName));
    assert.deepEqual(tooWide, []);
    await page.screenshot({ path: join(shots, 'phone.png'), fullPage: true });
  });

  await t.test('dark mode follows the system setting', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark' });
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = background.match(/\d+/g)!.map(Number);
    assert.ok(r! + g! + b! < 120, `dark background expected, got ${background}`);
    await page.screenshot({ path: join(shots, 'desktop-dark.png'), fullPage: true });
    await page.setViewportSize({ width: 400, height: 860 });
    await page.screenshot({ path: join(shots, 'phone-dark.png'), fullPage: false });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await t.test('a hostile report stays inert: no script runs, no dialog, nothing loads', async () => {
    const hostile = await context.newPage();
    const hostileProblems = watchPage(hostile);
    site.requests.length = 0;
    await hostile.goto(`${site.url}/hostile.html`);
    await hostile.waitForLoadState('networkidle');
    assert.deepEqual(hostileProblems, []);
    assert.deepEqual(site.requests, ['/hostile.html']);
    assert.equal(await hostile.locator('script').count(), 1, 'only the page\'s own script');
    assert.equal(await hostile.locator('img').count(), 0);
    const text = await hostile.locator('body').innerText();
    assert.ok(text.includes(HOSTILE.pipeScript), 'the script-looking name is shown as text');
    await hostile.setViewportSize({ width: 400, height: 860 });
    assert.ok(await hostile.evaluate(() => document.documentElement.scrollWidth) <= 400, 'long hostile names wrap on a phone');
    await hostile.close();
  });

  await t.test('a clean report fits a phone too, with no findings sections', async () => {
    const clean = await context.newPage();
    const cleanProblems = watchPage(clean);
    await clean.setViewportSize({ width: 400, height: 860 });
    await clean.goto(`${site.url}/clean.html`);
    assert.deepEqual(cleanProblems, []);
    assert.ok(await clean.evaluate(() => document.documentElement.scrollWidth) <= 400);
    assert.equal(await clean.locator('#timelines, #details, button.copy').count(), 0);
    await clean.screenshot({ path: join(shots, 'phone-clean.png') });
    await clean.close();
  });
});
