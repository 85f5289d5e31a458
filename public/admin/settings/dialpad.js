// @ts-check
// 設定 → Dialpad 連携 (admin): which Dialpad features are on (each off until the API key is
// configured and switched on here), recording privacy, 用件 / 対応結果 → call labels, and the
// contacts sync's progress (synced / waiting / refused, last error, time left), a full resync
// and the gap filler's last run. Says before the sync is switched on that Dialpad contacts
// are company-wide.
import { $, el, setChildren, setStatusLine } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { handleAuthError } from '../lib/page.js';
import { TEXT } from '../lib/messages.js';
import { fmtDateTime } from '../lib/format.js';
import { LIMITS } from '../lib/limits.js';

const ui = {
  form: $('#dialpad-form'),
  key: $('#dialpad-key-state'),
  labels: $('#dialpad-label-list'),
  privacy: $('#dialpad-privacy'),
  error: $('#dialpad-error'),
  status: $('#dialpad-status'),
  save: $('#dialpad-save'),
  progress: $('#dialpad-progress'),
  refused: $('#dialpad-refused'),
  resync: $('#dialpad-resync'),
  retry: $('#dialpad-retry'),
  gap: $('#dialpad-gap'),
};

const SWITCHES = ['contactsSync', 'gapFill', 'labels', 'clickToCall', 'recordings'];
const state = { categories: [], outcomes: [], timer: null };

function labelRow(kind, value, label) {
  return el(
    'li',
    { class: 'settings-row' },
    el(
      'label',
      { class: 'field' },
      el('span', {
        class: 'field-label',
        text: `ラベル（${kind === 'category' ? '用件' : '対応結果'}: ${value}）`,
      }),
      el('input', {
        attrs: {
          type: 'text',
          name: 'dialpad-label',
          maxlength: LIMITS['dialpad.label'],
          value: label ?? '',
          autocomplete: 'off',
        },
        dataset: { kind, value },
      }),
    ),
  );
}

function fmtDuration(secs) {
  if (!secs) return 'なし';
  if (secs < 60) return `約${secs}秒`;
  if (secs < 3600) return `約${Math.ceil(secs / 60)}分`;
  return `約${Math.floor(secs / 3600)}時間${Math.ceil((secs % 3600) / 60)}分`;
}

function renderSync(sync, gap) {
  const row = (k, v) => [el('dt', { text: k }), el('dd', { text: v })];
  if (!sync) {
    setChildren(ui.progress, row('状態', '同期は行われていません'));
  } else {
    setChildren(
      ui.progress,
      row('同期済み', `${sync.synced}件`),
      row('待機中', `${sync.waiting}件`),
      row('受け付けられなかった項目', `${sync.refused}件`),
      row('残り時間の目安', fmtDuration(sync.estimateSeconds)),
      row(
        '最後のエラー',
        sync.lastError ? `${sync.lastError}（${fmtDateTime(sync.lastErrorAt)}）` : 'なし',
      ),
    );
    setChildren(
      ui.refused,
      (sync.refusedItems ?? []).map((r) => el('li', { text: `${r.key}: ${r.reason ?? ''}` })),
    );
  }
  ui.gap.textContent = gap?.lastRun
    ? `最後の実行: ${fmtDateTime(gap.lastRun)}、補完した着信 ${gap.filled}件（うち不在 ${gap.missed}件、累計 ${gap.totalFilled}件）${gap.lastError ? `、エラー: ${gap.lastError}` : ''}`
    : 'まだ実行されていません';
  clearTimeout(state.timer);
  if (sync?.waiting > 0) state.timer = setTimeout(refresh, 5000);
}

function render(body) {
  const s = body.settings;
  ui.key.textContent = body.configured
    ? 'Dialpad の API キーは設定済みです。使う機能を選んで保存してください。'
    : 'Dialpad の API キー（DIALPAD_API_KEY）が設定されていないため、Dialpad 連携は使えません（README の「Dialpad の API」を参照）。';
  for (const name of SWITCHES) {
    const box = ui.form.elements[name];
    box.checked = Boolean(s[name]);
    box.disabled = !body.configured;
  }
  ui.privacy.value = s.recordingPrivacy;
  setChildren(
    ui.labels,
    state.categories.map((c) => labelRow('category', c, s.categoryLabels?.[c])),
    state.outcomes.map((o) => labelRow('outcome', o, s.outcomeLabels?.[o])),
  );
  ui.save.disabled = !body.configured;
  ui.resync.disabled = !body.configured || !s.contactsSync;
  ui.retry.disabled = !body.configured || !(body.sync?.refused > 0);
  renderSync(body.sync, body.gapFill);
}

function read() {
  const out = { categoryLabels: {}, outcomeLabels: {}, recordingPrivacy: ui.privacy.value };
  for (const name of SWITCHES) out[name] = ui.form.elements[name].checked;
  for (const input of ui.labels.querySelectorAll('input[name="dialpad-label"]')) {
    const v = input.value.trim();
    if (!v) continue;
    (input.dataset.kind === 'category' ? out.categoryLabels : out.outcomeLabels)[
      input.dataset.value
    ] = v;
  }
  return out;
}

function fail(e) {
  if (handleAuthError(e)) return;
  setStatusLine(ui.status, '', null);
  ui.error.textContent = TEXT.saveFailed(e.message);
  ui.error.hidden = false;
}

async function refresh() {
  try {
    render(await api('/api/settings/dialpad'));
  } catch (e) {
    if (!handleAuthError(e)) clearTimeout(state.timer);
  }
}

ui.form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  ui.error.hidden = true;
  const next = read();
  ui.save.disabled = true;
  setStatusLine(ui.status, TEXT.saving, 'pending');
  try {
    render(await api('/api/settings/dialpad', { method: 'PUT', body: next }));
    setStatusLine(ui.status, TEXT.saved, 'ok');
  } catch (e) {
    fail(e);
  } finally {
    ui.save.disabled = false;
  }
});

async function act(path, done) {
  ui.error.hidden = true;
  try {
    await api(path, { method: 'POST' });
    setStatusLine(ui.status, done, 'ok');
    await refresh();
  } catch (e) {
    fail(e);
  }
}
ui.resync.addEventListener('click', () => act('/api/dialpad/sync', '全件の同期を始めました'));
ui.retry.addEventListener('click', () =>
  act('/api/dialpad/sync/retry', '受け付けられなかった項目を再送します'),
);

/** Shows the card to admins, with the 用件 list and 対応結果 of the front desk's settings. */
export async function initDialpad({ admin, categories, outcomes }) {
  if (!admin) return;
  state.categories = categories ?? [];
  state.outcomes = outcomes ?? [];
  try {
    render(await api('/api/settings/dialpad'));
    ui.form.hidden = false;
  } catch (e) {
    handleAuthError(e);
  }
}
