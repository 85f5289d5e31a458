// @ts-check
// 設定 → フリー項目 (admin): the business's own customer fields. Each has a name, a kind (text,
// number, date, one of a list, yes/no), the stores it applies to (all, or one), whether the
// popup's card shows it and in what order, and who may edit it (管理者のみ / スタッフも).
import { $, el, setChildren, setStatusLine } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { handleAuthError } from '../lib/page.js';
import { LIMITS } from '../lib/limits.js';

const KINDS = {
  text: 'テキスト',
  number: '数値',
  date: '日付',
  choice: '選択肢から1つ',
  yesno: 'はい／いいえ',
};
const state = { stores: [], fields: [] };
const ui = {};

function storeSelect(value, label) {
  return el(
    'select',
    { attrs: { name: 'cf-store', 'aria-label': label } },
    el('option', { text: 'すべての店舗', attrs: { value: '' } }),
    state.stores.map((s) =>
      el('option', { text: s.name, attrs: { value: String(s.id), selected: value === s.id } }),
    ),
  );
}

function editSelect(staffEdit, label) {
  return el(
    'select',
    { attrs: { name: 'cf-edit', 'aria-label': label } },
    el('option', { text: 'スタッフも編集できる', attrs: { value: 'staff', selected: staffEdit } }),
    el('option', { text: '管理者のみ編集できる', attrs: { value: 'admin', selected: !staffEdit } }),
  );
}

function field(label, control) {
  return el(
    'label',
    { class: 'field' },
    el('span', { class: 'field-label', text: label }),
    control,
  );
}

/** The values of one row's controls, as the API takes them. */
function read(row) {
  const q = (name) => row.querySelector(`[name="${name}"]`);
  const store = q('cf-store').value;
  return {
    label: q('cf-label').value,
    options: q('cf-options') ? q('cf-options').value.split('\n') : undefined,
    storeId: store ? Number(store) : null,
    onCard: q('cf-card').checked,
    position: Number(q('cf-position').value || 0),
    staffEdit: q('cf-edit').value === 'staff',
  };
}

async function send(path, method, body, status) {
  setStatusLine(status, '保存中…', 'pending');
  try {
    const r = await api(path, { method, body });
    state.fields = r.fields ?? state.fields.filter((f) => `/api/custom-fields/${f.id}` !== path);
    render();
    setStatusLine(ui.status, method === 'DELETE' ? '削除しました' : '保存しました', 'ok');
  } catch (e) {
    if (handleAuthError(e)) return;
    setStatusLine(status, e.message, 'error');
  }
}

function optionsArea(f, name) {
  return field(
    `選択肢（1行に1つ）`,
    el('textarea', {
      attrs: { name: 'cf-options', rows: 3, 'aria-label': `${name}の選択肢` },
      text: (f?.options ?? []).join('\n'),
    }),
  );
}

function fieldRow(f) {
  const status = el('p', { class: 'status-line', attrs: { role: 'status' } });
  const row = el(
    'li',
    { class: 'settings-row', dataset: { fieldId: f.id } },
    field(
      '項目名',
      el('input', {
        attrs: {
          type: 'text',
          name: 'cf-label',
          value: f.label,
          maxlength: LIMITS['custom_field.label'],
          autocomplete: 'off',
        },
      }),
    ),
    el('p', { class: 'hint', text: `種類: ${KINDS[f.kind] ?? f.kind}` }),
    f.kind === 'choice' ? optionsArea(f, f.label) : null,
    field('対象店舗', storeSelect(f.storeId, `${f.label}の対象店舗`)),
    el(
      'label',
      { class: 'check' },
      el('input', { attrs: { type: 'checkbox', name: 'cf-card', checked: f.onCard } }),
      ' ポップアップのカードに表示',
    ),
    field(
      '表示順',
      el('input', {
        attrs: { type: 'number', name: 'cf-position', min: 0, max: 10000, value: f.position },
      }),
    ),
    field('編集できる人', editSelect(f.staffEdit, `${f.label}を編集できる人`)),
    el('button', {
      class: 'btn btn-small',
      text: '保存',
      attrs: { type: 'button', 'aria-label': `${f.label}を保存` },
      on: { click: () => send(`/api/custom-fields/${f.id}`, 'PATCH', read(row), status) },
    }),
    el('button', {
      class: 'btn btn-small btn-danger',
      text: '削除',
      attrs: { type: 'button', 'aria-label': `${f.label}を削除` },
      on: { click: () => send(`/api/custom-fields/${f.id}`, 'DELETE', undefined, status) },
    }),
    status,
  );
  return row;
}

function render() {
  setChildren(ui.list, state.fields.map(fieldRow));
  ui.empty.hidden = state.fields.length > 0;
}

function addForm() {
  const status = el('p', { class: 'status-line', attrs: { role: 'status' } });
  const kind = el(
    'select',
    { attrs: { name: 'cf-kind' } },
    Object.entries(KINDS).map(([v, t]) => el('option', { text: t, attrs: { value: v } })),
  );
  const options = optionsArea(null, '新しい項目');
  options.hidden = true;
  kind.addEventListener('change', () => {
    options.hidden = kind.value !== 'choice';
  });
  const row = el(
    'div',
    { class: 'settings-row' },
    field(
      '新しい項目の名前',
      el('input', {
        attrs: {
          type: 'text',
          name: 'cf-label',
          maxlength: LIMITS['custom_field.label'],
          autocomplete: 'off',
        },
      }),
    ),
    field('種類', kind),
    options,
    field('対象店舗', storeSelect(null, '新しい項目の対象店舗')),
    el(
      'label',
      { class: 'check' },
      el('input', { attrs: { type: 'checkbox', name: 'cf-card' } }),
      ' ポップアップのカードに表示',
    ),
    field(
      '表示順',
      el('input', { attrs: { type: 'number', name: 'cf-position', min: 0, max: 10000, value: 0 } }),
    ),
    field('編集できる人', editSelect(true, '新しい項目を編集できる人')),
    el('button', {
      class: 'btn btn-small',
      text: 'フリー項目を追加',
      attrs: { type: 'button' },
      on: {
        click: async () => {
          const body = { ...read(row), kind: kind.value };
          if (kind.value !== 'choice') delete body.options;
          await send('/api/custom-fields', 'POST', body, status);
          if (status.dataset.kind !== 'error') {
            row.querySelector('[name="cf-label"]').value = '';
            row.querySelector('[name="cf-options"]').value = '';
          }
        },
      },
    }),
    status,
  );
  return row;
}

/** Builds the section (admins only; staff see nothing of it). */
export async function initCustomFields({ admin, stores }) {
  const card = $('#custom-fields-card');
  if (!card || !admin) return;
  state.stores = stores ?? [];
  ui.list = el('ul', { class: 'settings-list', attrs: { 'aria-label': 'フリー項目の一覧' } });
  ui.empty = el('p', { class: 'hint', text: 'フリー項目はまだありません。' });
  ui.status = el('p', { class: 'status-line', attrs: { role: 'status', 'aria-live': 'polite' } });
  setChildren(
    card,
    el('h2', { text: 'フリー項目' }),
    el('p', {
      class: 'hint',
      text: '顧客ごとに記録する独自の項目です（指名・会員ランクなど）。カードに表示するものは着信ポップアップにも出ます。CSVでは項目名の列で読み書きします。',
    }),
    ui.empty,
    ui.list,
    el('h3', { text: 'フリー項目を追加' }),
    addForm(),
    ui.status,
  );
  try {
    state.fields = (await api('/api/custom-fields')).fields;
    render();
    card.hidden = false;
  } catch (e) {
    if (handleAuthError(e)) return;
    setStatusLine(ui.status, e.message, 'error');
    card.hidden = false;
  }
}
