import { Type } from 'typebox';
import { defineOperation, type OperationContext } from '../operations/operation.js';

function answer({ key, org }: OperationContext, documentActionsLeft: number | null, utilityActionsLeft: number | null) {
  return {
    keyName: key.name,
    keyId: key.id,
    organisation: org.name,
    organisationId: org.id,
    plan: org.plan.id,
    subscriptionStatus: org.status,
    documentActionsLeft,
    utilityActionsLeft,
  };
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
