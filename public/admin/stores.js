// @ts-check
// 店舗: the stores and their number prefixes; admins add, edit and delete them. Everyone can
// check which store a dialled number reaches.
import './lib/header.js';
import './lib/form-parts.js'; // before the forms are looked up
import { $, el, setChildren, setStatusLine } from './lib/dom.js';
import { api } from './lib/api.js';
import { fmtPhone } from './lib/format.js';
import { loadStores } from './lib/stores.js';
import { startPage, handleAuthError, showPageError, whileSaving } from './lib/page.js';
import { TEXT } from './lib/messages.js';
import { recordTable } from './lib/record-table.js';
import { LIMITS } from './lib/limits.js';

/** Splits "a, b c\nd" into ["a", "b", "c", "d"] (commas, 、, spaces, new lines). */
function splitList(text) {
  return String(text ?? '')
    .split(/[\s,、，;；]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const list = recordTable($('[data-record-table]'), {
  id: 'store',
  columns: ['店舗名', 'プレフィックス', { text: '操作', class: 'num', adminOnly: true }],
  emptyText: '店舗はまだありません',
});

const ui = {
  view: $('#page-view'),
  body: list.body,
  count: $('#store-count'),
  empty: list.empty,
  error: $('#store-error'),
  addForm: $('#add-form'),
  addName: $('#add-name'),
  addPrefixes: $('#add-prefixes'),
  addOffice: $('#add-office'),
  addError: $('#add-error'),
  addStatus: $('#add-status'),
  addSubmit: $('#add-submit'),
  resolveForm: $('#resolve-form'),
  resolveNumber: $('#resolve-number'),
  resolveResult: $('#resolve-result'),
};

const state = { user: null, stores: [], editing: null };
const isAdmin = () => state.user?.role === 'admin';

function prefixChips(prefixes) {
  if (!prefixes?.length) return el('span', { class: 'muted small', text: 'なし' });
  return el(
    'span',
    { class: 'prefix-list' },
    prefixes.map((p) => el('span', { class: 'prefix', text: p })),
  );
}

function renderRow(store) {
  const cells = [
    el('td', { class: 'store-name', text: store.name }),
    el(
      'td',
      { class: 'store-prefixes' },
      prefixChips(store.prefixes),
      store.dialpadOfficeId
        ? el('div', {
            class: 'muted small office-id',
            text: `DialpadオフィスID: ${store.dialpadOfficeId}`,
          })
        : null,
    ),
  ];
  if (isAdmin()) {
    cells.push(
      el(
        'td',
        {},
        el(
          'span',
          { class: 'row-actions' },
          el('button', {
            class: 'btn btn-small store-edit',
            text: '編集',
            attrs: { type: 'button' },
            on: { click: () => startEdit(store.id) },
          }),
          el('button', {
            class: 'btn btn-small btn-danger store-delete',
            text: '削除',
            attrs: { type: 'button' },
            on: { click: () => remove(store) },
          }),
        ),
      ),
    );
  }
  return el('tr', { class: 'store-row', dataset: { storeId: store.id, name: store.name } }, cells);
}

function renderEditRow(store) {
  const name = el('input', {
    attrs: {
      type: 'text',
      value: store.name,
      maxlength: LIMITS['store.name'],
      'aria-label': '店舗名',
    },
    class: 'edit-name',
  });
  const prefixes = el('input', {
    attrs: {
      type: 'text',
      value: (store.prefixes ?? []).join(', '),
      'aria-label': 'プレフィックス',
    },
    class: 'edit-prefixes',
  });
  const office = el('input', {
    attrs: {
      type: 'text',
      value: store.dialpadOfficeId ?? '',
      inputmode: 'numeric',
      'aria-label': 'DialpadオフィスID',
      placeholder: 'DialpadオフィスID',
    },
    class: 'edit-office',
  });
  const error = el('p', { class: 'form-error edit-error', attrs: { role: 'alert' }, hidden: true });
  const save = el('button', {
    class: 'btn btn-primary btn-small store-save',
    text: '保存',
    attrs: { type: 'submit' },
  });
  const cancel = el('button', {
    class: 'btn btn-small store-cancel',
    text: 'キャンセル',
    attrs: { type: 'button' },
    on: { click: () => stopEdit() },
  });
  const form = el('form', { attrs: { id: `store-edit-${store.id}`, novalidate: true } });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    const body = {};
    const newName = name.value.trim();
    if (!newName) {
      error.textContent = TEXT.storeNameRequired;
      error.hidden = false;
      return;
    }
    if (newName !== store.name) body.name = newName;
    const list = splitList(prefixes.value);
    if (list.join(' ') !== (store.prefixes ?? []).join(' ')) body.prefixes = list;
    const officeId = office.value.trim();
    if (officeId !== (store.dialpadOfficeId ?? '')) body.dialpadOfficeId = officeId || null;
    if (Object.keys(body).length === 0) {
      stopEdit();
      return;
    }
    await whileSaving({ button: save, error }, async () => {
      await api(`/api/stores/${encodeURIComponent(store.id)}`, { method: 'PATCH', body });
      state.editing = null;
      await refresh();
    });
  });
  // Inputs live in the cells; `form` attributes tie them to the (cell-less) form.
  name.setAttribute('form', form.id);
  prefixes.setAttribute('form', form.id);
  office.setAttribute('form', form.id);
  save.setAttribute('form', form.id);
  return el(
    'tr',
    { class: 'edit-row', dataset: { storeId: store.id } },
    el('td', {}, name),
    el('td', {}, prefixes, office, error),
    el('td', {}, form, el('span', { class: 'row-actions' }, save, cancel)),
  );
}

function render() {
  setChildren(
    ui.body,
    state.stores.map((s) => (state.editing === s.id ? renderEditRow(s) : renderRow(s))),
  );
  ui.empty.hidden = state.stores.length > 0;
  ui.count.textContent = `${state.stores.length}店舗`;
  renderHoursStores();
  if (state.editing !== null) ui.body.querySelector('.edit-name')?.focus();
}

async function refresh() {
  ui.error.hidden = true;
  try {
    state.stores = await loadStores({ fresh: true });
  } catch (e) {
    if (handleAuthError(e)) return;
    ui.error.textContent = TEXT.loadFailed('店舗', e.message);
    ui.error.hidden = false;
    return;
  }
  render();
}

function startEdit(id) {
  state.editing = id;
  render();
}

function stopEdit() {
  state.editing = null;
  render();
}

async function remove(store) {
  const ok = window.confirm(
    `店舗「${store.name}」を削除しますか？\nプレフィックスも削除され、この店舗の着信は「店舗なし」になります（顧客やアカウントがある店舗は、先に別の店舗へ移すまで削除できません）。`,
  );
  if (!ok) return;
  ui.error.hidden = true;
  try {
    await api(`/api/stores/${encodeURIComponent(store.id)}`, { method: 'DELETE' });
  } catch (e) {
    if (handleAuthError(e)) return;
    ui.error.textContent = `削除できませんでした: ${e.message}`;
    ui.error.hidden = false;
    return;
  }
  if (state.editing === store.id) state.editing = null;
  await refresh();
}

ui.addForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  ui.addError.hidden = true;
  ui.addStatus.textContent = '';
  const name = ui.addName.value.trim();
  if (!name) {
    ui.addError.textContent = TEXT.storeNameRequired;
    ui.addError.hidden = false;
    ui.addName.focus();
    return;
  }
  const prefixes = splitList(ui.addPrefixes.value);
  // prefix_conflict / store_name_taken / invalid_prefix: the server's message says which.
  await whileSaving({ button: ui.addSubmit, error: ui.addError }, async () => {
    const dialpadOfficeId = ui.addOffice.value.trim() || null;
    const res = await api('/api/stores', {
      method: 'POST',
      body: { name, prefixes, dialpadOfficeId },
    });
    ui.addName.value = '';
    ui.addPrefixes.value = '';
    ui.addOffice.value = '';
    setStatusLine(ui.addStatus, `「${res.store.name}」を追加しました`, 'ok');
    await refresh();
  });
});

ui.resolveForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const number = ui.resolveNumber.value.trim();
  ui.resolveResult.hidden = false;
  ui.resolveResult.className = 'resolve-result';
  if (!number) {
    ui.resolveResult.textContent = TEXT.phoneRequired;
    ui.resolveResult.classList.add('form-error');
    return;
  }
  ui.resolveResult.textContent = '確認中…';
  try {
    const res = await api(`/api/stores/resolve?${new URLSearchParams({ number })}`);
    if (res.prefix) {
      setChildren(
        ui.resolveResult,
        `${fmtPhone(res.number)} → `,
        el('strong', { class: 'resolve-store', text: res.store?.name ?? '不明' }),
        el(
          'span',
          { class: 'muted' },
          '（一致したプレフィックス: ',
          el('span', { class: 'prefix resolve-prefix', text: res.prefix }),
          '）',
        ),
      );
    } else {
      setChildren(
        ui.resolveResult,
        `${fmtPhone(res.number)} → `,
        el('strong', { class: 'resolve-store', text: '不明' }),
        el('span', { class: 'muted', text: '（どの店舗のプレフィックスにも一致しません）' }),
      );
    }
  } catch (e) {
    if (handleAuthError(e)) return;
    ui.resolveResult.textContent = e.message;
    ui.resolveResult.classList.add('form-error');
  }
});

// 営業時間: a store's weekly hours (one text field a day), holidays (one line a date, with
// optional special hours) and its required wrap-up. The server validates (domain::hours).
const WEEKDAYS = ['月', '火', '水', '木', '金', '土', '日'];
const hoursUi = {
  card: $('#hours-card'),
  form: $('#hours-form'),
  store: $('#hours-store'),
  days: $('#hours-days'),
  holidays: $('#hours-holidays'),
  requireWrapup: $('#hours-require-wrapup'),
  state: $('#hours-state'),
  error: $('#hours-error'),
  status: $('#hours-status'),
  submit: $('#hours-submit'),
};
const dayInputs = WEEKDAYS.map((d) =>
  el('input', {
    class: 'hours-day',
    attrs: { type: 'text', name: `day-${d}`, autocomplete: 'off', placeholder: '休み' },
  }),
);
setChildren(
  hoursUi.days,
  WEEKDAYS.map((d, i) =>
    el(
      'label',
      { class: 'field field-inline' },
      el('span', { class: 'field-label', text: `${d}曜日` }),
      dayInputs[i],
    ),
  ),
);

const rangesText = (ranges) => (ranges ?? []).map((r) => `${r.open}-${r.close}`).join(', ');
/** "10:00-14:00, 15:00-20:00" → ranges; the server says what is wrong with a bad one. */
function parseRanges(text) {
  return splitList(text.replace(/[〜～~]/g, '-')).map((part) => {
    const [open = '', close = ''] = part.split('-');
    return { open: open.trim(), close: close.trim() };
  });
}

let hoursSeq = 0;
async function loadHours({ keepStatus = false } = {}) {
  const id = hoursUi.store.value;
  const seq = ++hoursSeq;
  delete hoursUi.form.dataset.loaded;
  hoursUi.error.hidden = true;
  if (!keepStatus) setStatusLine(hoursUi.status, '', null);
  if (!id) return;
  try {
    const res = await api(`/api/stores/${encodeURIComponent(id)}/hours`);
    if (seq !== hoursSeq) return;
    const weekly = res.hours.weekly?.length === 7 ? res.hours.weekly : WEEKDAYS.map(() => []);
    weekly.forEach((ranges, i) => {
      dayInputs[i].value = rangesText(ranges);
    });
    hoursUi.holidays.value = (res.hours.holidays ?? [])
      .map((h) => [h.date, rangesText(h.ranges)].filter(Boolean).join(' '))
      .join('\n');
    hoursUi.requireWrapup.checked = !!res.requireWrapup;
    hoursUi.state.textContent = !res.configured
      ? '営業時間は未設定です（時間外になりません）'
      : res.openNow
        ? '現在: 営業中'
        : `現在: 時間外${res.nextOpening ? `（次の営業開始 ${new Date(res.nextOpening).toLocaleString('ja-JP', { timeZone: 'Asia/Tokyo' })}）` : ''}`;
    hoursUi.form.dataset.loaded = id; // the form shows this store's hours
  } catch (e) {
    showPageError(hoursUi.error, e);
  }
}

function renderHoursStores() {
  const current = hoursUi.store.value;
  setChildren(
    hoursUi.store,
    state.stores.map((s) => el('option', { text: s.name, attrs: { value: s.id } })),
  );
  if (state.stores.some((s) => String(s.id) === current)) hoursUi.store.value = current;
  hoursUi.card.hidden = state.stores.length === 0;
}

hoursUi.store.addEventListener('change', () => loadHours());
hoursUi.form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  hoursUi.error.hidden = true;
  hoursUi.status.textContent = '';
  const weekly = dayInputs.map((input) => parseRanges(input.value));
  const holidays = hoursUi.holidays.value
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [date, ...rest] = line.split(/\s+/);
      return { date, ranges: parseRanges(rest.join(' ')) };
    });
  const configured = weekly.some((d) => d.length) || holidays.length;
  await whileSaving({ button: hoursUi.submit, error: hoursUi.error }, async () => {
    await api(`/api/stores/${encodeURIComponent(hoursUi.store.value)}/hours`, {
      method: 'PUT',
      body: {
        hours: { weekly: configured ? weekly : [], holidays },
        requireWrapup: hoursUi.requireWrapup.checked,
      },
    });
    setStatusLine(hoursUi.status, '営業時間を保存しました', 'ok');
    await loadHours({ keepStatus: true });
  });
});

async function main() {
  state.user = await startPage();
  ui.view.hidden = false;
  await refresh();
  for (const input of [...dayInputs, hoursUi.holidays, hoursUi.requireWrapup])
    input.disabled = !isAdmin();
  await loadHours();
}

main();
