// @ts-check
// Japanese phone numbers in the browser: the same rule as the server's (src/domain/phone.rs);
// both are tested against one corpus (tests/corpus/phone.json). Everything is reduced to the
// domestic digit form (0501748xxxx) so numbers typed with hyphens, spaces, full-width digits
// or +81 compare equal; a foreign number keeps its + and digits.

/** Longest digit string accepted (the server's MAX_DIGITS). */
export const MAX_DIGITS = 20;

/** Words carriers and PBXs use in place of a number for a withheld caller. */
const WITHHELD = [
  'anonymous',
  'withheld',
  'private',
  'restricted',
  'unknown',
  'unavailable',
  '非通知',
  '通知不可能',
  '公衆電話',
];

const SEPARATORS = new Set([
  ' ',
  '\u3000',
  '\t',
  '-',
  '‐',
  '‑',
  '–',
  '—',
  '－',
  '−',
  'ー',
  '(',
  ')',
  '（',
  '）',
  '.',
  '/',
]);

/**
 * Normalises a number as typed or delivered: `{number}` (domestic digits, or + and digits for a
 * foreign one), `{withheld: true}`, or `{error: 'invalid' | 'too_long'}`.
 * @param {unknown} input
 * @returns {{number: string} | {withheld: true} | {error: 'invalid' | 'too_long'}}
 */
export function normalizePhone(input) {
  const trimmed = String(input ?? '').trim();
  if (!trimmed || WITHHELD.some((w) => w.toLowerCase() === trimmed.toLowerCase()))
    return { withheld: true };
  let plus = false;
  let digits = '';
  let i = 0;
  for (const c of trimmed) {
    if (c >= '0' && c <= '9') digits += c;
    else if (c >= '０' && c <= '９') digits += String.fromCharCode(c.charCodeAt(0) - 0xff10 + 48);
    else if ((c === '+' || c === '＋') && i === 0) plus = true;
    else if (!SEPARATORS.has(c)) return { error: 'invalid' };
    if (digits.length > MAX_DIGITS) return { error: 'too_long' };
    i += 1;
  }
  if (!digits) return { error: 'invalid' };
  if (plus) {
    if (!digits.startsWith('81')) return { number: `+${digits}` };
    const rest = digits.slice(2);
    return { number: `0${rest.startsWith('0') ? rest.slice(1) : rest}` };
  }
  if (digits.startsWith('81')) {
    // "81…" without "+": the international form with its plus lost (9-10 digits after 81).
    const rest = digits.slice(2);
    if (rest.length >= 9 && rest.length <= 10 && !rest.startsWith('0'))
      return { number: `0${rest}` };
  }
  return { number: digits };
}

/**
 * The key two numbers are compared by: the normalised number, or (not a number) the input's
 * digits and + as typed, so that two identical inputs still compare equal.
 * @param {unknown} input
 */
export function phoneKey(input) {
  const n = normalizePhone(input);
  return 'number' in n ? n.number : String(input ?? '').replace(/[^\d+]/g, '');
}

/**
 * A number in E.164 (+81…) for dialling; a foreign one as it is.
 * @param {unknown} input
 */
export function e164(input) {
  const key = phoneKey(input);
  if (key.startsWith('+')) return key;
  if (key.startsWith('0')) return `+81${key.slice(1)}`;
  return key;
}
