/**
 * The operationId of every management operation, in one place (OpenAPI clients name their
 * methods after them). A documented `/api` route without one stops the server at start, so a
 * new route cannot be published without a name.
 */
import type { App } from './types.js';

const OPERATION_IDS: Record<string, string> = {
  'POST /api/auth/signup': 'signUp',
  'POST /api/auth/signin': 'signIn',
  'POST /api/auth/signout': 'signOut',
  'GET /api/me': 'getMe',
  'POST /api/invitations/accept': 'acceptInvitation',
  'GET /api/keys': 'listKeys',
  'POST /api/keys': 'createKey',
  'GET /api/keys/:id': 'getKey',
  'PATCH /api/keys/:id': 'updateKey',
  'DELETE /api/keys/:id': 'deleteKey',
  'POST /api/keys/:id/suspend': 'suspendKey',
  'POST /api/keys/:id/resume': 'resumeKey',
  'POST /api/keys/:id/revoke': 'revokeKey',
  'POST /api/keys/:id/rotate': 'rotateKey',
  'GET /api/usage': 'getUsage',
  'GET /api/usage/export.csv': 'exportUsage',
  'GET /api/keys/:id/usage': 'getKeyUsage',
  'GET /api/keys/:id/flows': 'listKeyFlows',
  'POST /api/keys/bulk': 'bulkChangeKeys',
  'GET /api/keys/:id/rotation': 'getKeyRotation',
  'PATCH /api/keys/:id/rotation': 'updateKeyRotation',
  'GET /api/flows': 'listFlows',
  'GET /api/flows/:id': 'getFlow',
  'PATCH /api/flows/:id': 'updateFlow',
  'GET /api/hygiene': 'getKeyHygiene',
  'GET /api/members': 'listMembers',
  'POST /api/invitations': 'createInvitation',
  'PATCH /api/members/:userId': 'updateMember',
  'POST /api/members/:userId/deactivate': 'deactivateMember',
  'POST /api/members/:userId/transfer-keys': 'transferMemberKeys',
  'GET /api/audit': 'listAuditEvents',
  'GET /api/audit/export.csv': 'exportAuditEvents',
  'GET /api/subscription': 'getSubscription',
  'PUT /api/subscription': 'updateSubscription',
  'GET /api/me/mail-preferences': 'getMailPreferences',
  'PUT /api/me/mail-preferences': 'updateMailPreferences',
  'GET /api/organisation/settings': 'getOrganisationSettings',
  'PUT /api/organisation/settings': 'updateOrganisationSettings',
  'GET /api/webhooks': 'listWebhooks',
  'POST /api/webhooks': 'createWebhook',
  'GET /api/webhooks/:id': 'getWebhook',
  'PATCH /api/webhooks/:id': 'updateWebhook',
  'DELETE /api/webhooks/:id': 'deleteWebhook',
  'POST /api/webhooks/:id/rotate-secret': 'rotateWebhookSecret',
  'POST /api/webhooks/:id/test': 'testWebhook',
  'GET /api/webhooks/:id/deliveries': 'listWebhookDeliveries',
};

export function installOperationIds(app: App): void {
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/') || route.url.startsWith('/api/docs') || !route.schema || route.schema.hide || route.schema.operationId) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.length === 1 && methods[0] === 'HEAD') return;
    const name = `${methods.filter((m) => m !== 'HEAD').join(',')} ${route.url}`;
    const id = OPERATION_IDS[name];
    if (!id) throw new Error(`${name} has no operationId: add one to src/http/operation-ids.ts`);
    route.schema = { ...route.schema, operationId: id };
  });
}
