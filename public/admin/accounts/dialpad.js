// @ts-check
// アカウント → Dialpad ユーザーとの紐づけ (admin): links an account to one of the Dialpad users
// the API lists (GET /api/dialpad/users), so its 発信 goes through Dialpad's API. Shown only
// when the Dialpad API key is configured.
import { $, el, setChildren, setStatusLine } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { handleAuthError, showPageError } from '../lib/page.js';

const ui = {
  card: $('#dialpad-link-card'),
  form: $('#dialpad-link-form'),
  account: $('#dialpad-link-account'),
  user: $('#dialpad-link-user'),
  error: $('#dialpad-link-error'),
  status: $('#dialpad-link-status'),
  list: $('#dialpad-link-list'),
};

const state = { accounts: [], dialpadUsers: [], links: [] };

function renderList() {
  const byId = new Map(state.accounts.map((a) => [a.id, a]));
  setChildren(
    ui.list,
    state.links.map((l) => {
      const acc = byId.get(l.userId);
      const who = acc ? `${acc.name}（${acc.loginId}）` : `#${l.userId}`;
      return el(
        'li',
        { class: 'settings-row dialpad-link-row', dataset: { userId: l.userId } },
        el('span', { text: `${who} → ${l.name || l.dialpadUserId}` }),
        el('button', {
          class: 'btn btn-small btn-ghost',
          text: '解除',
          attrs: { type: 'button', 'aria-label': `${who} の紐づけを解除` },
          on: { click: () => save(l.userId, null, '') },
        }),
      );
    }),
  );
}

async function save(userId, dialpadUserId, name) {
  ui.error.hidden = true;
  try {
    await api(`/api/users/${userId}/dialpad`, { method: 'PUT', body: { dialpadUserId, name } });
    state.links = (await api('/api/dialpad/links')).links;
    renderList();
    setStatusLine(ui.status, dialpadUserId ? '紐づけました' : '紐づけを解除しました', 'ok');
  } catch (e) {
    showPageError(ui.error, e);
  }
}

ui.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const u = state.dialpadUsers.find((x) => x.id === ui.user.value);
  if (!ui.account.value || !u) return;
  save(Number(ui.account.value), u.id, u.name);
});

/** Called with the accounts once the list has loaded. */
export async function initDialpadLinks(accounts) {
  state.accounts = accounts;
  setChildren(
    ui.account,
    accounts
      .filter((a) => !a.disabled)
      .map((a) => el('option', { text: `${a.name}（${a.loginId}）`, attrs: { value: a.id } })),
  );
  if (!ui.card.hidden) return renderList();
  try {
    const s = await api('/api/settings/dialpad');
    if (!s.configured) return;
    const [users, links] = await Promise.all([
      api('/api/dialpad/users'),
      api('/api/dialpad/links'),
    ]);
    state.dialpadUsers = users.users;
    state.links = links.links;
  } catch (e) {
    if (handleAuthError(e)) return;
    ui.card.hidden = false;
    ui.error.textContent = e.message;
    ui.error.hidden = false;
    return;
  }
  setChildren(
    ui.user,
    state.dialpadUsers.map((u) =>
      el('option', { text: u.email ? `${u.name}（${u.email}）` : u.name, attrs: { value: u.id } }),
    ),
  );
  renderList();
  ui.card.hidden = false;
}
