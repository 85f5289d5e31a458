// @ts-check
// Dialpad API v2: the parts of its published schema that `npm run dialpad:setup` sends.
//
// Source: Dialpad's own SDK, dialpad/dialpad-python-sdk, generated from its OpenAPI spec
// (dialpad_api_spec.json): src/dialpad/schemas/call_event_subscription.py
// (CreateCallEventSubscription, UpdateCallEventSubscription, CallEventSubscriptionProto) and
// src/dialpad/schemas/webhook.py (CreateWebhook, UpdateWebhook, WebhookProto). Keep this file
// the only place in the scripts that spells these enums.

/** `call_states` items (CreateCallEventSubscription.call_states), in the SDK's order. */
export const CALL_STATES = Object.freeze([
  'admin',
  'admin_recording',
  'ai_playbook',
  'all',
  'barge',
  'blocked',
  'call_transcription',
  'calling',
  'connected',
  'csat',
  'dispositions',
  'eavesdrop',
  'hangup',
  'hold',
  'merged',
  'missed',
  'monitor',
  'parked',
  'pcsat',
  'postcall',
  'preanswer',
  'queued',
  'recap_action_items',
  'recap_outcome',
  'recap_purposes',
  'recap_summary',
  'recording',
  'ringing',
  'takeover',
  'transcription',
  'voicemail',
  'voicemail_uploaded',
]);

/**
 * What the popup and the call log use: the ring that pops, the live states, how the call ended,
 * and the post-call events that enrich it (voicemail link, recording, transcript, AI recap).
 */
export const DEFAULT_CALL_STATES = Object.freeze([
  'calling',
  'ringing',
  'preanswer',
  'queued',
  'connected',
  'hold',
  'hangup',
  'missed',
  'voicemail',
  'voicemail_uploaded',
  'transcription',
  'recording',
  'recap_summary',
]);

/** `target_type` (CreateCallEventSubscription.target_type). No `company`: omit the target. */
export const TARGET_TYPES = Object.freeze([
  'callcenter',
  'callrouter',
  'channel',
  'coachinggroup',
  'coachingteam',
  'department',
  'office',
  'room',
  'staffgroup',
  'unknown',
  'user',
]);

/** Every field CreateCallEventSubscription / UpdateCallEventSubscription define. */
export const SUBSCRIPTION_FIELDS = Object.freeze([
  'call_states',
  'enabled',
  'endpoint_id',
  'group_calls_only',
  'target_id',
  'target_type',
]);

/** CreateWebhook: `hook_url` required, `secret` optional (we always set one). */
export const WEBHOOK_FIELDS = Object.freeze(['hook_url', 'secret']);

/** Refuses a state list that Dialpad would refuse, naming the offending entries. */
export function checkCallStates(states) {
  if (!Array.isArray(states) || states.length === 0)
    throw new Error('call states: give at least one');
  const bad = states.filter((s) => !CALL_STATES.includes(s));
  if (bad.length)
    throw new Error(
      `unknown call state(s) ${bad.join(', ')}; Dialpad accepts: ${CALL_STATES.join(', ')}`,
    );
  return [...new Set(states)];
}

export function checkTargetType(type) {
  if (!TARGET_TYPES.includes(type)) {
    throw new Error(
      `--target-type must be one of ${TARGET_TYPES.join(', ')} (leave the target out for the whole company), got ${type}`,
    );
  }
  return type;
}
