// @ts-check
// Debian's Chromium driven by playwright-core, set up the way every browser test needs it.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { startWorker } from './worker.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const WAIT = 15_000;

/**
 * Launches Chromium and a context with the test hooks installed. Returns
 * { browser, context, pageErrors, dialogs }: page errors and CSP violations of every page, and
 * every dialog (dismissed), for tests to assert on.
 */
export async function openBrowser() {
  const pageErrors = [];
  const dialogs = [];
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      // Headless screens default to 800x600, which would clamp a 700 px high popup.
      '--screen-info={1920x1080}',
    ],
  });
  // viewport: null lets window.open's width/height decide the popup's size.
  const context = await browser.newContext({
    viewport: null,
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
  });
  context.setDefaultTimeout(WAIT);
  context.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  // Test hooks, installed before any page script (init scripts are not subject to the CSP):
  // - every window.open is recorded, so the requested features can be checked;
  // - `__blockPopups = n` makes the next n window.open calls fail like a popup blocker's (null);
  // - every WebSocket is recorded, and `__wsBlocked` makes new ones fail, to cut the console off.
  await context.addInitScript(() => {
    const open = window.open;
    window.__opened = [];
    window.__blockPopups = 0;
    window.open = function (url, name, features) {
      const blocked = window.__blockPopups > 0;
      if (blocked) window.__blockPopups -= 1;
      window.__opened.push({ url: String(url), name, features, blocked });
      return blocked ? null : open.call(this, url, name, features);
    };
    const NativeWebSocket = window.WebSocket;
    window.__sockets = [];
    window.__wsBlocked = false;
    window.WebSocket = class extends NativeWebSocket {
      /**
       * @param {string | URL} url
       * @param {string | string[]} [protocols]
       */
      constructor(url, protocols) {
        if (window.__wsBlocked) throw new DOMException('blocked by the test', 'SecurityError');
        super(url, protocols);
        window.__sockets.push(this);
      }
    };
  });
  context.on('page', (p) => {
    p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`));
    // The pages must live within the served CSP: no inline script, style or handler.
    p.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text()))
        pageErrors.push(`${p.url()}: ${m.text()}`);
    });
  });
  return { browser, context, pageErrors, dialogs };
}

/**
 * The set-up every browser test file starts with: the built Worker in workerd
 * (`startWorker(worker)`), its URL on `localhost` (the session cookie is `Secure`, which
 * Chromium keeps over plain http only there), Chromium ({@link openBrowser}), and, with
 * `login`, an account whose session the browser context already holds (`loggedIn`, default)
 * or only the account. Returns those plus `close()` for the file's `after`.
 */
/**
 * @param {{
 *   worker?: import('./worker.mjs').WorkerOptions,
 *   login?: Parameters<import('./worker.mjs').WorkerClient['login']>[0] | null,
 *   loggedIn?: boolean,
 * }} [opts]
 */
export async function startWithBrowser({ worker = {}, login = null, loggedIn = true } = {}) {
  const w = await startWorker(worker);
  const base = w.url.replace('127.0.0.1', 'localhost');
  const account = login ? await w.login(login) : null;
  const opened = await openBrowser();
  if (account && loggedIn) {
    const res = await opened.context.request.post(`${base}/api/auth/login`, {
      data: { loginId: account.login, password: account.password },
    });
    assert.equal(res.status(), 200);
  }
  return {
    w,
    base,
    account,
    ...opened,
    close: async () => {
      await opened.browser?.close();
      await w?.close();
    },
  };
}

/**
 * Same-origin API calls with `account`'s bearer token (a JSON body when given).
 * @param {import('./worker.mjs').WorkerClient} w
 * @param {{ token: string }} account
 * @returns {(path: string, opts?: { method?: string, body?: unknown }) => Promise<import('./worker.mjs').JsonResponse>}
 */
export const apiAs =
  (w, account) =>
  (path, { method = 'GET', body } = {}) =>
    w.json(path, {
      method,
      headers: {
        authorization: `Bearer ${account.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });

/**
 * Records what a page did (its navigations, console lines and API answers) so that a wait that
 * times out can say what the page showed and had been told:
 *   const traced = tracePage(page); … await traced(() => locator.waitFor());
 * For waits that fail rarely and only under load, where a screenshot after the fact is too late.
 * @param {import('playwright-core').Page} page
 * @returns {<T>(wait: () => Promise<T>) => Promise<T>}
 */
export function tracePage(page) {
  const lines = [];
  const at = () => new Date().toISOString().slice(11, 23);
  page.on(
    'framenavigated',
    (f) => f === page.mainFrame() && lines.push(`${at()} navigated ${f.url()}`),
  );
  page.on('console', (m) => lines.push(`${at()} console.${m.type()} ${m.text()}`));
  page.on('response', async (r) => {
    if (!r.url().includes('/api/')) return;
    const body = await r.text().catch(() => '');
    lines.push(`${at()} ${r.request().method()} ${r.url()} -> ${r.status()} ${body.slice(0, 500)}`);
  });
  return async (wait) => {
    try {
      return await wait();
    } catch (e) {
      const text = await page
        .locator('body')
        .innerText()
        .catch((x) => `(unreadable: ${x.message})`);
      e.message += `\n--- the page at the timeout: ${page.url()}\n${text.slice(0, 2000)}\n--- what it did:\n${lines.join('\n')}`;
      // Reporters print the stack, which Playwright fixed before the message grew.
      const frames = String(e.stack ?? '')
        .split('\n')
        .filter((l) => l.startsWith('    at '));
      e.stack = [`${e.name}: ${e.message}`, ...frames].join('\n');
      throw e;
    }
  };
}

/**
 * A screenshot for the README, written only by `npm run docs:screenshots`
 * (DOCS_SCREENSHOTS=1): `npm test` leaves a clean checkout clean.
 */
/**
 * @param {import('playwright-core').Page | import('playwright-core').Locator} target a page,
 *   or one element of it
 * @param {string} path
 * @param {{ fullPage?: boolean }} [opts] the whole scrollable page (a page only)
 */
export async function docShot(target, path, { fullPage = false } = {}) {
  if (process.env.DOCS_SCREENSHOTS !== '1') return;
  await target.screenshot(fullPage ? { path, fullPage } : { path });
}
