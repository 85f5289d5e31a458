// @ts-check
// The front desk's shared pieces: its settings (action buttons, 用件, click-to-call, from
// /api/settings/front-desk), an action URL filled in for one caller, click-to-call links, and
// the 折り返し count in the header's nav.
import { el } from './dom.js';
import { api } from './api.js';
import { fmtPhone } from './format.js';
import { e164 } from './phone.js';

let settingsP = null;

/**
 * The settings document and the fixed lists ({settings, outcomes}); loaded once per page.
 * `settings.apiCall`: this user's 発信 goes through Dialpad's API (switched on, and the account
 * linked to a Dialpad user); `settings.playRecordings`: recordings play through share links.
 */
export function loadFrontDesk({ fresh = false } = {}) {
  if (!settingsP || fresh) {
    const dialpad = api('/api/settings/dialpad').catch(() => null);
    settingsP = Promise.all([api('/api/settings/front-desk'), dialpad])
      .then(([fd, dp]) => {
        fd.settings.apiCall = Boolean(dp?.me?.canCall && dp?.me?.linked);
        fd.settings.playRecordings = Boolean(dp?.me?.recordings);
        return fd;
      })
      .catch((e) => {
        settingsP = null;
        throw e;
      });
  }
  return settingsP;
}

/**
 * 発信 through Dialpad's API: Dialpad rings the user's own devices, then calls `phone` from
 * the store's number. The button says how it went (5 a minute: a refusal says so).
 */
/**
 * @param {string} phone
 * @param {number | null | undefined} storeId
 * @param {{ label?: string, customerId?: number }} [opts]
 */
function apiDialButton(phone, storeId, { label, customerId } = {}) {
  const text = label ?? `発信 ${fmtPhone(phone)}`;
  const button = el('button', {
    class: 'btn btn-small dial-link dial-api',
    text,
    attrs: { type: 'button', title: 'Dialpad で発信（お使いの Dialpad の端末が鳴ります）' },
  });
  const status = el('span', {
    class: 'dial-status small',
    attrs: { role: 'status', 'aria-live': 'polite' },
  });
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = '発信中…';
    try {
      await api('/api/dialpad/call', {
        method: 'POST',
        body: { phone, storeId: storeId ?? null, customerId: customerId ?? null },
      });
      status.textContent = 'Dialpad の端末を呼び出しています';
    } catch (e) {
      status.textContent = e.message;
    } finally {
      button.disabled = false;
    }
  });
  return el('span', { class: 'dial-api-wrap' }, button, status);
}

/**
 * Fills an action URL template (checked by the server: http(s), literal host). Every value is
 * percent-encoded, as `domain::front_desk::expand` does; an unknown caller leaves the
 * customer's placeholders empty.
 */
export function expandTemplate(
  template,
  { phone = '', customerId = null, customerName = '', store = '', callId = '' } = {},
) {
  const values = { phone, customerId: customerId ?? '', customerName, store, callId };
  const url = template.replace(/\{(phone|customerId|customerName|store|callId)\}/g, (_, k) =>
    encodeURIComponent(String(values[k] ?? '')),
  );
  // Belt and braces: only http(s) ever becomes a link.
  return /^https?:\/\//i.test(url) ? url : null;
}

/** The action buttons for a call on `storeId`: every store's, then the store's own. */
export function actionsFor(settings, storeId) {
  return (settings?.actions ?? []).filter(
    (a) => a.storeId === null || a.storeId === undefined || a.storeId === storeId,
  );
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

/**
 * A 発信 link for `phone` (null when there is no number).
 * @param {string | null | undefined} phone
 * @param {number | null | undefined} storeId
 * @param {any} settings
 * @param {{ label?: string, customerId?: number }} [opts]
 */
export function dialLink(phone, storeId, settings, { label, customerId } = {}) {
  if (phone && settings?.apiCall) return apiDialButton(phone, storeId, { label, customerId });
  const href = dialHref(phone, storeId, settings);
  if (!href) return null;
  return el('a', {
    class: 'btn btn-small dial-link',
    text: label ?? `発信 ${fmtPhone(phone)}`,
    attrs: { href, title: href.startsWith('dialpad:') ? 'Dialpad で発信' : '電話をかける' },
  });
}

/** Fills `node` with a 発信 link per number (the 顧客 page); the store decides the caller ID. */
export async function renderDialLinks(node, phones, storeId, customerId = null) {
  let settings = null;
  try {
    settings = (await loadFrontDesk()).settings;
  } catch {
    /* tel: links without settings */
  }
  node.replaceChildren(
    ...(phones ?? []).map((p) => dialLink(p, storeId, settings, { customerId })).filter(Boolean),
  );
  node.hidden = node.childElementCount === 0;
}

// ---------------------------------------------------------------------------------------------
// 折り返し count in the nav

let countSeq = 0;

/** The nav's 折り返し link (none on the popup). */
const callbacksLink = () =>
  /** @type {HTMLAnchorElement | null} */ (
    document.querySelector('.topnav a[href="/admin/callbacks.html"]')
  );

/** Shows `n` open callbacks on the nav's 折り返し link. */
export function showCallbackCount(n) {
  const link = callbacksLink();
  if (!link) return;
  /** @type {HTMLElement} */
  let badge = link.querySelector('.nav-count');
  if (!badge) {
    badge = el('span', {
      class: 'nav-count',
      attrs: { id: 'callback-count', 'aria-label': '未完了の折り返し（未対応・対応中）' },
    });
    link.append(badge);
  }
  badge.textContent = String(n);
  badge.hidden = !(n > 0);
  link.dataset.open = String(n);
}

/** Shows `n` overdue callbacks (past their due time) in red beside the open count. */
export function showOverdueCount(n) {
  const link = callbacksLink();
  if (!link) return;
  /** @type {HTMLElement} */
  let badge = link.querySelector('.nav-overdue');
  if (!badge) {
    badge = el('span', { class: 'nav-overdue', attrs: { id: 'callback-overdue' } });
    link.append(badge);
  }
  badge.textContent = `期限切れ ${n}`;
  badge.setAttribute('aria-label', `期限切れの折り返し ${n}件`);
  badge.hidden = !(n > 0);
  link.dataset.overdue = String(n);
}

/** Reloads the open count (after login, and whenever the hub says it changed). */
export async function refreshCallbackCount() {
  const seq = ++countSeq;
  try {
    const { open, overdue } = await api('/api/callbacks/count');
    if (seq === countSeq) {
      showCallbackCount(Number(open) || 0);
      showOverdueCount(Number(overdue) || 0);
    }
  } catch {
    /* cosmetic */
  }
}
