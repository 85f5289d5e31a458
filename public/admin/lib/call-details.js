// @ts-check
// What arrives after a call: the voicemail, the recordings, the transcript and the AI recap.
// One renderer for the call log and the popup (who answered has its own place in both). Links are shown only for https URLs; text goes through textContent.
// With Dialpad's share links on (設定), ここで再生 asks our API for a share link of the
// recording or voicemail (a call the user may see) and plays it in place in an <audio>.
import { el } from './dom.js';
import { api } from './api.js';
import { loadFrontDesk } from './front-desk.js';

/** ここで再生: a share link made on demand, played in place. Hidden unless switched on. */
function playButton(callId, kind, text) {
  const wrap = el('span', { class: 'detail-play', hidden: true });
  const status = el('span', {
    class: 'small muted',
    attrs: { role: 'status', 'aria-live': 'polite' },
  });
  const button = el('button', {
    class: 'btn btn-small btn-ghost',
    text,
    attrs: { type: 'button' },
    on: {
      click: async () => {
        button.disabled = true;
        status.textContent = '読み込み中…';
        try {
          const { url } = await api('/api/dialpad/recording', {
            method: 'POST',
            body: { callId: String(callId), kind },
          });
          const src = safeUrl(url);
          if (!src) throw new Error('再生できるリンクがありません');
          const audio = el('audio', {
            attrs: { controls: true, preload: 'auto', src, 'aria-label': text },
          });
          status.textContent = '';
          wrap.replaceChildren(
            audio,
            el('a', {
              class: 'detail-link',
              text: '共有リンク',
              attrs: { href: src, target: '_blank', rel: 'noopener noreferrer' },
            }),
          );
          audio.play().catch(() => {});
        } catch (e) {
          status.textContent = e.message;
          button.disabled = false;
        }
      },
    },
  });
  wrap.append(button, status);
  loadFrontDesk()
    .then(({ settings }) => {
      wrap.hidden = !settings.playRecordings;
    })
    .catch(() => {});
  return wrap;
}

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
  if (vm)
    links.push(
      el('a', {
        class: 'detail-link voicemail-link',
        text: '留守電を聞く',
        attrs: { href: vm, target: '_blank', rel: 'noopener noreferrer' },
      }),
    );
  (c.recordingUrls ?? [])
    .map(safeUrl)
    .filter(Boolean)
    .forEach((u, i, all) => {
      links.push(
        el('a', {
          class: 'detail-link recording-link',
          text: all.length > 1 ? `録音 ${i + 1}` : '録音を聞く',
          attrs: { href: u, target: '_blank', rel: 'noopener noreferrer' },
        }),
      );
    });
  const callId = c.callId ?? c.id;
  if (callId && vm) links.push(playButton(callId, 'voicemail', '留守電をここで再生'));
  if (callId && c.recordingUrls?.length)
    links.push(playButton(callId, 'recording', '録音をここで再生'));
  if (links.length) out.push(el('div', { class: 'detail detail-links' }, links));
  if (c.summary)
    out.push(
      el(
        'details',
        { class: 'detail summary' },
        el('summary', { text: '要約' }),
        el('p', { text: c.summary }),
      ),
    );
  if (c.transcript)
    out.push(
      el(
        'details',
        { class: 'detail transcript' },
        el('summary', { text: '文字起こし' }),
        el('p', { text: c.transcript }),
      ),
    );
  return out;
}
