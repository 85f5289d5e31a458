// @ts-check
// アカウント (admins): the users, adding staff or admins with a store, resetting a password
// (a generated one is shown here once), disabling and enabling. Every change ends that user's
// sessions on the server, so their open consoles return to the login screen at once.
import './lib/header.js';
import { $, el, setChildren, setStatusLine } from './lib/dom.js';
import { api } from './lib/api.js';
import { fmtDateTime } from './lib/format.js';
import { loadStores } from './lib/stores.js';
import { startPage, handleAuthError, showPageError, whileSaving } from './lib/page.js';
import { confirmDialog } from './lib/confirm.js';
import { TEXT } from './lib/messages.js';
import { initDialpadLinks } from './accounts/dialpad.js';

const ui = {
  view: $('#page-view'),
  body: $('#account-body'),
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

const state = { me: null, users: [], stores: [], resetting: null };

const roleLabel = (role) => (role === 'admin' ? '管理者' : 'スタッフ');

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

function resetRow(user) {
  const input = el('input', {
    class: 'reset-password-input',
    attrs: { type: 'password', autocomplete: 'new-password', placeholder: '空欄なら自動生成' },
  });
  // Another admin's password: the acting admin proves who they are with their own password
  // (the API answers 403 reauth_required without it).
  const reauth = user.role === 'admin' && !(state.me && user.id === state.me.id);
  const current = reauth
    ? el('input', { class: 'reauth-password-input', attrs: { type: 'password', autocomplete: 'current-password', required: true } })
    : null;
  const error = el('p', { class: 'form-error', attrs: { role: 'alert' }, hidden: true });
  const submit = el('button', { class: 'btn btn-primary btn-small', text: '再設定する', attrs: { type: 'submit' } });
  const cancel = el('button', {
    class: 'btn btn-small',
    text: 'キャンセル',
    attrs: { type: 'button' },
    on: {
      click: () => {
        state.resetting = null;
        render();
      },
    },
  });
  const form = el(
    'form',
    { class: 'inline-form', attrs: { novalidate: true } },
    el('label', { class: 'field' }, el('span', { class: 'field-label', text: `${user.name} の新しいパスワード` }), input),
    current &&
      el('label', { class: 'field' }, el('span', { class: 'field-label', text: 'あなたのパスワード（管理者の再設定には確認が必要です）' }), current),
    submit,
    cancel,
    error,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    hidePassword();
    try {
      const body = input.value ? { password: input.value } : {};
      if (current) {
        if (!current.value) {
          error.textContent = 'あなたのパスワードを入力してください';
          error.hidden = false;
          submit.disabled = false;
          current.focus();
          return;
        }
        body.currentPassword = current.value;
      }
      const res = await api(`/api/users/${encodeURIComponent(user.id)}/password`, { method: 'POST', body });
      state.resetting = null;
      if (res.password) showPassword(user, res.password);
      else setStatusLine(ui.addStatus, `${user.name} のパスワードを変更しました`, 'ok');
      await refresh();
    } catch (e) {
      // A wrong own password is a 401 too, but the session is fine: say so here.
      if (e.code !== 'invalid_credentials' && handleAuthError(e)) return;
      error.textContent = e.code === 'invalid_credentials' ? 'あなたのパスワードが違います' : e.message;
      error.hidden = false;
      submit.disabled = false;
    }
  });
  return el('tr', { class: 'reset-row', dataset: { userId: user.id } }, el('td', { attrs: { colspan: 7 } }, form));
}

/** 最終変更: when the account last changed and which admin changed it (the CLI leaves no name). */
function updatedCell(user) {
  const when = user.updatedAt ? fmtDateTime(user.updatedAt) : '—';
  return [el('div', { class: 'nowrap muted', text: when }), user.updatedBy ? el('div', { class: 'mono account-updated-by', text: user.updatedBy }) : null];
}

function renderRow(user) {
  const self = state.me && user.id === state.me.id;
  const actions = el(
    'span',
    { class: 'row-actions' },
    el('button', {
      class: 'btn btn-small account-reset',
      text: 'パスワード再設定',
      attrs: { type: 'button' },
      on: {
        click: () => {
          state.resetting = user.id;
          render();
        },
      },
    }),
    self
      ? null
      : el('button', {
          class: user.disabled ? 'btn btn-small account-enable' : 'btn btn-small btn-danger account-disable',
          text: user.disabled ? '有効にする' : '無効にする',
          attrs: { type: 'button' },
          on: { click: () => toggleDisabled(user) },
        }),
  );
  return el(
    'tr',
    { class: ['account-row', user.disabled && 'is-disabled'], dataset: { userId: user.id, login: user.loginId } },
    el('td', { class: 'mono account-login', text: user.loginId }),
    el('td', { class: 'account-name', text: user.name }),
    el('td', {}, el('span', { class: user.role === 'admin' ? 'badge badge-admin' : 'badge badge-staff', text: roleLabel(user.role) })),
    el('td', { class: 'account-store', text: user.storeName ?? (user.role === 'admin' ? '全店舗' : '未設定') }),
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
  const admin = ui.addRole.value === 'admin';
  const current = ui.addStore.value;
  setChildren(
    ui.addStore,
    el('option', { text: admin ? '全店舗（指定なし）' : '店舗を選んでください', attrs: { value: '' } }),
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
