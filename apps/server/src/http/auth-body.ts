/**
 * Bodies of `/api/auth/*` requests, bounded. better-auth's node adapter (better-call) reads a
 * body whole with no size limit, so one anonymous 60 MB POST to `/api/auth/sign-in/email`
 * grew the server by 180 MB. Here Express parses it first, JSON or form-encoded only and at
 * most `AUTH_BODY_LIMIT` bytes (413 beyond, 415 for another type); better-call then uses the
 * parsed body instead of reading the stream.
 */
import express, { type RequestHandler } from 'express';
import { requestIdOf } from './request-id';

/** Largest auth request body (bytes): sign-in and sign-up forms are a few hundred. */
export const AUTH_BODY_LIMIT = 64 * 1024;

export function authBodyParsers(): RequestHandler[] {
  // Refused before any byte is read: body-parser would drain a declared oversized body first.
  const refuseUpfront: RequestHandler = (req, res, next) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const hasBody = req.headers['transfer-encoding'] !== undefined || declared > 0;
    if (!hasBody) return next();
    if (!req.is(['application/json', 'application/x-www-form-urlencoded'])) {
      return void res.status(415).json({ error: 'Send auth requests as application/json', requestId: requestIdOf(res) });
    }
    if (declared > AUTH_BODY_LIMIT) return void res.status(413).json({ error: `Body larger than ${AUTH_BODY_LIMIT} bytes`, requestId: requestIdOf(res) });
    next();
  };
  return [refuseUpfront, express.json({ limit: AUTH_BODY_LIMIT }), express.urlencoded({ limit: AUTH_BODY_LIMIT, extended: false })];
}
