import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '@tally/api';
import { describe, expect, it } from 'vitest';
import { stripeWebhookFastPath } from '../src/http/stripe-webhook';

/**
 * Which requests skip Express (issue 11): only a POST to a canonical webhook URL. Everything
 * else must be left untouched for Express, which answers it as before (the HTTP tests in
 * webhook.test.ts and workspace-webhooks.test.ts cover both entries end to end).
 */
describe('stripeWebhookFastPath', () => {
  const touched: string[] = [];
  const front = [() => touched.push('front')];
  const fastPath = stripeWebhookFastPath({} as Services, front as never, () => touched.push('error'));
  const request = (method: string, url: string) => ({ method, url, headers: {} }) as IncomingMessage;
  const response = () => ({}) as ServerResponse;

  it.each([
    ['GET', '/api/stripe/webhook'],
    ['PUT', '/api/stripe/webhook'],
    ['POST', '/api/stripe/webhook/'],
    ['POST', '/API/stripe/webhook'],
    ['POST', '/api/stripe/webhooks'],
    ['POST', '/api/stripe/webhook/a%2Fb'],
    ['POST', '/api/stripe/webhook/ws/extra'],
    ['POST', `/api/stripe/webhook/${'a'.repeat(129)}`],
    ['POST', '/api/stripe'],
    ['POST', '/trpc/topups.create'],
  ])('leaves %s %s to Express, touching nothing', (method, url) => {
    touched.length = 0;
    const res = response();
    expect(fastPath(request(method, url), res)).toBe(false);
    expect(touched).toEqual([]);
    expect(res).toEqual({});
  });

  it.each([
    ['POST', '/api/stripe/webhook'],
    ['POST', '/api/stripe/webhook?workspaceId=5b0e'],
    ['POST', '/api/stripe/webhook/0b6f2a3c-5d8e-4f10-9a7b-3c2d1e0f9a8b'],
  ])('takes %s %s through the front middleware first', (method, url) => {
    touched.length = 0;
    const res = response();
    expect(fastPath(request(method, url), res)).toBe(true);
    // The stub front middleware does not call next: nothing after it runs.
    expect(touched).toEqual(['front']);
    expect(res).toHaveProperty('locals');
  });
});
