// @ts-check
// アカウント (admins): the users, adding accounts of the four roles with a store, changing a
// user's role and stores (権限・店舗を変更: a select and one checkbox per store, with the API's
// guards: your own role stays, the last admin stays, demoting another admin asks your own
// password), resetting a password (a generated one is shown here once), disabling and
// enabling. Every change ends that user's sessions on the server, so their open consoles
// return to the login screen at once.
import './lib/header.js';
import './lib/form-parts.js'; // before the forms are looked up
import { $, el, setChildren, setStatusLine } from './lib/dom.js';
import { api } from './lib/api.js';
import { fmtDateTime } from './lib/format.js';
import { loadStores } from './lib/stores.js';
import { startPage, handleAuthError, showPageError, whileSaving } from './lib/page.js';
import { confirmDialog } from './lib/confirm.js';
import { TEXT } from './lib/messages.js';
import { initDialpadLinks } from './accounts/dialpad.js';
import { recordTable } from './lib/record-table.js';

const list = recordTable($('[data-record-table]'), {
  id: 'account',
  columns: [
    'ログインID',
    '表示名',
    '権限',
    '店舗',
    '状態',
    '最終変更',
    { text: '操作', class: 'num' },
  ],
});

const ui = {
  view: $('#page-view'),
  body: list.body,
  count: $('#account-count'),
  error: $('#account-error'),
  shown: $('#password-shown'),
  shownFor: $('#password-for'),
  shownPassword: $('#new-password'),
  hide: $('#password-hide'),
  addForm: $('#add-form'),
  addLogin: $('#add-login'),
  addName: $('#add-name'),
  addRole: $('#add-role'),
  addStore: $('#add-store'),
  addPassword: $('#add-password'),
  addError: $('#add-error'),
  addStatus: $('#add-status'),
  addSubmit: $('#add-submit'),
};

const state = { me: null, users: [], stores: [], resetting: null, editing: null };

/** The four roles (`domain::token::Role`), in the order the selects offer them. */
const ROLES = [
  ['admin', '管理者'],
  ['area_manager', 'エリアマネージャー'],
  ['staff', 'スタッフ'],
  ['reception', '受付センター'],
];
/** @param {string} role */
const roleLabel = (role) => ROLES.find(([key]) => key === role)?.[1] ?? role;

/** The names of a user's stores (every one of `storeIds`), or what having none means. */
function storeNames(user) {
  const ids = user.storeIds ?? (user.storeId ? [user.storeId] : []);
  const names = ids.map(
    (id) => state.stores.find((s) => s.id === id)?.name ?? user.storeName ?? `#${id}`,
  );
  if (names.length) return names.join('、');
  return user.role === 'admin' || user.role === 'reception' ? '全店舗' : '未設定';
}

/** Shows a new password once; it leaves the page with 表示を消す or the next change. */
function showPassword(user, password) {
  ui.shownFor.textContent = `${user.name}（${user.loginId}）`;
  ui.shownPassword.textContent = password;
  ui.shown.hidden = false;
}

function hidePassword() {
  ui.shownPassword.textContent = '';
  ui.shown.hidden = true;
}

function fail(e) {
  showPageError(ui.error, e);
}

async function patch(user, body) {
  ui.error.hidden = true;
  try {
    await api(`/api/users/${encodeURIComponent(user.id)}`, { method: 'PATCH', body });
  } catch (e) {
    fail(e);
    return;
  }
  await refresh();
}

/** 無効にする asks first (the user's sessions end and their consoles close); 有効にする does not. */
async function toggleDisabled(user) {
  if (!user.disabled) {
    const ok = await confirmDialog({
      title: `${user.name}（${user.loginId}）を無効にしますか？`,
      text: 'このアカウントではログインできなくなり、開いているコンソールとポップアップはすぐに閉じます。あとから「有効にする」で戻せます。',
      confirmLabel: '無効にする',
    });
    if (!ok) return;
  }
  await patch(user, { disabled: !user.disabled });
}

/**
 * An account's inline form in a row of its own under the account (パスワード再設定, 権限・店舗を
 * 変更): `fields`, then the submit button, キャンセル (`close()` and render) and the error line.
 * On submit `save()` runs with the button disabled; a refusal is shown in the error line
 * (`describe(e)`, else the server's message; a wrong own password is a 401 too, but the
 * session is fine: it is said here), a lost session goes to the login.
 * @param {any} user
 * @param {{ rowClass: string, formClass?: string, submitLabel: string, fields: (Node | null)[],
 *   close: () => void, save: () => Promise<void>, describe?: (e: any) => string | undefined }} form
 */
function inlineFormRow(
  user,
  { rowClass, formClass = '', submitLabel, fields, close, save, describe },
) {
  const error = el('p', { class: 'form-error', attrs: { role: 'alert' }, hidden: true });
  const submit = el('button', {
    class: 'btn btn-primary btn-small',
    text: submitLabel,
    attrs: { type: 'submit' },
  });
  const cancel = el('button', {
    class: 'btn btn-small',
    text: 'キャンセル',
    attrs: { type: 'button' },
    on: {
      click: () => {
        close();
        render();
      },
    },
  });
  const form = el(
    'form',
    { class: ['inline-form', formClass], attrs: { novalidate: true } },
    fields,
    submit,
    cancel,
    error,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      await save();
    } catch (e) {
      if (e.code !== 'invalid_credentials' && handleAuthError(e)) return;
      error.textContent =
        e.code === 'invalid_credentials'
          ? 'あなたのパスワードが違います'
          : (describe?.(e) ?? e.message);
      error.hidden = false;
      submit.disabled = false;
    }
  });
  return el(
    'tr',
    { class: rowClass, dataset: { userId: user.id } },
    el('td', { attrs: { colspan: 7 } }, form),
  );
}

/**
 * A labelled field of an inline form.
 * @param {string} label
 * @param {HTMLElement} control
 */
const labelled = (label, control) =>
  el('label', { class: 'field' }, el('span', { class: 'field-label', text: label }), control);

/** Another admin's change needs the acting admin's own password (the API answers 403 reauth_required without it). */
const ownPassword = () =>
  /** @type {HTMLInputElement} */ (
    el('input', {
      class: 'reauth-password-input',
      attrs: { type: 'password', autocomplete: 'current-password' },
    })
  );

/** A refusal that is not the server's: shown in the form's error line. */
const refusal = (/** @type {string} */ message) => Object.assign(new Error(message), { status: 0 });

function resetRow(user) {
  const input = /** @type {HTMLInputElement} */ (
    el('input', {
      class: 'reset-password-input',
      attrs: { type: 'password', autocomplete: 'new-password', placeholder: '空欄なら自動生成' },
    })
  );
  // Another admin's password: the acting admin proves who they are with their own password.
  const current =
    user.role === 'admin' && !(state.me && user.id === state.me.id) ? ownPassword() : null;
  if (current) current.required = true;
  return inlineFormRow(user, {
    rowClass: 'reset-row',
    submitLabel: '再設定する',
    fields: [
      labelled(`${user.name} の新しいパスワード`, input),
      current && labelled('あなたのパスワード（管理者の再設定には確認が必要です）', current),
    ],
    close: () => {
      state.resetting = null;
    },
    save: async () => {
      hidePassword();
      /** @type {{ password?: string, currentPassword?: string }} */
      const body = input.value ? { password: input.value } : {};
      if (current) {
        if (!current.value) {
          current.focus();
          throw refusal('あなたのパスワードを入力してください');
        }
        body.currentPassword = current.value;
      }
      const res = await api(`/api/users/${encodeURIComponent(user.id)}/password`, {
        method: 'POST',
        body,
      });
      state.resetting = null;
      if (res.password) showPassword(user, res.password);
      else setStatusLine(ui.addStatus, `${user.name} のパスワードを変更しました`, 'ok');
      await refresh();
    },
  });
}

/** 権限・店舗を変更: the role (a select) and the stores (a checkbox each), saved together. */
function editRow(user) {
  const self = state.me && user.id === state.me.id;
  const role = /** @type {HTMLSelectElement} */ (
    el(
      'select',
      { class: 'edit-role', attrs: { name: 'role' } },
      ROLES.map(([key, label]) => el('option', { text: label, attrs: { value: key } })),
    )
  );
  role.value = user.role;
  const current = new Set(user.storeIds ?? (user.storeId ? [user.storeId] : []));
  const boxes = state.stores.map((s) => {
    const box = /** @type {HTMLInputElement} */ (
      el('input', { attrs: { type: 'checkbox', name: 'storeIds', value: s.id } })
    );
    box.checked = current.has(s.id);
    return box;
  });
  const stores = el(
    'fieldset',
    { class: 'setting-group edit-stores' },
    el('legend', { class: 'field-label', text: `${user.name} の店舗` }),
    state.stores.map((s, i) =>
      el('label', { class: 'choice' }, boxes[i], el('span', { text: s.name })),
    ),
    el('span', {
      class: 'hint',
      text: 'スタッフとエリアマネージャーは1店舗以上。受付センターは全店舗の着信を受けます。',
    }),
  );
  // Taking an admin's rights away needs the acting admin's own password (403 reauth_required).
  const reauth = user.role === 'admin' && !self ? ownPassword() : null;
  return inlineFormRow(user, {
    rowClass: 'edit-row',
    formClass: 'account-edit',
    submitLabel: '保存する',
    fields: [
      labelled(`${user.name} の権限`, role),
      stores,
      reauth && labelled('あなたのパスワード（管理者の権限を外すには確認が必要です）', reauth),
    ],
    close: () => {
      state.editing = null;
    },
    save: async () => {
      /** @type {{ role: string, storeIds: number[], currentPassword?: string }} */
      const body = {
        role: role.value,
        storeIds: boxes.filter((b) => b.checked).map((b) => Number(b.value)),
      };
      if (reauth?.value) body.currentPassword = reauth.value;
      await api(`/api/users/${encodeURIComponent(user.id)}`, { method: 'PATCH', body });
      state.editing = null;
      setStatusLine(ui.addStatus, `${user.name} の権限と店舗を変更しました`, 'ok');
      await refresh();
    },
    describe: (e) =>
      e.code === 'reauth_required'
        ? '管理者の権限を外すには、あなたのパスワードを入力してください'
        : undefined,
  });
}

/** 最終変更: when the account last changed and which admin changed it (the CLI leaves no name). */
function updatedCell(user) {
  const when = user.updatedAt ? fmtDateTime(user.updatedAt) : '—';
  return [
    el('div', { class: 'nowrap muted', text: when }),
    user.updatedBy ? el('div', { class: 'mono account-updated-by', text: user.updatedBy }) : null,
  ];
}

function renderRow(user) {
  const self = state.me && user.id === state.me.id;
  const actions = el(
    'span',
    { class: 'row-actions' },
    el('button', {
      class: 'btn btn-small account-edit-open',
      text: '権限・店舗を変更',
      attrs: { type: 'button', 'aria-label': `${user.name} の権限・店舗を変更` },
      on: {
        click: () => {
          state.editing = user.id;
          state.resetting = null;
          render();
        },
      },
    }),
    el('button', {
      class: 'btn btn-small account-reset',
      text: 'パスワード再設定',
      attrs: { type: 'button' },
      on: {
        click: () => {
          state.resetting = user.id;
          state.editing = null;
          render();
        },
      },
    }),
    self
      ? null
      : el('button', {
          class: user.disabled
            ? 'btn btn-small account-enable'
            : 'btn btn-small btn-danger account-disable',
          text: user.disabled ? '有効にする' : '無効にする',
          attrs: { type: 'button' },
          on: { click: () => toggleDisabled(user) },
        }),
  );
  return el(
    'tr',
    {
      class: ['account-row', user.disabled && 'is-disabled'],
      dataset: { userId: user.id, login: user.loginId },
    },
    el('td', { class: 'mono account-login', text: user.loginId }),
    el('td', { class: 'account-name', text: user.name }),
    el(
      'td',
      { class: 'account-role' },
      el('span', {
        class: user.role === 'admin' ? 'badge badge-admin' : 'badge badge-staff',
        text: roleLabel(user.role),
      }),
    ),
    el('td', { class: 'account-store', text: storeNames(user) }),
    el('td', { class: 'account-state', text: user.disabled ? '無効' : '有効' }),
    el('td', { class: 'account-updated small' }, updatedCell(user)),
    el('td', { class: 'num' }, actions),
  );
}

function render() {
  const rows = [];
  for (const u of state.users) {
    rows.push(renderRow(u));
    if (state.resetting === u.id) rows.push(resetRow(u));
    if (state.editing === u.id) rows.push(editRow(u));
  }
  setChildren(ui.body, rows);
  ui.count.textContent = `${state.users.length}件`;
  ui.body.querySelector('.reset-password-input')?.focus();
}

async function refresh() {
  try {
    state.users = (await api('/api/users')).users;
  } catch (e) {
    if (handleAuthError(e)) return;
    ui.error.textContent = TEXT.loadFailed('アカウント', e.message);
    ui.error.hidden = false;
    return;
  }
  render();
  initDialpadLinks(state.users);
}

function renderStoreOptions() {
  const admin = ui.addRole.value === 'admin' || ui.addRole.value === 'reception';
  const current = ui.addStore.value;
  setChildren(
    ui.addStore,
    el('option', {
      text: admin ? '全店舗（指定なし）' : '店舗を選んでください',
      attrs: { value: '' },
    }),
    state.stores.map((s) => el('option', { text: s.name, attrs: { value: s.id } })),
  );
  ui.addStore.value = current;
}

ui.addRole.addEventListener('change', renderStoreOptions);
ui.hide.addEventListener('click', hidePassword);

ui.addForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  ui.addError.hidden = true;
  setStatusLine(ui.addStatus, '', '');
  hidePassword();
  const body = {
    loginId: ui.addLogin.value.trim(),
    name: ui.addName.value.trim() || null,
    role: ui.addRole.value,
    storeId: ui.addStore.value ? Number(ui.addStore.value) : null,
  };
  if (ui.addPassword.value) body.password = ui.addPassword.value;
  await whileSaving({ button: ui.addSubmit, error: ui.addError }, async () => {
    const res = await api('/api/users', { method: 'POST', body });
    ui.addForm.reset();
    renderStoreOptions();
    setStatusLine(ui.addStatus, `「${res.user.loginId}」を追加しました`, 'ok');
    if (res.password) showPassword(res.user, res.password);
    await refresh();
  });
});

async function main() {
  state.me = await startPage();
  ui.view.hidden = false;
  if (state.me.role !== 'admin') return;
  try {
    state.stores = await loadStores({ fresh: true });
  } catch {
    state.stores = [];
  }
  renderStoreOptions();
  await refresh();
}

main();
