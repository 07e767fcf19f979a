import type { Request } from 'express';
import qs from 'qs';
import { invalidRequest } from './errors';

/** Generous limits: Stripe clients send deep bracket paths (`line_items[0][price_data][product_data][name]`). */
const QS_OPTIONS = { depth: 20, arrayLimit: 1000, parameterLimit: 10_000, allowPrototypes: false } as const;

/** Parses a form-encoded string with bracket notation (`a[b][0]=x`) the way Stripe's SDKs encode it. */
function parseForm(text: string): Record<string, unknown> {
  return qs.parse(text, QS_OPTIONS);
}

/**
 * The raw parameters of an API request: the query string for GET and DELETE, otherwise the
 * body (`application/x-www-form-urlencoded`, or `application/json` whose top level is an object).
 * Expects the body as a Buffer (`express.raw`).
 */
export function requestParams(req: Request): Record<string, unknown> {
  if (req.method === 'GET' || req.method === 'DELETE') {
    const query = req.originalUrl.split('?')[1] ?? '';
    return parseForm(query);
  }
  const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  if (!req.is('application/json')) return parseForm(text);
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidRequest('Invalid JSON received in the request body.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidRequest('The JSON request body must be an object.');
  }
  return parsed as Record<string, unknown>;
}
