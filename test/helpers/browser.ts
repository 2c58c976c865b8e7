import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium, which `.ci/run` installs (`apt-get install -y chromium`) when missing. */
export const CHROMIUM = '/usr/bin/chromium';

/** Screenshots of the browser tests (git-ignored); the README shows two of them, copied to docs/. */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/**
 * Whether the browser tests can run: `undefined` when they should be skipped (the reason is
 * printed). Under `CI=true` a missing Chromium is an error: CI must run them.
 */
export function findChromium(): string | undefined {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const reason = `no Chromium at ${CHROMIUM} (install Debian's chromium package: apt-get install -y chromium)`;
  if (process.env['CI'] === 'true') throw new Error(`CI=true but ${reason}`);
  console.warn(`skipping browser tests: ${reason}`);
  return undefined;
}

export interface TestBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Chromium, headless, in a fresh user-data folder (no cookie, cache or setting from any other
 * run), with nothing that calls out to the network by itself. One per identity: a second user
 * gets a browser of their own.
 */
export async function openBrowser(
  options: { width?: number; height?: number; ignoreHTTPSErrors?: boolean } = {},
): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'lk-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    acceptDownloads: true,
    ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
    timeout: 30_000,
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot under test-artifacts/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The README's screenshots (`docs/`), rewritten only by `npm run screenshots`. */
export const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

/**
 * A screenshot for the README: the top of the page in a 900×700 window (small files). Saved
 * under test-artifacts/ on every run, and to docs/ when `SCREENSHOTS_TO_DOCS=1`
 * (`npm run screenshots`), so that a test run leaves the checkout as it was.
 */
export async function docsScreenshot(page: Page, name: string): Promise<string> {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 900, height: 700 });
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env['SCREENSHOTS_TO_DOCS'] === '1') {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(file, join(DOCS, `${name}.png`));
  }
  if (before) await page.setViewportSize(before);
  return file;
}

/** The serious and critical accessibility violations axe-core finds on the page (WCAG 2.1 AA). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
}

/**
 * Whether the page fits a window `width` CSS pixels wide with no horizontal scrolling: the
 * window is narrowed, the document's scroll width read, and the window put back.
 */
export async function fitsWidth(page: Page, width: number): Promise<boolean> {
  const before = page.viewportSize();
  await page.setViewportSize({ width, height: before?.height ?? 800 });
  // Evaluated in the page (a string: this project's types have no DOM).
  const scrollWidth = await page.evaluate<number>(
    'Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)',
  );
  if (before) await page.setViewportSize(before);
  return scrollWidth <= width;
}
