/**
 * Helpers of the billing stream tests (issue 10 item 1): a Redis server of the test's own,
 * collectors for bus subscriptions and SSE connections, and waiting with deadlines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BillingStreamItem } from '@tally/api';
import { freePort } from './server-process';

/** A stream key no other test uses. */
export const uniqueStreamKey = () => `tally:test-billing-stream:${randomUUID()}`;

/** Poll `check` until it returns a value other than undefined, or throw after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Everything an async iterator yields, collected in the background; `error` when it threw. */
export function collect(iterator: AsyncIterableIterator<BillingStreamItem>) {
  const items: BillingStreamItem[] = [];
  const state: { done: boolean; error: unknown } = { done: false, error: null };
  void (async () => {
    try {
      for await (const item of iterator) items.push(item);
    } catch (err) {
      state.error = err;
    } finally {
      state.done = true;
    }
  })();
  return {
    items,
    state,
    messages: () => items.flatMap((i) => (i.type === 'message' ? [i.message] : [])),
    states: () => items.flatMap((i) => (i.type === 'state' ? [i.state] : [])),
    stop: () => iterator.return?.(),
  };
}

/** A `redis-server` of the test's own on a free port (no persistence), restartable on the same port. */
export async function ownRedis(extraArgs: string[] = []) {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on ${port} did not start:\n${out}`)), 10_000);
      proc.stdout!.on('data', (chunk) => {
        out += chunk;
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${out}`));
      });
    });
  };
  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, stop };
}

/** One parsed Server-Sent Event. */
export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

/**
 * Read a `text/event-stream` response (fetch) into events as they arrive; comments (`: ping`)
 * are counted in `comments`. `close()` aborts the request.
 */
export async function openSse(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  const state = { ended: false, comments: 0 };
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            let id: string | null = null;
            const data: string[] = [];
            let fields = 0;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) {
                state.comments++;
                continue;
              }
              const at = line.indexOf(':');
              const name = at < 0 ? line : line.slice(0, at);
              const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
              fields++;
              if (name === 'event') event = value;
              else if (name === 'id') id = value;
              else if (name === 'data') data.push(value);
            }
            if (fields > 0 && (data.length > 0 || event !== 'message')) events.push({ event, id, data: data.join('\n') });
          }
        }
      } catch {
        // aborted or connection dropped
      } finally {
        state.ended = true;
      }
    })();
  }
  return {
    res,
    events,
    state,
    messages: () => events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data) as Record<string, unknown> & { id: string; kind: string }),
    statuses: () => events.filter((e) => e.event === 'status').map((e) => (JSON.parse(e.data) as { state: string }).state),
    close: () => abort.abort(),
  };
}

/**
 * Start `tsx test/stream-server-main.ts` (the server with the stream wired) with exactly `env`
 * plus PATH/HOME, as server-process.ts's `spawnServer` starts main.ts.
 */
export function spawnStreamServer(env: Record<string, string>) {
  const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const child = spawn(path.join(serverDir, 'node_modules', '.bin', 'tsx'), ['test/stream-server-main.ts'], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TMPDIR: process.env.TMPDIR ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async waitForOutput(pattern: RegExp, timeoutMs = 60_000) {
      let gone = false;
      void exited.then(() => (gone = true));
      await waitFor(`${pattern} (stdout: ${out.slice(-500)} stderr: ${err.slice(-1500)})`, () => (pattern.test(out) ? true : gone ? (() => { throw new Error(`server exited before ${pattern}:\n${out}\n${err}`); })() : undefined), timeoutMs);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
