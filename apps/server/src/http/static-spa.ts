/**
 * The built SPA (apps/web/dist) in production, compressed, with caching that suits Vite's
 * output: files under `/assets/` have a content hash in their name, so they never change and
 * are cached for a year (`immutable`, RFC 8246); `index.html` (also the fallback for client
 * routes) and other root files are revalidated on every load (`no-cache`), so a deploy is
 * picked up at once.
 */
import path from 'node:path';
import compression from 'compression';
import express, { type Router } from 'express';

/** Cache-Control of hashed assets: one year, never revalidated. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** Cache-Control of index.html and unhashed files: store, but revalidate before each use. */
export const REVALIDATE_CACHE = 'no-cache';

/**
 * Serve `webDistDir` (which must contain index.html). Compression (gzip/deflate as the
 * client's Accept-Encoding asks) applies to this router only: API responses carry session
 * tokens and user data next to client input, which is what BREACH-style attacks need.
 * Unknown `/assets/*` files are 404 (never index.html under a script's name); unknown
 * `/api/*` paths fall through to 404; any other GET is a client route and gets index.html.
 */
export function serveSpa(webDistDir: string): Router {
  const indexHtml = path.join(webDistDir, 'index.html');
  const spa = express.Router();
  spa.use(compression());
  spa.use('/assets', express.static(path.join(webDistDir, 'assets'), { index: false, fallthrough: false, maxAge: '1y', immutable: true }));
  spa.use(
    express.static(webDistDir, {
      index: false,
      cacheControl: false,
      setHeaders: (res) => res.setHeader('Cache-Control', REVALIDATE_CACHE),
    }),
  );
  spa.get('/{*path}', (req, res, next) => {
    if (req.path.startsWith('/api/') || req.path.startsWith('/trpc/')) return next();
    res.setHeader('Cache-Control', REVALIDATE_CACHE);
    res.sendFile(indexHtml, { cacheControl: false }, (err) => err && next(err));
  });
  return spa;
}
