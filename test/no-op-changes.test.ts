/**
 * A change to nothing is not a change (CONTRACT §5 audit log, §11 events): a PATCH or PUT that
 * leaves everything as it was answers 200 with the resource as it is, and writes no audit entry
 * and no event (no webhook delivery, no mail, no trigger for a rename that renamed nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from '../src/events/event-log.js';
import { addMember, callGateway, createKey, signup, startTestApp, type Session, type TestApp } from './support/harness.js';

describe('a change to nothing writes no audit entry and no event', () => {
  let t: TestApp;
  let admin: Session;
  let memberId: string;
  let keyId: string;
  let rotatedId: string;
  let flowId: string;
  let webhookId: string;

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: Record<string, unknown>) =>
    t.app.inject({ method, url, headers: { cookie: admin.cookie }, ...(payload === undefined ? {} : { payload }) });

  /** How many audit entries and events the organisation has. */
  async function written(): Promise<{ audit: number; events: number }> {
    const audit = (await api('GET', '/api/audit?limit=1')).json().total;
    const events = (await readEvents(t.services.db, 0, [], 100_000)).filter((row) => row.event.organisationId === admin.orgId).length;
    return { audit, events };
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { WEBHOOKS_ALLOW_PRIVATE: 'true', SELF_SERVICE_PLANS: 'true' } });
    admin = await signup(t, 'Steady Ltd');
    memberId = (await addMember(t, admin, 'member')).userId;
    const key = await createKey(t, admin, { name: 'prod-steady-flow-ops', team: 'Ops', environment: 'production' });
    keyId = key.id;
    expect((await callGateway(t, key.secret, { 'x-ms-workflow-name': 'steady-flow' })).statusCode).toBe(200);
    await t.services.usage.flush();
    flowId = (await api('GET', '/api/flows')).json().items[0].id;
    expect((await api('PATCH', `/api/flows/${flowId}`, { label: 'Invoices' })).statusCode).toBe(200);
    rotatedId = (await createKey(t, admin, { name: 'prod-rotated-flow-ops' })).id;
    expect((await api('POST', `/api/keys/${rotatedId}/rotate`, {})).statusCode).toBe(201);
    const webhook = await api('POST', '/api/webhooks', {
      url: 'http://127.0.0.1:9/steady',
      eventTypes: ['api_key.created', 'api_key.revoked'],
      description: 'Ops pager',
    });
    expect(webhook.statusCode, webhook.body).toBe(201);
    webhookId = webhook.json().endpoint.id;
  });
  afterAll(() => t?.close());

  const unchanged: Array<[string, 'PATCH' | 'PUT', () => string, () => Record<string, unknown>]> = [
    ['an empty webhook PATCH', 'PATCH', () => `/api/webhooks/${webhookId}`, () => ({})],
    [
      'a webhook PATCH with the values it has (event types in another order, the description with spaces around)',
      'PATCH',
      () => `/api/webhooks/${webhookId}`,
      () => ({ url: 'http://127.0.0.1:9/steady', eventTypes: ['api_key.revoked', 'api_key.created'], description: ' Ops pager ', enabled: true }),
    ],
    [
      'a key PATCH with its own name, team and environment',
      'PATCH',
      () => `/api/keys/${keyId}`,
      () => ({ name: ' prod-steady-flow-ops ', team: 'Ops', environment: 'production' }),
    ],
    ['a flow label it already has', 'PATCH', () => `/api/flows/${flowId}`, () => ({ label: 'Invoices' })],
    ["a rotation's revokeWhenDrained as it is", 'PATCH', () => `/api/keys/${rotatedId}/rotation`, () => ({ revokeWhenDrained: false })],
    ['the role a member has', 'PATCH', () => `/api/members/${memberId}`, () => ({ role: 'member' })],
    ['the plan the organisation has', 'PUT', () => '/api/subscription', () => ({ plan: 'large' })],
    ['the leak response the organisation has', 'PUT', () => '/api/organisation/settings', () => ({ leakResponse: 'revoke' })],
  ];

  for (const [what, method, url, body] of unchanged) {
    it(`${what}: 200, nothing written`, async () => {
      const before = await written();
      const response = await api(method, url(), body());
      expect(response.statusCode, response.body).toBe(200);
      expect(await written()).toEqual(before);
    });
  }

  it('a real change next to unchanged fields is audited with only what changed', async () => {
    const before = await written();
    const response = await api('PATCH', `/api/webhooks/${webhookId}`, { url: 'http://127.0.0.1:9/steady', description: 'Ops pager (night)', enabled: true });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().description).toBe('Ops pager (night)');
    expect((await written()).audit).toBe(before.audit + 1);
    const [entry] = (await api('GET', `/api/audit?resourceId=${webhookId}&eventType=webhook.updated`)).json().items;
    expect(entry.details).toMatchObject({ changed: ['description'] });

    const renamed = await api('PATCH', `/api/keys/${keyId}`, { name: 'prod-steady-flow-finance', team: 'Ops' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    const [rename] = (await api('GET', `/api/audit?resourceId=${keyId}&eventType=key.renamed`)).json().items;
    expect(rename.details).toMatchObject({ from: 'prod-steady-flow-ops', to: 'prod-steady-flow-finance' });
    // The team sent as it was is not in the entry as a change.
    expect(rename.details).not.toHaveProperty('team');
    expect((await written()).events).toBe(before.events + 1);
  });
});
