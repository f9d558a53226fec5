// Real headless browsers for the browser-node tests, from the system's packages (Debian: chromium, firefox-esr),
// driven with puppeteer-core (CDP for Chromium, WebDriver BiDi for Firefox); nothing is downloaded. A browser whose
// binary is missing is named with the package that provides it, so that its tests skip with that message.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export interface BrowserKind {
  name: 'chromium' | 'firefox';
  executable: string;
  /** The Debian package that installs it. */
  apt: string;
}

export const BROWSERS: BrowserKind[] = [
  { name: 'chromium', executable: '/usr/bin/chromium', apt: 'chromium' },
  { name: 'firefox', executable: '/usr/bin/firefox-esr', apt: 'firefox-esr' },
];

/** Why the tests of `b` skip (its binary is missing), or false. */
export function browserMissing(b: BrowserKind): string | false {
  return existsSync(b.executable)
    ? false
    : `${b.executable} is not installed: \`apt-get install -y --no-install-recommends ${b.apt}\` to run the browser-node tests in ${b.name}`;
}

const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** `b`, headless, with a fresh profile (removed on close). */
export async function launchBrowser(b: BrowserKind): Promise<LaunchedBrowser> {
  const profile = await mkdtemp(join(tmpdir(), `kafu-${b.name}-`));
  const browser = await puppeteer.launch({
    browser: b.name === 'firefox' ? 'firefox' : 'chrome',
    executablePath: b.executable,
    headless: true,
    userDataDir: profile,
    args: b.name === 'chromium' ? CHROMIUM_FLAGS : [],
    timeout: 60_000,
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** What the page of a browser node shows (browser-bridge.ts's page). */
export interface PageState {
  state: string;
  node: string;
  hopsIn: number;
  hopsOut: number;
  lastError: string;
}

export async function pageState(page: Page): Promise<PageState> {
  const text = (id: string) => page.$eval(`#${id}`, (e) => e.textContent ?? '');
  return {
    state: await text('state'),
    node: await text('node'),
    hopsIn: Number(await text('hops-in')),
    hopsOut: Number(await text('hops-out')),
    lastError: await text('last-error'),
  };
}

/** Waits until the page's state is `state` (bounded). */
export async function waitForState(page: Page, state: string, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction((s) => document.getElementById('state')?.textContent === s, { timeout: timeoutMs, polling: 50 }, state);
}
