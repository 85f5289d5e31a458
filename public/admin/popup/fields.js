// @ts-check
// The popup's card: the custom fields (フリー項目) an admin chose for it, in their order, as the
// lookup and the pop message carry them (`card.fields`: label and value). Rendered as text.
import { $, el, setChildren } from '../lib/dom.js';
import { fmtDate } from '../lib/format.js';

function shown(f) {
  return f.kind === 'date' ? fmtDate(f.value) : f.value;
}

/** Shows `card.fields` under the caller's numbers (hidden when there are none). */
export function renderCardFields(card) {
  const list = $('#card-fields');
  if (!list) return;
  const fields = Array.isArray(card?.fields) ? card.fields : [];
  setChildren(
    list,
    fields.map((f) =>
      el(
        'div',
        { class: 'card-field', dataset: { fieldId: f.id } },
        el('dt', { text: f.label }),
        el('dd', { text: shown(f) }),
      ),
    ),
  );
  list.hidden = fields.length === 0;
}
