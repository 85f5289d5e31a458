// @ts-check
// An unknown caller: the number, the store, and the registration form (a number another
// customer has gets a warning naming whom this user may see, then 「それでも登録する」).
import { nameAndMemo } from '../lib/name-fields.js';
import { $ } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { clearFormErrors, showFormError } from '../lib/forms.js';
import { fmtPhone } from '../lib/format.js';
import { TEXT } from '../lib/messages.js';
import { sharedNumberGuard } from '../lib/shared-numbers.js';
import { memoSaving } from './memo.js';
import * as frontDesk from './front-desk.js';
import { renderCustomer, renderRefreshed } from './card.js';
import { ui, state, show, setTitle, renderStore, showAuth, refreshRecords } from './view.js';

// A number another customer has (registered since the lookup, or another store's).
const registerShared = sharedNumberGuard($('#register-shared'), {
  form: ui.registerForm,
  confirmLabel: 'それでも登録する',
  focusField: 'name',
});

export function renderUnknown() {
  registerShared.reset();
  ui.unknownNumber.textContent = fmtPhone(state.phone);
  renderStore();
  show('unknownView');
  setTitle();
  frontDesk.setCaller({ phone: state.phone, store: state.store });
  ui.registerForm.elements.name.focus();
}

ui.registerForm.addEventListener('submit', async (/** @type {SubmitEvent} */ ev) => {
  ev.preventDefault();
  clearFormErrors(ui.registerForm, ui.registerError);
  const body = {
    ...nameAndMemo(ui.registerForm),
    phone: state.phone,
    homeStoreId: state.store?.id ?? null,
  };
  if (!body.name) {
    showFormError(ui.registerForm, ui.registerError, 'name', TEXT.nameRequired);
    return;
  }
  ui.registerSubmit.disabled = true;
  try {
    if (!(await registerShared.check([state.phone]))) return;
    const res = await api('/api/customers', { method: 'POST', body });
    state.candidates = [];
    state.canEdit = res.canEdit !== false; // a reception desk registers, never edits
    renderCustomer(res.customer, { notes: [] });
    refreshAfterRegister(res.customer.id);
  } catch (e) {
    if (e.status === 401) showAuth();
    else showFormError(ui.registerForm, ui.registerError, e.field, e.message);
  } finally {
    ui.registerSubmit.disabled = false;
  }
});

/**
 * After registering, the record as any later popup would show it: the number's history (with
 * the call ringing now, which the registration linked to the new customer) and its notes.
 * @param {number} id
 */
async function refreshAfterRegister(id) {
  const data = await refreshRecords();
  // Failed: the view already shows the new customer and the history we had.
  if (data?.customer?.id === id && state.customer?.id === id && !memoSaving()) {
    renderRefreshed(data);
  }
}
