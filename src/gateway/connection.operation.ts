import { Type } from 'typebox';
import type { CachedKey, CachedOrg } from '../operations/caller.js';
import { defineOperation, JsonAnswer, type OperationContext } from '../operations/operation.js';

/**
 * The answer's text up to `"documentActionsLeft":`, per cached key, made once for the key and
 * organisation objects it was made from: the cache replaces those objects on every change (a
 * renamed key, another plan), so a kept text never outlives what it says.
 */
const answerStarts = new WeakMap<CachedKey, { org: CachedOrg; text: string }>();

function answerStart(key: CachedKey, org: CachedOrg): string {
  const known = answerStarts.get(key);
  if (known !== undefined && known.org === org) return known.text;
  const text = `{"keyName":${JSON.stringify(key.name)},"keyId":${JSON.stringify(key.id)},"organisation":${JSON.stringify(org.name)},"organisationId":${JSON.stringify(org.id)},"plan":${JSON.stringify(org.plan.id)},"subscriptionStatus":${JSON.stringify(org.status)},"documentActionsLeft":`;
  answerStarts.set(key, { org, text });
  return text;
}

/**
 * CheckConnection's answer as JSON text, the same text the response schema's serializer writes
 * for it: only the two counts change from one request to the next, so the rest is kept ready.
 */
export function connectionAnswer(key: CachedKey, org: CachedOrg, documentActionsLeft: number | null, utilityActionsLeft: number | null): JsonAnswer {
  return new JsonAnswer(`${answerStart(key, org)}${documentActionsLeft},"utilityActionsLeft":${utilityActionsLeft}}`);
}

function answer({ key, org }: OperationContext, documentActionsLeft: number | null, utilityActionsLeft: number | null): JsonAnswer {
  return connectionAnswer(key, org, documentActionsLeft, utilityActionsLeft);
}

/** CheckConnection: Power Automate's connection test; not billed. */
export const checkConnection = defineOperation({
  operationId: 'CheckConnection',
  method: 'GET',
  path: '/connection',
  summary: 'Check the connection',
  description: 'Checks that the API key of the connection works and tells which organisation and plan it belongs to.',
  actionType: 'none',
  feature: 'connection',
  visibility: 'internal',
  response: Type.Object({
    keyName: Type.String({ description: 'The name of the API key', 'x-ms-summary': 'Key Name' }),
    keyId: Type.String({ description: 'The id of the API key', 'x-ms-summary': 'Key ID' }),
    organisation: Type.String({ description: 'The organisation the key belongs to', 'x-ms-summary': 'Organisation' }),
    organisationId: Type.String({ description: 'The id of the organisation', 'x-ms-summary': 'Organisation ID' }),
    plan: Type.String({ description: 'The subscription plan', 'x-ms-summary': 'Plan' }),
    subscriptionStatus: Type.String({ description: 'The subscription status', 'x-ms-summary': 'Subscription Status' }),
    documentActionsLeft: Type.Union([Type.Integer(), Type.Null()], {
      description: 'Document actions left this billing period; empty when unlimited',
      'x-ms-summary': 'Document Actions Left',
    }),
    utilityActionsLeft: Type.Union([Type.Integer(), Type.Null()], {
      description: 'Utility actions left this billing period; empty when unlimited',
      'x-ms-summary': 'Utility Actions Left',
    }),
  }),
  handle: (_body, caller) => {
    // In memory after the organisation's first request of the period (answered without a
    // promise); that first one loads both at once.
    const document = caller.quotaLeft('document');
    const utility = caller.quotaLeft('utility');
    if (document instanceof Promise || utility instanceof Promise) return Promise.all([document, utility]).then(([d, u]) => answer(caller, d, u));
    return answer(caller, document, utility);
  },
});
