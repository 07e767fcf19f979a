import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The API server in development; in production it serves `dist/` from the same origin. */
const API_TARGET = 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    strictPort: true,
    // Listen on every interface so both http://localhost:5173 and http://127.0.0.1:5173 work.
    host: true,
    proxy: {
      '/trpc': { target: API_TARGET },
      '/api': { target: API_TARGET },
      '/healthz': { target: API_TARGET },
    },
  },
  preview: { port: 4173, strictPort: true },
});
