// @ts-check
// `npm run bench:e2e`: what the person at the desk waits for. In Chromium against the built
// Workers in workerd (the README's `npm start` set-up: a console open, a call to a registered
// customer), from the webhook POST to the popup window showing the caller's name, p50/p99 over
// N calls (default 50); then the same with every D1 call delayed (default 30 ms, a far
// primary), to show the name does not wait on D1 (the card comes from the pop). Also reports
// when the popup's history arrived (that one does wait on D1). Loopback only; every loop is
// bounded; writes bench/results/e2e-popup.{json,md}.
//
// The popup times itself (see `pageProbe`): the name counts from when it is in the page, not
// from when the tool got round to asking. Before, the tool started watching only after
// `waitForURL` (which waits for the page's load event: every module loaded and run) and an
// `evaluate` round trip, so it could not see a name shown any earlier than that. Beside p50/p99 the tool prints where the time
// goes: the median of each step of a call (the console hears the call, opens the window, the
// popup's HTML, styles and scripts, the card asked for and handed over, the name, the frame
// that paints it, the history).
//
//   node bench/tools/e2e-popup.mjs [--calls=50] [--delay=30]      (E2E_DEBUG=1: every call)
// The two D1 modes alternate call by call (50 calls each by default).
import { mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
process.chdir(ROOT);
const { startWorker, callEvent } = await import('../../tests/helpers/worker.mjs');
const { openBrowser } = await import('../../tests/helpers/browser.mjs');

const args = process.argv.slice(2);
const value = (name, d) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
const CALLS = Math.min(Math.max(value('calls', 50), 5), 500);
const DELAY = Math.min(Math.max(value('delay', 30), 0), 1000);
const CTI_PATH = '/admin/popup/cti';
const DEADLINE = Date.now() + 10 * 60_000;
const log = (m) => process.stderr.write(`${m}\n`);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};

/**
 * Installed in every page before its own scripts (an init script), so the popup's times are
 * taken by the popup itself, however late the tool gets to ask: when the name and the history
 * first showed, and the steps on the way (the card's request over the browser channel and its
 * answer). On the console: when it heard the call on its socket and when it opened the window.
 * A window opened with an address keeps the Window of its first, blank document (the init
 * script does not run again for the page), so the popup's watch starts when its page opens its
 * first browser channel, which it does before it can show the card from the pop.
 */
function pageProbe() {
  const w = /** @type {any} */ (window);
  w.__e2e = {};
  const open = window.open;
  window.open = function (...a) {
    w.__e2e.opens = [...(w.__e2e.opens ?? []), Date.now()];
    return open.apply(this, a);
  };
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    /**
     * @param {string | URL} url
     * @param {string | string[]} [protocols]
     */
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (ev) => {
        if (String(ev.data).includes('incoming_call')) w.__e2e.heard = Date.now();
      });
    }
  };
  /** The popup's marks, for the document on screen. */
  const watchPopup = () => {
    if (location.pathname !== '/admin/popup/cti' || document.documentElement.dataset.e2e) return;
    document.documentElement.dataset.e2e = '1';
    const marks = { watched: Date.now() };
    w.__e2ePop = marks;
    const mark = (/** @type {string} */ k) => {
      if (!(k in marks)) marks[k] = Date.now();
    };
    const check = () => {
      const n = document.querySelector('#customer-name');
      if (n?.textContent?.includes('山田') && !n.closest('[hidden]') && !('name' in marks)) {
        mark('name');
        // The next frame's rendering: the name painted (the page may be busy with its other
        // modules meanwhile, which would hold the frame back).
        requestAnimationFrame(() => mark('painted'));
      }
      const h = /** @type {HTMLElement | null} */ (document.querySelector('#history-view'));
      if (h && !h.hidden && h.querySelector('li, tr')) mark('history');
      if ('painted' in marks && 'history' in marks) obs.disconnect();
    };
    const obs = new MutationObserver(check);
    obs.observe(document, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
    check();
    return mark;
  };
  const BC = window.BroadcastChannel;
  window.BroadcastChannel = class extends BC {
    /** @param {string} n */
    constructor(n) {
      super(n);
      watchPopup();
      this.addEventListener('message', (ev) => {
        if (ev.data?.type === 'call-msg' && w.__e2ePop && !('cardMsg' in w.__e2ePop))
          w.__e2ePop.cardMsg = Date.now();
      });
    }
    /** @param {any} m */
    postMessage(m) {
      if (m?.type === 'call?' && w.__e2ePop && !('askCard' in w.__e2ePop))
        w.__e2ePop.askCard = Date.now();
      super.postMessage(m);
    }
  };
}

/** The popup's own steps (epoch ms): navigation, HTML, styles and scripts, DOMContentLoaded. */
function popupSteps() {
  const t = performance.timeOrigin;
  const nav = /** @type {PerformanceNavigationTiming} */ (
    performance.getEntriesByType('navigation')[0]
  );
  const res = /** @type {PerformanceResourceTiming[]} */ (performance.getEntriesByType('resource'));
  const last = (/** @type {RegExp} */ re) =>
    t + Math.max(0, ...res.filter((r) => re.test(r.name)).map((r) => r.responseEnd));
  return {
    .../** @type {any} */ (window).__e2ePop,
    navStart: t,
    htmlFirstByte: t + nav.responseStart,
    htmlEnd: t + nav.responseEnd,
    cssEnd: last(/\.css$/),
    jsEnd: last(/\.js$/),
    requests: res.filter((r) => /\.(js|css)$/.test(r.name)).length,
    // Asked of the server (a 200 or a 304); 0 bytes transferred: read from the browser's cache.
    fetched: res.filter((r) => /\.(js|css)$/.test(r.name) && r.transferSize > 0).length,
    domInteractive: t + nav.domInteractive,
    dcl: t + nav.domContentLoadedEventEnd,
  };
}

/** The steps of one call, in the order they happen (each ms after the webhook POST). */
const STEPS = [
  'webhook',
  'heard',
  'opened',
  'navStart',
  'htmlFirstByte',
  'htmlEnd',
  'cssEnd',
  'watched',
  'askCard',
  'cardMsg',
  'name',
  'painted',
  'jsEnd',
  'domInteractive',
  'dcl',
  'history',
];

/** One call: webhook POST → popup; when the name and the history first showed (ms after the POST). */
async function oneCall(w, context, consolePage) {
  const ev = callEvent({ external_number: '+819012345678' });
  const popupP = context.waitForEvent('page', { timeout: 15_000 });
  const t0 = Date.now();
  const res = await w.sendEvent(ev);
  const webhook = Date.now();
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  const popup = await popupP;
  await popup.waitForURL((u) => u.pathname === CTI_PATH, { timeout: 15_000 });
  await popup
    .waitForFunction(
      () => {
        const m = /** @type {any} */ (window).__e2ePop;
        return m && 'painted' in m && 'history' in m;
      },
      null,
      { timeout: 10_000 },
    )
    .catch(() => {});
  const marks = await popup.evaluate(popupSteps);
  const side = await consolePage.evaluate(() => /** @type {any} */ (window).__e2e);
  await popup.close();
  // The call ends, so the next one is not a burst on top of it.
  await w.sendEvent({
    ...ev,
    state: 'hangup',
    date_connected: ev.date_started + 500,
    date_ended: Date.now(),
    event_timestamp: Date.now(),
  });
  const all = { ...marks, webhook, heard: side.heard, opened: side.opens?.at(-1) };
  /** @type {Record<string, number | null>} */
  const steps = {};
  for (const k of STEPS) steps[k] = Number.isFinite(all[k]) ? Math.round(all[k] - t0) : null;
  return {
    name: steps.name,
    history: steps.history,
    steps,
    requests: marks.requests,
    fetched: marks.fetched,
  };
}

/** The two D1 modes interleaved call by call, so drift on a busy machine hits both alike. */
async function series(w, context, consolePage, modes) {
  const got = Object.fromEntries(
    modes.map((m) => [m, { name: [], history: [], steps: [], requests: [], fetched: [] }]),
  );
  for (let i = 0; i < CALLS && Date.now() < DEADLINE; i += 1) {
    for (const mode of modes) {
      await w.setD1(mode);
      const r = await oneCall(w, context, consolePage);
      if (process.env.E2E_DEBUG) log(JSON.stringify(r));
      if (r.name !== null) got[mode].name.push(r.name);
      if (r.history !== null) got[mode].history.push(r.history);
      got[mode].steps.push(r.steps);
      got[mode].requests.push(r.requests);
      got[mode].fetched.push(r.fetched);
    }
  }
  return modes.map((mode) => ({
    mode,
    calls: got[mode].name.length,
    name: summary(got[mode].name),
    history: summary(got[mode].history),
    // The median of each step over the calls (ms after the POST): where the time goes.
    steps: Object.fromEntries(
      STEPS.map((k) => [
        k,
        pct(
          got[mode].steps.map((s) => s[k]).filter((v) => v !== null),
          50,
        ),
      ]),
    ),
    requests: pct(got[mode].requests, 50),
    fetched: pct(got[mode].fetched, 50),
  }));
}

const summary = (xs) => ({
  n: xs.length,
  p50: pct(xs, 50),
  p99: pct(xs, 99),
  max: Math.max(...xs),
});

log('e2e-popup: building (release) if needed…');
try {
  execFileSync(
    'bash',
    ['-c', '[ -f build/index.js ] && [ -f build/pop/index.js ] || bash scripts/build.sh'],
    { stdio: ['ignore', 2, 2] },
  );
} catch {
  log('e2e-popup: the build failed');
  process.exit(1);
}
const w = await startWorker({ d1Fault: true });
const base = w.url.replace('127.0.0.1', 'localhost');
const { browser, context } = await openBrowser();
await context.addInitScript(pageProbe);
let out;
try {
  const admin = await w.login({ role: 'admin', name: 'ベンチ' });
  const r = await context.request.post(`${base}/api/auth/login`, {
    data: { loginId: admin.login, password: admin.password },
  });
  if (r.status() !== 200) throw new Error('login failed');
  const page = await context.newPage();
  await page.goto(`${base}/admin/`);
  await page.locator('#conn-status', { hasText: /^接続中$/ }).waitFor();
  await w.reindex();
  // Warm-up: the first popup loads every module from cold.
  for (let i = 0; i < 3; i += 1) {
    const p = context.waitForEvent('page');
    const ev = callEvent();
    await w.sendEvent(ev);
    await (await p).close();
    await w.sendEvent({
      ...ev,
      state: 'hangup',
      date_ended: Date.now(),
      event_timestamp: Date.now(),
    });
  }
  const [plain, slow] = await series(w, context, page, ['up', `slow:${DELAY}`]);
  log(
    `e2e-popup: D1 as is: name p50 ${plain.name.p50} ms p99 ${plain.name.p99}; history p50 ${plain.history.p50}`,
  );
  log(
    `e2e-popup: D1 +${DELAY} ms per call: name p50 ${slow.name.p50} ms p99 ${slow.name.p99}; history p50 ${slow.history.p50}`,
  );
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim();
  } catch {
    /* not a checkout */
  }
  out = { commit, calls: CALLS, delayMs: DELAY, at: new Date().toISOString(), plain, slow };
} finally {
  await w.setD1('up').catch(() => {});
  await browser.close();
  await w.close();
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/e2e-popup.json', `${JSON.stringify(out, null, 2)}\n`);
const row = (label, s) =>
  `| ${label} | ${s.name.p50} | ${s.name.p99} | ${s.history.p50} | ${s.history.p99} | ${s.calls} |`;
const md = [
  `# End-to-end: webhook POST → the popup shows the caller (commit ${out.commit}, ${out.at})`,
  '',
  '| D1 | name p50 ms | name p99 ms | history p50 ms | history p99 ms | calls |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  row('as is', out.plain),
  row(`+${DELAY} ms per call`, out.slow),
  '',
  `Where the time goes (the median of each step, ms after the webhook POST; ${out.plain.requests} style and script files per popup, ${out.plain.fetched} of them asked of the server, the others read from the browser's cache):`,
  '',
  `| step | ${STEPS.join(' | ')} |`,
  `| --- |${STEPS.map(() => ' ---: |').join('')}`,
  `| as is | ${STEPS.map((k) => out.plain.steps[k]).join(' | ')} |`,
  `| +${DELAY} ms | ${STEPS.map((k) => out.slow.steps[k]).join(' | ')} |`,
  '',
].join('\n');
writeFileSync('bench/results/e2e-popup.md', md);
process.stdout.write(md);
