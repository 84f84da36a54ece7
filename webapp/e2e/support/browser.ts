// Debian's Chromium driven by playwright-core, with every page watched for console errors
// and failed requests, and a stand-in for the Telegram client's bridge.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const LIGHT_THEME = {
  bg_color: '#ffffff',
  secondary_bg_color: '#f4f4f5',
  section_bg_color: '#ffffff',
  text_color: '#000000',
  hint_color: '#707579',
  link_color: '#3390ec',
  button_color: '#3390ec',
  button_text_color: '#ffffff',
  destructive_text_color: '#e53935',
  section_separator_color: '#e7e7e7',
  header_bg_color: '#ffffff',
};

export const DARK_THEME = {
  bg_color: '#212121',
  secondary_bg_color: '#0f0f0f',
  section_bg_color: '#212121',
  text_color: '#ffffff',
  hint_color: '#aaaaaa',
  link_color: '#8774e1',
  button_color: '#8774e1',
  button_text_color: '#ffffff',
  destructive_text_color: '#ff595a',
  section_separator_color: '#303030',
  header_bg_color: '#212121',
};

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export function launchHash(initData: string, theme: Record<string, string> = LIGHT_THEME): string {
  const params = new URLSearchParams({
    tgWebAppData: initData,
    tgWebAppVersion: '8.0',
    tgWebAppPlatform: 'tdesktop',
    tgWebAppThemeParams: JSON.stringify(theme),
  });
  return `#${params.toString().replaceAll('+', '%20')}`;
}

/** A failed request the scenario expects (the point of the scenario), by URL part and status. */
export interface Expected {
  url: string | RegExp;
  status: number;
}

export interface Watched {
  context: BrowserContext;
  page: Page;
  problems: string[];
  /** Bytes of JavaScript received, as sent on the wire (compressed). */
  scriptBytes: () => number;
  /** The events the app posted to the Telegram client. */
  telegramEvents: () => Promise<{ type: string; data: unknown }[]>;
  close: () => Promise<void>;
}

export async function openPage(browser: Browser, expected: Expected[] = []): Promise<Watched> {
  const context = await browser.newContext({
    viewport: { width: 400, height: 860 },
    deviceScaleFactor: 1,
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  // What Telegram's mobile clients inject: the bridge the SDK posts its events through.
  await context.addInitScript(() => {
    const w = window as unknown as { __tg: unknown[]; TelegramWebviewProxy: unknown };
    w.__tg = [];
    w.TelegramWebviewProxy = {
      postEvent(type: string, data: string) {
        w.__tg.push({ type, data: data ? (JSON.parse(data) as unknown) : null });
      },
    };
  });
  const page = await context.newPage();
  const problems: string[] = [];
  const isExpected = (url: string, status: number) =>
    expected.some((e) => e.status === status && (typeof e.url === 'string' ? url.includes(e.url) : e.url.test(url)));
  let scripts = 0;
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium reports every 4xx as a console error; the expected ones are the scenario.
    const text = message.text();
    const location = message.location().url;
    const expectedStatus = /status of (\d{3})/.exec(text)?.[1];
    if (expectedStatus && isExpected(location, Number(expectedStatus))) return;
    problems.push(`console error: ${text} (${location})`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('response', async (response) => {
    const status = response.status();
    if (status >= 400 && !isExpected(response.url(), status)) problems.push(`HTTP ${status}: ${response.request().method()} ${response.url()}`);
    if (response.request().resourceType() === 'script') {
      const sizes = await response.request().sizes().catch(() => null);
      scripts += sizes?.responseBodySize ?? 0;
    }
  });
  return {
    context,
    page,
    problems,
    scriptBytes: () => scripts,
    telegramEvents: () => page.evaluate(() => (window as unknown as { __tg: { type: string; data: unknown }[] }).__tg),
    close: () => context.close(),
  };
}
