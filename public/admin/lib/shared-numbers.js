// @ts-check
// Numbers that another customer already has: asked before a save (`POST
// /api/customers/duplicates`), warned about in the form — 「この番号（…）は 山田 太郎 さんにも
// 登録されています」 with a link to that customer — and saved only when the user chooses
// 「それでも保存する」. Used by 顧客 (edit panel, 新規登録) and the popup's registration.
// A customer of another store is never named: the server does not tell staff who it is.
import { el, setChildren } from './dom.js';
import { api } from './api.js';
import { fmtPhone } from './format.js';
import { phoneKey } from './phone.js';

/** The 顧客 page of one customer (opens its edit panel). */
export const customerHref = (id) => `/admin/customers.html?id=${encodeURIComponent(id)}`;

const norm = phoneKey;

/** Who else has `phones` (not the customer `except`): `{duplicates, allowed}`. */
export function findShared(phones, except = null) {
  return api('/api/customers/duplicates', { method: 'POST', body: { phones, except } });
}

/** The warning's lines, one per number: the customers named, or "another store's". */
export function sharedLines(duplicates) {
  const byPhone = new Map();
  for (const d of duplicates) {
    const entry = byPhone.get(d.phone) ?? { named: [], hidden: false };
    if (d.customer) entry.named.push(d.customer);
    else entry.hidden = true;
    byPhone.set(d.phone, entry);
  }
  const lines = [];
  for (const [phone, { named, hidden }] of byPhone) {
    const number = `この番号（${fmtPhone(phone)}）は`;
    if (named.length) {
      const names = named.flatMap((c, i) => [
        i > 0 ? '、' : null,
        el('a', {
          class: 'shared-name',
          text: c.name,
          attrs: { href: customerHref(c.id), target: '_blank', rel: 'noopener' },
        }),
        c.homeStore?.name ? ` さん（${c.homeStore.name}）` : ' さん',
      ]);
      lines.push(el('li', {}, number, ' ', ...names, 'にも登録されています'));
    }
    if (hidden)
      lines.push(
        el(
          'li',
          {},
          number,
          '他店舗の顧客に登録されています。登録・変更は管理者に依頼してください',
        ),
      );
  }
  return lines;
}

/**
 * Warn-before-save for one form. `check(phones)` resolves true when the save may go on: no other
 * customer has the numbers, the user already chose to save these very numbers anyway, or the
 * check itself failed (the save then reports any problem). Otherwise it shows the warning in
 * `box` and resolves false; the warning's `confirmLabel` button submits the form again, which
 * then saves. A 401 is rethrown for the page to handle.
 */
export function sharedNumberGuard(
  box,
  { form, confirmLabel = 'それでも保存する', except = () => null, focusField },
) {
  /** the numbers the user chose to save anyway */
  let confirmed = null;

  function reset() {
    confirmed = null;
    box.hidden = true;
    box.replaceChildren();
  }

  function show(duplicates, allowed, key) {
    const keep = el('button', {
      class: 'btn btn-primary btn-small',
      text: confirmLabel,
      attrs: { type: 'button' },
      on: {
        click: () => {
          confirmed = key;
          box.hidden = true;
          form.requestSubmit();
        },
      },
    });
    const stop = el('button', {
      class: 'btn btn-small',
      text: 'やめる',
      attrs: { type: 'button' },
      on: {
        click: () => {
          reset();
          if (focusField) form.elements[focusField]?.focus();
        },
      },
    });
    setChildren(
      box,
      el('strong', { class: 'conflict-title', text: '同じ電話番号の顧客がいます' }),
      el('ul', { class: 'shared-lines' }, sharedLines(duplicates)),
      allowed
        ? el('span', {
            class: 'conflict-hint',
            text: '家族・会社で共用の番号なら、そのまま保存できます。同じ方の重複登録なら、保存せずにその顧客を開いてください（管理者は「重複を統合」でまとめられます）。',
          })
        : null,
      el('span', { class: 'form-actions' }, allowed ? keep : null, stop),
    );
    box.hidden = false;
    (allowed ? keep : stop).focus();
  }

  async function check(phones) {
    const list = phones.map(norm).filter(Boolean);
    const key = [...new Set(list)].sort().join(',');
    if (!list.length || key === confirmed) return true;
    let res;
    try {
      res = await findShared(phones, except());
    } catch (e) {
      if (e.status === 401) throw e;
      reset();
      return true;
    }
    const duplicates = Array.isArray(res?.duplicates) ? res.duplicates : [];
    if (duplicates.length === 0) {
      reset();
      return true;
    }
    show(duplicates, res.allowed !== false, key);
    return false;
  }

  return { check, reset };
}
