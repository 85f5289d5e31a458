// @ts-check
// 折り返し: one item opened — its calls (each with its wrap-up: 用件, 対応結果, note, who), its
// attempts (result, note, who, when), the buttons that move it (対応中にする, 対応済にする,
// 担当にする) and the form that logs an attempt (結果, メモ, 記録する).
import { $, el, setChildren, setStatusLine } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { fmtDateTime, fmtPhone } from '../lib/format.js';
import { phaseLabel, stateBadge } from '../lib/calls.js';
import { handleAuthError } from '../lib/page.js';
import { TEXT } from '../lib/messages.js';
import { STATUS_LABELS, statusButtons, ownerButton, customerCell, refresh } from '../callbacks.js';

const ui = {
  section: $('#cb-detail'),
  title: $('#cb-detail-title'),
  summary: $('#cb-detail-summary'),
  note: $('#cb-detail-note'),
  actions: $('#cb-detail-actions'),
  calls: $('#cb-detail-calls'),
  attempts: $('#cb-detail-attempts'),
  noAttempts: $('#cb-detail-no-attempts'),
  form: $('#cb-attempt-form'),
  result: $('#cb-attempt-result'),
  attemptNote: $('#cb-attempt-note'),
  save: $('#cb-attempt-save'),
  status: $('#cb-attempt-status'),
  close: $('#cb-detail-close'),
};

const detail = { id: null, seq: 0 };

/** The id of the item on screen (null: none). */
export function detailId() {
  return detail.id;
}

function wrapupLine(call) {
  if (!call.wrapupCategory && !call.wrapupOutcome && !call.wrapupNote)
    return el('div', { class: 'muted small', text: '対応記録なし' });
  return el(
    'div',
    { class: 'cb-wrapup small' },
    el('span', { text: `用件: ${call.wrapupCategory || '—'}` }),
    ' / ',
    el('span', { text: `対応結果: ${call.wrapupOutcome || '—'}` }),
    call.wrapupNote ? el('div', { class: 'cb-wrapup-note', text: call.wrapupNote }) : null,
    call.wrapupBy
      ? el('div', {
          class: 'muted',
          text: `記録: ${call.wrapupBy}${call.wrapupAt ? ` ${fmtDateTime(call.wrapupAt)}` : ''}`,
        })
      : null,
  );
}

function callItem(call, closedBy) {
  return el(
    'li',
    { class: 'cb-call', dataset: { callId: call.id } },
    el(
      'div',
      {},
      el('span', { class: 'nowrap', text: fmtDateTime(call.startedAt) }),
      ' ',
      stateBadge(call.phase, phaseLabel(call.phase, call.direction)),
      ' ',
      el('span', { class: 'muted small', text: call.storeName ?? '' }),
      closedBy === call.id
        ? el('span', { class: 'cb-status cb-status-done', text: 'この着信で完了' })
        : null,
    ),
    wrapupLine(call),
  );
}

function attemptItem(a) {
  return el(
    'li',
    { class: 'cb-attempt' },
    el('strong', { text: a.result }),
    ' ',
    el('span', { class: 'muted small', text: `${a.byName} ${fmtDateTime(a.at)}` }),
    a.note ? el('div', { class: 'cb-attempt-note', text: a.note }) : null,
  );
}

function render({ callback: cb, calls, attempts }) {
  setChildren(
    ui.title,
    el('span', { class: 'mono', text: fmtPhone(cb.phone) }),
    ' ',
    customerCell(cb),
  );
  ui.summary.textContent = [
    cb.storeName ?? '店舗不明',
    STATUS_LABELS[cb.status] ?? cb.status,
    `担当: ${cb.assigneeName ?? 'なし'}`,
    `登録 ${fmtDateTime(cb.createdAt)}`,
  ].join(' ・ ');
  ui.note.hidden = !cb.note;
  ui.note.textContent = cb.note ?? '';
  if (cb.note && cb.closedByCall) {
    const by = calls.find((c) => c.id === cb.closedByCall);
    ui.note.textContent = by ? `${cb.note}（着信 ${fmtDateTime(by.startedAt)}）` : cb.note;
  }
  setChildren(ui.actions, statusButtons(cb), ownerButton(cb));
  setChildren(
    ui.calls,
    calls.map((c) => callItem(c, cb.closedByCall)),
  );
  setChildren(ui.attempts, attempts.map(attemptItem));
  ui.noAttempts.hidden = attempts.length > 0;
  ui.section.dataset.id = String(cb.id);
  ui.section.dataset.status = cb.status;
  ui.section.hidden = false;
}

async function load(id) {
  const seq = ++detail.seq;
  let data;
  try {
    data = await api(`/api/callbacks/${encodeURIComponent(id)}`);
  } catch (e) {
    if (seq !== detail.seq || handleAuthError(e)) return;
    if (e.status === 404) {
      closeDetail();
      return;
    }
    setStatusLine(ui.status, TEXT.loadFailed('折り返し', e.message), 'error');
    return;
  }
  if (seq !== detail.seq || detail.id !== id) return;
  render(data);
}

/** Opens an item below the list. */
export async function openDetail(id) {
  const changed = detail.id !== id;
  detail.id = id;
  for (const row of /** @type {NodeListOf<HTMLTableRowElement>} */ (
    document.querySelectorAll('#cb-body tr')
  ))
    row.classList.toggle('cb-row-open', Number(row.dataset.id) === id);
  if (changed) {
    ui.form.reset();
    setStatusLine(ui.status, '', '');
  }
  await load(id);
  if (changed) ui.section.scrollIntoView({ block: 'nearest' });
}

/** Reloads the open item (after a change here or a `callbacks_changed`). */
export async function reloadDetail() {
  if (detail.id !== null) await load(detail.id);
}

function closeDetail() {
  detail.id = null;
  ui.section.hidden = true;
  for (const row of document.querySelectorAll('#cb-body tr.cb-row-open'))
    row.classList.remove('cb-row-open');
}

ui.close.addEventListener('click', closeDetail);

ui.form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (detail.id === null) return;
  ui.save.disabled = true;
  setStatusLine(ui.status, TEXT.saving, 'pending');
  try {
    await api(`/api/callbacks/${encodeURIComponent(detail.id)}/attempts`, {
      method: 'POST',
      body: { result: ui.result.value, note: ui.attemptNote.value },
    });
  } catch (e) {
    if (!handleAuthError(e)) setStatusLine(ui.status, TEXT.saveFailed(e.message), 'error');
    return;
  } finally {
    ui.save.disabled = false;
  }
  ui.attemptNote.value = '';
  setStatusLine(ui.status, '記録しました', 'ok');
  await refresh();
});
