// @ts-check
// テスト着信 (admin): sends a test call down the same path as a real one.
import { $ } from '../lib/dom.js';
import { api } from '../lib/api.js';
import { clearFormErrors, showFormError } from '../lib/forms.js';
import { TEXT } from '../lib/messages.js';

const ui = {
  card: $('#test-call-card'),
  form: $('#test-call-form'),
  result: $('#test-call-result'),
};

function result(text, cls) {
  ui.result.textContent = text;
  ui.result.className = `small ${cls}`;
  ui.result.hidden = false;
}

/** Shows the card to admins only. */
export function showTestCall(user) {
  ui.card.hidden = user.role !== 'admin';
}

ui.form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ui.form.elements;
  clearFormErrors(ui.form, ui.result);
  const body = {
    customerPhone: f.customerPhone.value.trim(),
    incomingNumber: f.incomingNumber.value.trim(),
  };
  if (!body.customerPhone) {
    showFormError(ui.form, ui.result, 'customerPhone', TEXT.customerPhoneRequired);
    return;
  }
  const button = ui.form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    await api('/api/dialpad/test-call', { method: 'POST', body });
    result('テスト着信を送信しました', 'ok-text');
  } catch (e) {
    ui.result.className = 'small form-error';
    showFormError(ui.form, ui.result, e.field, e.message);
  } finally {
    button.disabled = false;
  }
});
