// What arrives after a call: the voicemail, the recordings, the transcript and the AI recap.
// One renderer for the call log and the popup (who answered has its own place in both). Links are shown only for https URLs; text goes through textContent.
import { el } from './dom.js';

function safeUrl(u) {
  try {
    const url = new URL(u);
    return url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Whether the call has anything to show beyond its state. */
export function hasDetails(c) {
  return Boolean(c.voicemailUrl || c.recordingUrls?.length || c.transcript || c.summary);
}

/** The details as nodes (empty array when there is nothing). */
export function callDetails(c) {
  const out = [];
  const links = [];
  const vm = c.voicemailUrl && safeUrl(c.voicemailUrl);
  if (vm) links.push(el('a', { class: 'detail-link voicemail-link', text: '留守電を聞く', attrs: { href: vm, target: '_blank', rel: 'noopener noreferrer' } }));
  (c.recordingUrls ?? []).map(safeUrl).filter(Boolean).forEach((u, i, all) => {
    links.push(el('a', { class: 'detail-link recording-link', text: all.length > 1 ? `録音 ${i + 1}` : '録音を聞く', attrs: { href: u, target: '_blank', rel: 'noopener noreferrer' } }));
  });
  if (links.length) out.push(el('div', { class: 'detail detail-links' }, links));
  if (c.summary) out.push(el('details', { class: 'detail summary' }, el('summary', { text: '要約' }), el('p', { text: c.summary })));
  if (c.transcript) out.push(el('details', { class: 'detail transcript' }, el('summary', { text: '文字起こし' }), el('p', { text: c.transcript })));
  return out;
}
