/** Workspace API keys: create (shown once), authenticate (`Authorization: Bearer`), list, revoke. */
export { createApiKey, randomBase62, type CreatedApiKey } from './create';
export { authenticateApiKey, LAST_USED_RESOLUTION_MS, type ApiKeyPrincipal } from './authenticate';
export { listApiKeys, type ApiKeyView } from './list';
export { revokeApiKey } from './revoke';
export { hashApiKey } from './hash';
