// @ts-check
// 設定 (admin): the popup's action buttons (URL templates, for every store or one), the 用件
// list of wrap-ups, how click-to-call dials, and 顧客の共有 (店舗ごと | チェーン共通). Staff see the settings read-only.
import './lib/header.js';
import { $, el, setChildren, setStatusLine } from './lib/dom.js';
import { api } from './lib/api.js';
import { loadStores } from './lib/stores.js';
import { startPage, handleAuthError, whileSaving, settingsSave } from './lib/page.js';
import { TEXT } from './lib/messages.js';
import { initDialpad } from './settings/dialpad.js';
import { initCustomFields } from './settings/custom-fields.js';
import { initHours } from './settings/hours.js';
import { LIMITS } from './lib/limits.js';
import './settings-reports.js'; // 着信分析の週次サマリー: wired on its own

const ui = {
  form: $('#page-view'),
  actions: $('#action-list'),
  add: $('#action-add'),
  categories: $('#categories'),
  dialMode: $('#dial-mode'),
  customerSharing: $('#customer-sharing'),
  callerIds: $('#caller-id-list'),
  error: $('#settings-error'),
  status: $('#settings-status'),
  save: $('#settings-save'),
};

const state = { stores: [], admin: false };

function actionRow(a = { label: '', url: '', storeId: null }) {
  const store = el(
    'select',
    { attrs: { name: 'action-store' } },
    el('option', { text: '全店舗', attrs: { value: '' } }),
    state.stores.map((s) => el('option', { text: s.name, attrs: { value: String(s.id) } })),
  );
  store.value = a.storeId === null || a.storeId === undefined ? '' : String(a.storeId);
  const row = el(
    'li',
    { class: 'settings-row action-row' },
    el(
      'label',
      { class: 'field' },
      el('span', { class: 'field-label', text: 'ボタン名' }),
      el('input', {
        attrs: {
          type: 'text',
          name: 'action-label',
          maxlength: LIMITS['action.label'],
          value: a.label,
          autocomplete: 'off',
        },
      }),
    ),
    el(
      'label',
      { class: 'field' },
      el('span', { class: 'field-label', text: 'URL' }),
      el('input', {
        attrs: {
          type: 'url',
          name: 'action-url',
          value: a.url,
          placeholder: 'https://example.com/orders/new?tel={phone}',
          autocomplete: 'off',
        },
      }),
    ),
    el('label', { class: 'field' }, el('span', { class: 'field-label', text: '対象店舗' }), store),
    el('button', {
      class: 'btn btn-small btn-ghost',
      text: '削除',
      attrs: { type: 'button' },
      on: { click: () => row.remove() },
    }),
  );
  return row;
}

function render(settings) {
  setChildren(ui.actions, settings.actions.map(actionRow));
  ui.categories.value = settings.categories.join('\n');
  ui.dialMode.value = settings.dialMode;
  ui.customerSharing.value = settings.customerSharing ?? 'store';
  const ids = new Map(settings.callerIds.map((c) => [c.storeId, c.number]));
  setChildren(
    ui.callerIds,
    state.stores.map((s) =>
      el(
        'li',
        { class: 'settings-row' },
        el(
          'label',
          { class: 'field' },
          el('span', { class: 'field-label', text: `発信者番号（${s.name}）` }),
          el('input', {
            attrs: {
              type: 'tel',
              name: 'caller-id',
              value: ids.get(s.id) ?? '',
              placeholder: '050-1748-0000',
              autocomplete: 'off',
            },
            dataset: { storeId: s.id },
          }),
        ),
      ),
    ),
  );
  for (const node of ui.form.querySelectorAll('input, select, textarea, #action-add'))
    node.disabled = !state.admin;
}

function read() {
  return {
    actions: [...ui.actions.querySelectorAll('.action-row')]
      .map((row) => ({
        label: row.querySelector('[name="action-label"]').value.trim(),
        url: row.querySelector('[name="action-url"]').value.trim(),
        storeId: row.querySelector('[name="action-store"]').value
          ? Number(row.querySelector('[name="action-store"]').value)
          : null,
      }))
      .filter((a) => a.label || a.url),
    categories: ui.categories.value
      .split('\n')
      .map((c) => c.trim())
      .filter(Boolean),
    dialMode: ui.dialMode.value,
    customerSharing: ui.customerSharing.value,
    callerIds: [...ui.callerIds.querySelectorAll('input[name="caller-id"]')]
      .filter((i) => i.value.trim())
      .map((i) => ({ storeId: Number(i.dataset.storeId), number: i.value.trim() })),
  };
}

ui.add.addEventListener('click', () => {
  const row = actionRow();
  ui.actions.append(row);
  row.querySelector('input').focus();
});

ui.form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  await whileSaving(settingsSave(ui), async () => {
    const { settings } = await api('/api/settings/front-desk', { method: 'PUT', body: read() });
    render(settings);
    setStatusLine(ui.status, TEXT.saved, 'ok');
  });
});

async function main() {
  const user = await startPage();
  state.admin = user.role === 'admin';
  try {
    state.stores = await loadStores();
    const { settings, outcomes } = await api('/api/settings/front-desk');
    render(settings);
    initDialpad({ admin: state.admin, categories: settings.categories, outcomes });
    initCustomFields({ admin: state.admin, stores: state.stores });
    await initHours({ admin: state.admin });
  } catch (e) {
    if (handleAuthError(e)) return;
    ui.error.textContent = TEXT.loadFailed('設定', e.message);
    ui.error.hidden = false;
  }
  ui.form.hidden = false;
}

main();
