// @ts-check
// 顧客 › the edit form's fields: a card as form values, the form read back (with the checks
// made before saving), what changed, and a value as the conflict panel shows it.
import { el, setChildren } from '../lib/dom.js';
import { fmtPhone, fmtDate, fmtYen, fmtCount } from '../lib/format.js';
import { TEXT } from '../lib/messages.js';
import { phoneKey } from '../lib/phone.js';
import { LIMITS } from '../lib/limits.js';

export const FIELD_LABELS = Object.freeze({
  name: '氏名',
  kana: 'フリガナ',
  phones: '電話番号',
  homeStoreId: '登録店舗',
  customerType: '区分',
  flag: 'フラグ',
  visits: '来店回数',
  totalSpend: '累計利用額',
  lastVisit: '最終来店日',
  memo: 'メモ',
  fields: 'フリー項目',
});

const normPhone = phoneKey;

/** A card as the form's values. */
export function cardValues(card) {
  const lv = card.usage?.lastVisit ?? null;
  return {
    name: card.name ?? '',
    kana: card.kana ?? '',
    phones: [...(card.phones ?? [])],
    homeStoreId: card.homeStore?.id ?? null,
    customerType: card.customerType ?? '新規',
    flag: card.flag ?? null,
    visits: card.usage?.visits ?? 0,
    totalSpend: card.usage?.totalSpend ?? 0,
    lastVisit: lv && /^\d{4}-\d\d-\d\d/.test(lv) ? lv.slice(0, 10) : lv,
    memo: card.memo ?? '',
  };
}

function sameValue(field, a, b) {
  if (field === 'phones') {
    const x = (a ?? []).map(normPhone);
    const y = (b ?? []).map(normPhone);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (field === 'name' || field === 'kana')
    return String(a ?? '').trim() === String(b ?? '').trim();
  return (a ?? null) === (b ?? null);
}

/** The numbers of `phones` that `basePhones` does not have yet (as typed). */
export function addedPhones(phones, basePhones) {
  const had = new Set((basePhones ?? []).map(normPhone));
  return (phones ?? []).filter((p) => !had.has(normPhone(p)));
}

/** The fields whose values differ from `base`'s. */
export function diff(values, base) {
  const out = {};
  for (const k of Object.keys(FIELD_LABELS)) {
    if (!(k in values)) continue;
    if (!sameValue(k, values[k], base[k])) out[k] = values[k];
  }
  return out;
}

function storeOptions(stores, selectedId) {
  const opts = [
    el('option', { text: '未設定', attrs: { value: '', selected: selectedId === null } }),
  ];
  for (const s of stores) {
    opts.push(
      el('option', { text: s.name, attrs: { value: String(s.id), selected: s.id === selectedId } }),
    );
  }
  // A store that is not in the list (deleted meanwhile) still shows.
  if (selectedId !== null && !stores.some((s) => s.id === selectedId)) {
    opts.push(
      el('option', {
        text: `店舗 ${selectedId}`,
        attrs: { value: String(selectedId), selected: true },
      }),
    );
  }
  return opts;
}

export function fillForm(form, stores, v) {
  const f = form.elements;
  f.name.value = v.name;
  f.kana.value = v.kana;
  f.phones.value = v.phones.join('\n');
  setChildren(f.homeStoreId, storeOptions(stores, v.homeStoreId));
  f.customerType.value = v.customerType;
  f.flag.value = v.flag ?? '';
  f.visits.value = String(v.visits ?? 0);
  f.totalSpend.value = String(v.totalSpend ?? 0);
  f.lastVisit.value = v.lastVisit ?? '';
  f.memo.value = v.memo;
}

/** Reads the form; returns { values } or { error: [field, message] }. */
export function readForm(form) {
  const f = form.elements;
  const int = (field, raw) => {
    const t = String(raw).trim();
    if (!/^\d+$/.test(t)) return { error: [field, TEXT.wholeNumber] };
    return { n: Number(t) };
  };
  const visits = int('visits', f.visits.value);
  if (visits.error) return visits;
  const spend = int('totalSpend', f.totalSpend.value);
  if (spend.error) return spend;
  const name = f.name.value.trim();
  if (!name) return { error: ['name', TEXT.nameRequired] };
  const phones = f.phones.value
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (phones.length === 0) return { error: ['phones', TEXT.phonesRequired] };
  const storeRaw = f.homeStoreId.value;
  return {
    values: {
      name,
      kana: f.kana.value.trim(),
      phones,
      homeStoreId: storeRaw === '' ? null : Number(storeRaw),
      customerType: f.customerType.value,
      flag: f.flag.value || null,
      visits: visits.n,
      totalSpend: spend.n,
      lastVisit: f.lastVisit.value || null,
      memo: f.memo.value,
    },
  };
}

/** A field's value as the conflict panel shows it. */
export function displayValue(stores, field, v) {
  switch (field) {
    case 'phones':
      return (v ?? []).map(fmtPhone).join(' / ') || '—';
    case 'homeStoreId':
      return v === null ? '未設定' : (stores.find((s) => s.id === v)?.name ?? `店舗 ${v}`);
    case 'flag':
      return v ?? 'なし';
    case 'lastVisit':
      return v ? fmtDate(v) : '—';
    case 'totalSpend':
      return fmtYen(v);
    case 'visits':
      return fmtCount(v, '回');
    case 'memo':
      return v || '（空）';
    default:
      return v === '' || v === null || v === undefined ? '（空）' : String(v);
  }
}

// ---------------------------------------------------------------------------------------------
// フリー項目: the business's own fields (GET /api/customers/{id} → customFields), one control
// each; a field this user may not edit (管理者のみ) is shown disabled.

function customControl(f, name) {
  const value = f.value ?? '';
  const attrs = { name, 'aria-label': f.label, 'data-base': value, disabled: !f.canEdit };
  if (f.kind === 'choice' || f.kind === 'yesno') {
    const options = f.kind === 'choice' ? f.options : ['はい', 'いいえ'];
    return el(
      'select',
      { attrs },
      el('option', { text: '未設定', attrs: { value: '' } }),
      options.map((o) => el('option', { text: o, attrs: { value: o, selected: o === value } })),
    );
  }
  const type = f.kind === 'date' ? 'date' : 'text';
  return el('input', {
    attrs: {
      ...attrs,
      type,
      value,
      inputmode: f.kind === 'number' ? 'decimal' : null,
      maxlength: f.kind === 'text' ? LIMITS['custom_field.text'] : null,
      autocomplete: 'off',
    },
  });
}

/** Fills the フリー項目 fieldset (hidden when no field applies to this customer). */
export function renderCustomFields(container, fields, canEdit) {
  const list = Array.isArray(fields) ? fields : [];
  setChildren(
    container,
    list.length ? el('legend', { class: 'field-label', text: 'フリー項目' }) : null,
    list.map((f) =>
      el(
        'label',
        { class: 'field' },
        el('span', {
          class: 'field-label',
          text: f.canEdit || !canEdit ? f.label : `${f.label}（管理者のみ編集）`,
        }),
        customControl({ ...f, canEdit: canEdit && f.canEdit }, `cf-${f.id}`),
      ),
    ),
    el('span', { class: 'field-error', dataset: { errorFor: 'fields' }, hidden: true }),
  );
  container.hidden = list.length === 0;
}

/** The フリー項目 changed in the form (field id → value; '' clears), or null when none. */
export function customChanges(container) {
  const out = {};
  for (const node of container.querySelectorAll('[name^="cf-"]')) {
    if (node.disabled) continue;
    const value = node.value.trim();
    if (value !== (node.dataset.base ?? '')) out[node.name.slice(3)] = value;
  }
  return Object.keys(out).length ? out : null;
}

/** After a save: what the form shows now is what is stored. */
export function markCustomSaved(container) {
  for (const node of container.querySelectorAll('[name^="cf-"]'))
    node.dataset.base = node.value.trim();
}
