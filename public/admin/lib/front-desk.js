// The front desk's shared pieces: its settings (action buttons, 用件, click-to-call, from
// /api/settings/front-desk), an action URL filled in for one caller, click-to-call links, and
// the 折り返し count in the header's nav.
import { el } from './dom.js';
import { api } from './api.js';
import { fmtPhone } from './format.js';
import { e164 } from './phone.js';

let settingsP = null;

/** The settings document and the fixed lists ({settings, outcomes}); loaded once per page. */
export function loadFrontDesk({ fresh = false } = {}) {
  if (!settingsP || fresh) {
    settingsP = api('/api/settings/front-desk').catch((e) => {
      settingsP = null;
      throw e;
    });
  }
  return settingsP;
}

/**
 * Fills an action URL template (checked by the server: http(s), literal host). Every value is
 * percent-encoded, as `domain::front_desk::expand` does; an unknown caller leaves the
 * customer's placeholders empty.
 */
export function expandTemplate(template, { phone = '', customerId = null, customerName = '', store = '', callId = '' } = {}) {
  const values = { phone, customerId: customerId ?? '', customerName, store, callId };
  const url = template.replace(/\{(phone|customerId|customerName|store|callId)\}/g, (_, k) => encodeURIComponent(String(values[k] ?? '')));
  // Belt and braces: only http(s) ever becomes a link.
  return /^https?:\/\//i.test(url) ? url : null;
}

/** The action buttons for a call on `storeId`: every store's, then the store's own. */
export function actionsFor(settings, storeId) {
  return (settings?.actions ?? []).filter((a) => a.storeId === null || a.storeId === undefined || a.storeId === storeId);
}

/**
 * The click-to-call address of `phone`: `tel:` or, when the settings say so, the Dialpad
 * app's `dialpad://` with the store's own number as caller ID (when one is set for it).
 */
export function dialHref(phone, storeId, settings) {
  if (!phone) return null;
  if (settings?.dialMode === 'dialpad') {
    const from = (settings.callerIds ?? []).find((c) => c.storeId === storeId)?.number;
    const q = from ? `?fromNumber=${encodeURIComponent(e164(from))}` : '';
    return `dialpad://${e164(phone)}${q}`;
  }
  return `tel:${e164(phone)}`;
}

/** A 発信 link for `phone` (null when there is no number). */
export function dialLink(phone, storeId, settings, { label } = {}) {
  const href = dialHref(phone, storeId, settings);
  if (!href) return null;
  return el('a', {
    class: 'btn btn-small dial-link',
    text: label ?? `発信 ${fmtPhone(phone)}`,
    attrs: { href, title: href.startsWith('dialpad:') ? 'Dialpad で発信' : '電話をかける' },
  });
}

/** Fills `node` with a 発信 link per number (the 顧客 page); the store decides the caller ID. */
export async function renderDialLinks(node, phones, storeId) {
  let settings = null;
  try {
    settings = (await loadFrontDesk()).settings;
  } catch {
    /* tel: links without settings */
  }
  node.replaceChildren(...(phones ?? []).map((p) => dialLink(p, storeId, settings)).filter(Boolean));
  node.hidden = node.childElementCount === 0;
}

// ---------------------------------------------------------------------------------------------
// 折り返し count in the nav

let countSeq = 0;

/** Shows `n` open callbacks on the nav's 折り返し link. */
export function showCallbackCount(n) {
  const link = document.querySelector('.topnav a[href="/admin/callbacks.html"]');
  if (!link) return;
  let badge = link.querySelector('.nav-count');
  if (!badge) {
    badge = el('span', { class: 'nav-count', attrs: { id: 'callback-count', 'aria-label': '未完了の折り返し（未対応・対応中）' } });
    link.append(badge);
  }
  badge.textContent = String(n);
  badge.hidden = !(n > 0);
  link.dataset.open = String(n);
}

/** Reloads the open count (after login, and whenever the hub says it changed). */
export async function refreshCallbackCount() {
  const seq = ++countSeq;
  try {
    const { open } = await api('/api/callbacks/count');
    if (seq === countSeq) showCallbackCount(Number(open) || 0);
  } catch {
    /* cosmetic */
  }
}
