// @ts-check
// The popup's front desk: pinned notes (注意 / 苦情, however old: one line each, opened in
// place), who answered and which line rang, the next steps (詳細を見る, 全履歴, the admin's
// action buttons, click-to-call) and the call's wrap-up (用件, 対応結果, メモ) docked at the
// bottom (Alt+W focuses 用件), whose half-typed input survives a reload (kept by lib/drafts.js
// under the call's id until it is saved); 対応中: <name> when someone claims the call.
import { $, el, setChildren, setStatusLine } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { fmtPhone, fmtDateTime } from '../lib/format.js';
import { noteKey } from '../lib/notes.js';
import { loadFrontDesk, expandTemplate, actionsFor, dialLink } from '../lib/front-desk.js';
import { putHandoff } from '../lib/handoff.js';
import { readDraft as readCallDraft, writeDraft, removeDraft } from '../lib/drafts.js';
import { TEXT } from '../lib/messages.js';
import { refreshHours, wrapupRequired } from '../lib/hours.js';

/** Note types pinned above everything (and so left out of the popup's ノート list). */
export const PINNED_TYPES = new Set(['注意', '苦情']);

const ui = {
  pinned: $('#pinned-notes'),
  pinnedList: $('#pinned-list'),
  callInfo: $('#call-info'),
  answeredBy: $('#answered-by'),
  line: $('#call-line'),
  steps: $('#next-steps'),
  stepLinks: $('#next-step-links'),
  wrapup: $('#wrapup'),
  form: $('#wrapup-form'),
  category: $('#wrapup-category'),
  outcome: $('#wrapup-outcome'),
  note: $('#wrapup-note'),
  save: $('#wrapup-save'),
  status: $('#wrapup-status'),
  required: $('#wrapup-required'),
  claimedBy: $('#claimed-by'),
};

const fd = {
  callId: null,
  settings: null,
  caller: null,
  call: null,
  saved: null,
  // The wrap-up's version as read (0: none yet); a save names it, a stale one is a 409.
  version: 0,
  pinnedFor: undefined,
  pinned: [],
};

/** This call's half-typed wrap-up (lib/drafts.js: dropped at logout, 401, or after a day). */
const readDraft = () => readCallDraft(fd.callId);

function formValues() {
  return { category: ui.category.value, outcome: ui.outcome.value, note: ui.note.value };
}

function fillOptions(select, values, current) {
  const list = [...values];
  if (current && !list.includes(current)) list.push(current); // a category since removed
  setChildren(
    select,
    el('option', { text: '（未選択）', attrs: { value: '' } }),
    list.map((v) => el('option', { text: v, attrs: { value: v } })),
  );
  select.value = current ?? '';
}

function fillWrapup(values) {
  fillOptions(ui.category, fd.settings?.settings?.categories ?? [], values?.category ?? '');
  fillOptions(ui.outcome, fd.settings?.outcomes ?? [], values?.outcome ?? '');
  ui.note.value = values?.note ?? '';
}

function savedValues(call) {
  return call
    ? {
        category: call.wrapupCategory ?? '',
        outcome: call.wrapupOutcome ?? '',
        note: call.wrapupNote ?? '',
      }
    : null;
}

function renderCallInfo() {
  const c = fd.call;
  if (!c) return;
  ui.answeredBy.textContent = c.answeredBy || (c.phase === 'ringing' ? '—（呼出中）' : '—');
  ui.line.textContent =
    [c.dialled ? fmtPhone(c.dialled) : null, c.storeName ? `（${c.storeName}）` : null]
      .filter(Boolean)
      .join(' ') || '不明';
  ui.callInfo.hidden = false;
}

async function loadCall({ wrapup = false } = {}) {
  if (!fd.callId) return;
  let data;
  try {
    data = await api(`/api/calls/wrapup?callId=${encodeURIComponent(fd.callId)}`);
  } catch {
    return; // the call may not be visible (yet); the rest of the popup works
  }
  fd.call = data.call;
  renderCallInfo();
  if (wrapup) {
    fd.saved = savedValues(fd.call);
    fd.version = fd.call.wrapupVersion ?? 0;
    const draft = readDraft();
    fillWrapup(draft ?? fd.saved);
    if (draft) setStatusLine(ui.status, '未保存の入力があります', 'pending');
    else if (fd.call.wrapupBy) setStatusLine(ui.status, `保存済み（${fd.call.wrapupBy}）`, 'ok');
  }
  renderRequired();
}

/**
 * 用件の入力が必要 (the store's rule, on 店舗): an answered call whose wrap-up has no 用件 yet.
 * A reminder, never a trap: an in-page notice, and the browser's "leave this page?" prompt.
 */
function wrapupMissing() {
  const c = fd.call;
  return Boolean(c?.connectedAt && wrapupRequired(c.storeId) && !fd.saved?.category);
}

function renderRequired() {
  ui.required.hidden = !wrapupMissing();
}

window.addEventListener('beforeunload', (ev) => {
  if (!wrapupMissing()) return;
  ev.preventDefault();
  ev.returnValue = '';
});

/** 着信履歴 of an unregistered number: the number is handed over, never put in the address. */
function historyOfNumber(phone) {
  const token = putHandoff(phone);
  return token ? `/admin/calls.html?h=${token}` : '/admin/calls.html';
}

function renderSteps() {
  const c = fd.caller;
  if (!c?.phone) {
    ui.steps.hidden = true;
    return;
  }
  const s = fd.settings?.settings;
  const storeId = c.store?.id ?? null;
  const customer = c.customer;
  const values = {
    phone: c.phone,
    customerId: customer?.id ?? null,
    customerName: customer?.name ?? '',
    store: c.store?.name ?? '',
    callId: fd.callId ?? '',
  };
  const link = (text, href, cls = 'btn btn-small') =>
    el('a', { class: cls, text, attrs: { href, target: '_blank', rel: 'noopener noreferrer' } });
  setChildren(
    ui.stepLinks,
    customer
      ? link('詳細を見る', `/admin/customers.html?id=${encodeURIComponent(customer.id)}`)
      : null,
    link(
      '全履歴',
      customer
        ? `/admin/calls.html?customer=${encodeURIComponent(customer.id)}`
        : historyOfNumber(c.phone),
    ),
    actionsFor(s, storeId).map((a) => {
      const href = expandTemplate(a.url, values);
      return href ? link(a.label, href, 'btn btn-small btn-primary action-link') : null;
    }),
    dialLink(c.phone, storeId, s, { label: '発信', customerId: customer?.id }),
  );
  ui.steps.hidden = false;
}

async function renderPinned(customer) {
  const id = customer?.id ?? null;
  if (fd.pinnedFor === id) return;
  fd.pinnedFor = id;
  if (id === null) {
    ui.pinned.hidden = true;
    return;
  }
  let notes = [];
  try {
    notes = (await api(`/api/customers/${encodeURIComponent(id)}/notes`)).notes ?? [];
  } catch {
    /* optional */
  }
  if (fd.pinnedFor !== id) return;
  fd.pinned = notes.filter((n) => PINNED_TYPES.has(n.noteType));
  showPinned();
}

/** A pinned note in one line (type and the start of its text); opened, the whole of it. */
function pinnedItem(note) {
  const key = noteKey(note.noteType);
  return el(
    'li',
    {
      class: ['pinned-note', `note-${key}`],
      dataset: { type: note.noteType ?? '', noteId: note.id ?? '' },
    },
    el(
      'details',
      {},
      el(
        'summary',
        { class: 'pinned-summary' },
        el('span', { class: ['note-type', `note-type-${key}`], text: note.noteType }),
        el('span', { class: 'pinned-line', text: note.body ?? '' }),
      ),
      el('p', { class: 'pinned-body', text: note.body ?? '' }),
      el('p', {
        class: 'note-meta',
        text: [note.authorName, note.createdAt ? fmtDateTime(note.createdAt) : null]
          .filter(Boolean)
          .join(' · '),
      }),
    ),
  );
}

function showPinned() {
  setChildren(ui.pinnedList, fd.pinned.map(pinnedItem));
  ui.pinned.hidden = fd.pinned.length === 0;
}

/** A 注意 / 苦情 note was just added to the customer on screen: pinned at once. */
export function addPinnedNote(note, customerId) {
  if (!PINNED_TYPES.has(note?.noteType) || fd.pinnedFor !== customerId) return;
  fd.pinned = [note, ...fd.pinned];
  showPinned();
}

/** `call_claimed` for this call: 対応中: <name>, live, in every popup of the call. */
export function showClaim(by) {
  ui.claimedBy.textContent = by ? `対応中: ${by}` : '';
}

/**
 * `call_wrapup` for this call: someone saved its wrap-up. The form shows what was saved unless
 * this user has unsaved input in it (their draft stays; their save meets the saved record).
 */
export async function onWrapupSaved(msg) {
  showClaim('');
  if (readDraft()) return;
  const shown = JSON.stringify(formValues());
  await loadCall();
  if (readDraft() || !fd.call) return;
  const saved = savedValues(fd.call);
  // This popup's own save (or nothing new): the form and its 保存しました stay as they are.
  if (JSON.stringify(saved) === shown) return;
  fd.saved = saved;
  fillWrapup(saved);
  renderRequired();
  const by = fd.call.wrapupBy ?? msg.by;
  if (by) setStatusLine(ui.status, `保存済み（${by}）`, 'ok');
}

/** The popup tells us who is on the line (after the lookup, a pick or a registration). */
export function setCaller({ phone, customer = null, store = null }) {
  fd.caller = { phone, customer, store };
  renderSteps();
  renderPinned(customer);
}

let lastPhase = null;
/** A live message of this call: who answered and the line follow it. */
export function onCallMessage(msg) {
  if (msg.phase === lastPhase) return;
  lastPhase = msg.phase;
  if (fd.call) {
    fd.call = { ...fd.call, phase: msg.phase };
    renderCallInfo();
  }
  if (msg.phase === 'connected' || msg.phase === 'ended') loadCall();
}

ui.form.addEventListener('input', () => {
  writeDraft(fd.callId, formValues());
  setStatusLine(ui.status, '未保存の入力があります', 'pending');
});

// Two desks, one call: a save names the version it read; when someone saved first, their
// text and name are shown with 上書きする (save mine over theirs) and 最新を読み込む.
let conflictBox = null;
function clearConflict() {
  conflictBox?.remove();
  conflictBox = null;
}

function showConflict(current) {
  clearConflict();
  const who = current?.by || '不明';
  conflictBox = el(
    'div',
    { class: 'wrapup-conflict', attrs: { role: 'alert' } },
    el('p', { text: `他の人（${who}）が先に保存しました` }),
    el('p', {
      class: 'small',
      text: `用件: ${current?.category || '—'} / 対応結果: ${current?.outcome || '—'}`,
    }),
    current?.note ? el('p', { class: 'wrapup-conflict-note', text: current.note }) : null,
    el('button', {
      class: 'btn btn-small',
      text: '上書きする',
      attrs: { type: 'button' },
      on: {
        click: () => {
          fd.version = current?.version ?? fd.version;
          clearConflict();
          ui.form.requestSubmit();
        },
      },
    }),
    ' ',
    el('button', {
      class: 'btn btn-small',
      text: '最新を読み込む',
      attrs: { type: 'button' },
      on: {
        click: () => {
          fd.version = current?.version ?? fd.version;
          fd.saved = {
            category: current?.category ?? '',
            outcome: current?.outcome ?? '',
            note: current?.note ?? '',
          };
          removeDraft(fd.callId);
          fillWrapup(fd.saved);
          clearConflict();
          setStatusLine(ui.status, `保存済み（${who}）`, 'ok');
        },
      },
    }),
  );
  ui.status.after(conflictBox);
}

ui.form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  ui.save.disabled = true;
  setStatusLine(ui.status, TEXT.saving, 'pending');
  try {
    const { wrapup } = await api('/api/calls/wrapup', {
      method: 'PUT',
      body: { callId: fd.callId, ...formValues(), version: fd.version },
    });
    removeDraft(fd.callId);
    fd.saved = wrapup;
    fd.version = wrapup.version;
    renderRequired();
    clearConflict();
    setStatusLine(ui.status, `${TEXT.saved}（${wrapup.updatedBy}）`, 'ok');
  } catch (e) {
    if (e.status === 409 && e.code === 'version_conflict') {
      setStatusLine(ui.status, '保存していません（他の人の記録があります）', 'error');
      showConflict(e.details?.current);
    } else {
      setStatusLine(ui.status, TEXT.saveFailed(e.message), 'error');
    }
  } finally {
    ui.save.disabled = false;
  }
});

// Alt+W: to 用件 of the docked 対応記録, from anywhere in the popup.
document.addEventListener('keydown', (ev) => {
  if (!ev.altKey || ev.ctrlKey || ev.metaKey || ev.code !== 'KeyW' || ui.wrapup.hidden) return;
  ev.preventDefault();
  ui.category.focus();
});

/** Starts the front desk for the popup's call (null: a number opened without a call). */
export async function initFrontDesk(callId) {
  fd.callId = callId;
  try {
    fd.settings = await loadFrontDesk();
  } catch {
    fd.settings = null;
  }
  renderSteps();
  if (callId) {
    await refreshHours({ force: true });
    fillWrapup(readDraft());
    ui.wrapup.hidden = false;
    await loadCall({ wrapup: true });
  }
}
