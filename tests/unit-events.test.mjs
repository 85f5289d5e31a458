// @ts-check
// lib/events.js: the CustomEvent target the socket and the page's `live` events share. Its
// listeners get the event with its `detail`; removing one stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageTarget } from '../public/admin/lib/events.js';

test('a MessageTarget hands each listener the CustomEvent and its detail, until removed', () => {
  const target = new MessageTarget();
  /** @type {unknown[]} */
  const heard = [];
  const listener = (/** @type {CustomEvent} */ ev) => heard.push(ev.detail);
  target.addEventListener('call', listener);
  target.addEventListener('once', (ev) => heard.push(`once:${ev.detail}`), { once: true });
  target.dispatchEvent(new CustomEvent('call', { detail: { callId: '1' } }));
  target.dispatchEvent(new CustomEvent('once', { detail: 'a' }));
  target.dispatchEvent(new CustomEvent('once', { detail: 'b' }));
  target.removeEventListener('call', listener);
  target.dispatchEvent(new CustomEvent('call', { detail: { callId: '2' } }));
  assert.deepEqual(heard, [{ callId: '1' }, 'once:a']);
  assert.ok(target instanceof EventTarget);
});
