import type { Services } from '@tally/api';
import { Router } from 'express';

/** STUB (owned by the access work): `GET /api/v1/customers/:customerId/access` with a workspace API key. */
export function customerAccessRoutes(_services: Services): Router {
  return Router();
}
