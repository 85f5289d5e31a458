// @ts-check
// The longest value each field takes, as the server checks it: the same figures as
// tests/corpus/field-limits.json, which the Rust constants are tested against (tests/limits.rs)
// and this module and the pages' static `maxlength`s too (tests/unit-limits.test.mjs). Controls
// built in JavaScript take their `maxlength` from here, never from a number of their own.

export const LIMITS = Object.freeze({
  'customer.name': 100,
  'customer.kana': 100,
  'customer.memo': 2000,
  'note.body': 2000,
  'store.name': 100,
  'action.label': 20,
  'custom_field.label': 30,
  'custom_field.option': 30,
  'custom_field.text': 200,
  'dialpad.label': 64,
});
