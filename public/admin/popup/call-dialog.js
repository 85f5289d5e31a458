// @ts-check
// 着信の詳細: one call of the number (a history row or a 前回までの対応 item, opened with a click
// or the keyboard) in a modal dialog: when, store, line, who answered, how long, its phase and
// its wrap-up. Shown at once from what the popup has, then from the call log (the call's own
// read, `GET /api/calls/wrapup`). Esc or 閉じる closes it and focus goes back to the opener.
import { $, el, setChildren } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { fmtDateTime, fmtDuration, fmtPhone } from '../lib/format.js';
import { phaseLabel } from '../lib/calls.js';
import { callDetails, hasDetails } from '../lib/call-details.js';

const ui = {
  dialog: $('#call-dialog'),
  body: $('#call-dialog-body'),
  close: $('#call-dialog-close'),
};

let shown = null;
let opener = null;

const fact = (label, value) => [el('dt', { text: label }), el('dd', { text: value || '—' })];

function render(c) {
  const wrapped = c.wrapupCategory || c.wrapupOutcome || c.wrapupNote;
  setChildren(
    ui.body,
    el(
      'dl',
      { class: 'call-facts' },
      fact('日時', fmtDateTime(c.startedAt)),
      fact('店舗', c.storeName ?? '不明'),
      fact('着信回線', c.dialled ? fmtPhone(c.dialled) : ''),
      fact('応対者', c.answeredBy),
      fact('通話時間', c.durationMs ? fmtDuration(c.durationMs) : ''),
      fact('状態', c.phase ? phaseLabel(c.phase, c.direction) : ''),
    ),
    el('h3', { class: 'call-dialog-sub', text: '対応記録' }),
    wrapped
      ? el(
          'dl',
          { class: 'call-facts call-wrapup' },
          fact('用件', c.wrapupCategory),
          fact('対応結果', c.wrapupOutcome),
          fact('対応メモ', c.wrapupNote),
          fact('記録者', c.wrapupBy),
        )
      : el('p', { class: 'muted', text: '対応記録はありません' }),
    hasDetails(c) ? callDetails(c) : null,
  );
}

/** Opens the dialog for `call` (a call-log entry, or as much of one as is known). */
export async function openCall(call, from) {
  opener = from ?? document.activeElement;
  shown = call.id;
  render(call);
  if (!ui.dialog.open) ui.dialog.showModal();
  try {
    const { call: full } = await api(`/api/calls/wrapup?callId=${encodeURIComponent(call.id)}`);
    if (shown === call.id && ui.dialog.open && full) render(full);
  } catch {
    /* what the popup had stays shown */
  }
}

ui.close.addEventListener('click', () => ui.dialog.close());
ui.dialog.addEventListener('close', () => {
  shown = null;
  if (opener?.isConnected) opener.focus();
  opener = null;
});
