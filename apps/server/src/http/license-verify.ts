import type { Services } from '@tally/api';
import { Router } from 'express';

/** STUB (owned by the licenses work): `POST /api/v1/licenses/verify`, rate limited per IP and per key. */
export function licenseVerifyRoutes(_services: Services): Router {
  return Router();
}
