// @ts-check
// The pages' files cached by version (src/domain/assets.rs): a page names its styles and
// scripts under /v/<version>/ (the hash of public/ that the Workers were started with), those
// answer with `immutable` caching, and the page itself is never cached, so the next deploy's
// version reaches the next page opened. Real HTTP against the built Workers in workerd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker } from './helpers/worker.mjs';
import { assetsVersion } from '../scripts/lib/assets-version.mjs';

/** @type {Awaited<ReturnType<typeof startWorker>>} */
let w;
const version = assetsVersion();

before(async () => {
  w = await startWorker({ seed: false });
});
after(() => w?.close());

/** The `href`/`src` addresses a page names. */
const addresses = (html) => [...html.matchAll(/\s(?:href|src)="([^"]+)"/g)].map((m) => m[1]);

test('the version is a hash of public/, and changes with any file in it', () => {
  assert.match(version, /^[0-9a-f]{16}$/);
  assert.equal(assetsVersion(), version);
  const copy = mkdtempSync(join(tmpdir(), 'cti-assets-'));
  try {
    cpSync('public', copy, { recursive: true });
    assert.equal(assetsVersion(copy), version, 'the same files: the same version');
    appendFileSync(join(copy, 'admin/style.css'), '\n');
    const changed = assetsVersion(copy);
    assert.notEqual(changed, version, 'one byte more in one file');
    renameSync(join(copy, 'favicon.svg'), join(copy, 'favicon2.svg'));
    assert.notEqual(assetsVersion(copy), changed, 'a file renamed');
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test("the popup's page names every style and script under the version, and is not cached", async () => {
  const res = await w.fetch('/admin/popup/cti?callId=x');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.equal(res.headers.get('etag'), null, 'no validator: a 304 would keep an old version');
  assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const html = await res.text();
  const files = addresses(html).filter((a) => /\.(css|js)$/.test(a));
  assert.ok(files.length > 30, `the popup loads its modules: ${files.length}`);
  for (const a of files) assert.ok(a.startsWith(`/v/${version}/`), a);
  // Everything else in the page is the file as it is in public/.
  const plain = readFileSync('public/admin/popup/cti.html', 'utf8');
  assert.equal(html.replaceAll(`/v/${version}/`, '/'), plain);
  // Links to pages and the tab's icon (swapped by address while a call rings) keep theirs.
  assert.ok(addresses(html).includes('/admin/'));
  assert.ok(addresses(html).includes('/favicon.svg'));
});

test('a conditional request for a page gets the page whole, rewritten', async () => {
  const res = await w.fetch('/admin/calls', {
    headers: { 'if-none-match': '"anything"', 'if-modified-since': new Date().toUTCString() },
  });
  assert.equal(res.status, 200);
  assert.match(await res.text(), new RegExp(`href="/v/${version}/admin/pages.css"`));
});

test('a file under the version is cached for good, and is the file in public/', async () => {
  for (const file of ['/admin/style.css', '/admin/popup/pop-card.js', '/admin/pages.css']) {
    const res = await w.fetch(`/v/${version}${file}`);
    assert.equal(res.status, 200, file);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await res.text(), readFileSync(`public${file}`, 'utf8'), file);
  }
  const js = await w.fetch(`/v/${version}/admin/lib/format.js`);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  await js.arrayBuffer();
});

test("another version's address gets today's file, never cached for good", async () => {
  const res = await w.fetch('/v/0123456789abcdef/admin/style.css');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.equal(await res.text(), readFileSync('public/admin/style.css', 'utf8'));
});

test('a versioned address of a missing file, a page or outside the folder is not found', async () => {
  for (const path of [
    `/v/${version}/admin/nope.js`,
    `/v/${version}/admin/calls.html`,
    `/v/${version}/favicon.svg`,
    `/v/${version}/admin/%2e%2e/%2e%2e/wrangler.toml`,
    `/v/${version}/`,
  ]) {
    const res = await w.fetch(path);
    assert.equal(res.status, 404, path);
    assert.notEqual(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    await res.arrayBuffer();
  }
});

test('the files keep their plain addresses too (revalidated as before)', async () => {
  const res = await w.fetch('/admin/style.css');
  assert.equal(res.status, 200);
  assert.notEqual(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.ok(res.headers.get('etag'));
  await res.arrayBuffer();
});

test('a current file asked again with its validator stays immutable (304)', async () => {
  const first = await w.fetch(`/v/${version}/admin/style.css`);
  const etag = first.headers.get('etag');
  await first.arrayBuffer();
  assert.ok(etag);
  const again = await w.fetch(`/v/${version}/admin/style.css`, {
    headers: { 'if-none-match': etag },
  });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  await again.arrayBuffer();
});

test("the assets' own redirects and an icon's 304 reach the browser as without the version", async () => {
  const moved = await w.fetch('/admin/calls.html', { redirect: 'manual' });
  assert.equal(moved.status, 307);
  assert.equal(new URL(moved.headers.get('location') ?? '', w.url).pathname, '/admin/calls');
  assert.match(moved.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  await moved.arrayBuffer();
  const icon = await w.fetch('/favicon.svg');
  const etag = icon.headers.get('etag');
  await icon.arrayBuffer();
  const again = await w.fetch('/favicon.svg', { headers: { 'if-none-match': etag ?? '' } });
  assert.equal(again.status, 304);
  await again.arrayBuffer();
});

test('HEAD of a page answers the headers GET would, without a body', async () => {
  const res = await w.fetch('/admin/popup/cti', { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.equal(res.headers.get('etag'), null);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  assert.equal((await res.arrayBuffer()).byteLength, 0);
});

test('a versioned address with an empty or dotted segment is not served as immutable', async () => {
  for (const path of [`/v/${version}//admin/style.css`, `/v/${version}/admin//style.css`]) {
    const res = await w.fetch(path, { redirect: 'manual' });
    assert.notEqual(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', path);
    await res.arrayBuffer();
  }
});
