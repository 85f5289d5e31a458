// @ts-check
// Form errors: a message next to the field the server named (`data-error-for`), else in the
// form's general error line.

export function clearFormErrors(form, general) {
  for (const span of form.querySelectorAll('.field-error')) {
    span.hidden = true;
    span.textContent = '';
  }
  for (const input of form.querySelectorAll('[aria-invalid]'))
    input.removeAttribute('aria-invalid');
  if (general) general.hidden = true;
}

/** Shows `message` at `field`'s error span; without such a span, in `general`. */
export function showFormError(form, general, field, message) {
  const span = field && form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
  if (!span) {
    general.textContent = message;
    general.hidden = false;
    return;
  }
  span.textContent = message;
  span.hidden = false;
  const input = form.elements[field];
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}
