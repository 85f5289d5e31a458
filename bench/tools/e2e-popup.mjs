// @ts-check
// `npm run bench:e2e`: what the person at the desk waits for. In Chromium against the built
// Workers in workerd (the README's `npm start` set-up: a console open, a call to a registered
// customer), from the webhook POST to the popup window showing the caller's name, p50/p99 over
// N calls (default 50); then the same with every D1 call delayed (default 30 ms, a far
// primary), to show the name does not wait on D1 (the card comes from the pop). Also reports
// when the popup's history arrived (that one does wait on D1). Loopback only; every loop is
// bounded; writes bench/results/e2e-popup.{json,md}.
//
//   node bench/tools/e2e-popup.mjs [--calls=50] [--delay=30]
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

/** One call: webhook POST → popup; when the name and the history first showed (ms after the POST). */
async function oneCall(w, context) {
  const ev = callEvent({ external_number: '+819012345678' });
  const popupP = context.waitForEvent('page', { timeout: 15_000 });
  const t0 = Date.now();
  const res = await w.sendEvent(ev);
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  const popup = await popupP;
  await popup.waitForURL((u) => u.pathname === CTI_PATH, { timeout: 15_000 });
  // Times taken inside the popup (the same machine clock as t0).
  const marks = await popup.evaluate(
    () =>
      new Promise((resolveMarks) => {
        const out = {};
        const check = () => {
          const n = document.querySelector('#customer-name');
          if (!out.name && n && n.textContent.includes('山田') && !n.closest('[hidden]'))
            out.name = Date.now();
          const h = /** @type {HTMLElement | null} */ (document.querySelector('#history-view'));
          if (!out.history && h && !h.hidden && h.querySelector('li, tr')) out.history = Date.now();
          if (out.name && out.history) {
            obs.disconnect();
            resolveMarks(out);
          }
        };
        const obs = new MutationObserver(check);
        obs.observe(document, {
          subtree: true,
          childList: true,
          attributes: true,
          characterData: true,
        });
        check();
        setTimeout(() => resolveMarks(out), 10_000);
      }),
  );
  await popup.close();
  // The call ends, so the next one is not a burst on top of it.
  await w.sendEvent({
    ...ev,
    state: 'hangup',
    date_connected: ev.date_started + 500,
    date_ended: Date.now(),
    event_timestamp: Date.now(),
  });
  return {
    name: marks.name ? marks.name - t0 : null,
    history: marks.history ? marks.history - t0 : null,
  };
}

/** The two D1 modes interleaved call by call, so drift on a busy machine hits both alike. */
async function series(w, context, modes) {
  const got = Object.fromEntries(modes.map((m) => [m, { name: [], history: [] }]));
  for (let i = 0; i < CALLS && Date.now() < DEADLINE; i += 1) {
    for (const mode of modes) {
      await w.setD1(mode);
      const r = await oneCall(w, context);
      if (r.name !== null) got[mode].name.push(r.name);
      if (r.history !== null) got[mode].history.push(r.history);
    }
  }
  return modes.map((mode) => ({
    mode,
    calls: got[mode].name.length,
    name: summary(got[mode].name),
    history: summary(got[mode].history),
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
  const [plain, slow] = await series(w, context, ['up', `slow:${DELAY}`]);
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
].join('\n');
writeFileSync('bench/results/e2e-popup.md', md);
process.stdout.write(md);
