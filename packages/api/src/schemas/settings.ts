/** Zod schemas for this area, shared with the SPA (no server imports). */
import { z } from 'zod';

export const _settingsPlaceholder = z.never().optional();
