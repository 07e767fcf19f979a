import { cpSync } from 'node:fs';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts', 'src/migrate.ts'],
  format: 'esm',
  platform: 'node',
  target: 'node20',
  clean: true,
  // Workspace packages are TypeScript source: bundle them; npm dependencies stay external.
  noExternal: [/^@tally\//],
  onSuccess: async () => {
    cpSync('../../packages/db/migrations', 'dist/migrations', { recursive: true });
  },
});
