import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import { generate } from 'selfsigned';

/**
 * The Stripe CLI sends the meter event stream of `v1.billing.meter.*` triggers to
 * `https://meter-events.stripe.com` whatever `--api-base` says (the fixture step has its own
 * `api_base`). To serve it, the emulator acts as an HTTPS proxy for that one host: the CLI (Go)
 * honours `HTTPS_PROXY`, so with `HTTPS_PROXY=<emulator URL>` it asks the emulator to
 * `CONNECT meter-events.stripe.com:443`; the emulator answers the TLS handshake itself with a
 * certificate for that name (made on first use, with `selfsigned`) and trusted by the CLI through `SSL_CERT_FILE`
 * (`GET /_emulator/meter_events_certificate.pem`), and serves the decrypted requests with the same
 * app (`runStripeTrigger` in `stripe-cli.ts` sets this up). Nothing is forwarded anywhere: any
 * other `CONNECT` target is refused (403). Go reads `SSL_CERT_FILE` on Linux (not on macOS).
 */

/** The host the Stripe SDKs and CLI send the meter event stream to. */
export const METER_EVENTS_HOST = 'meter-events.stripe.com';

interface Credentials {
  cert: string;
  key: string;
  context: SecureContext;
}

let credentials: Promise<Credentials> | null = null;

/**
 * This process's self-signed certificate (ECDSA P-256, one year) for {@link METER_EVENTS_HOST},
 * made on first use with the `selfsigned` library, and its TLS context.
 */
export function meterEventsCredentials(): Promise<Credentials> {
  credentials ??= (async () => {
    const now = Date.now();
    const pems = await generate([{ name: 'commonName', value: METER_EVENTS_HOST }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - 86_400_000),
      notAfterDate: new Date(now + 365 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: METER_EVENTS_HOST }] },
      ],
    });
    return { cert: pems.cert, key: pems.private, context: createSecureContext({ cert: pems.cert, key: pems.private }) };
  })();
  return credentials;
}

/** The PEM certificate a client must trust to reach the emulator as {@link METER_EVENTS_HOST}. */
export const meterEventsCertificate = async () => (await meterEventsCredentials()).cert;

/**
 * Handles `CONNECT` requests on `server`: `meter-events.stripe.com:443` is answered by the
 * emulator itself over TLS (the decrypted connection is handed to `server` like a new client);
 * anything else is refused with 403 (the emulator never forwards traffic).
 */
export function handleConnect(server: Server): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    if ((req.url ?? '').toLowerCase() !== `${METER_EVENTS_HOST}:443`) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    void meterEventsCredentials().then(
      ({ context }) => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) socket.unshift(head);
        const tls = new TLSSocket(socket, { isServer: true, secureContext: context });
        tls.on('error', () => tls.destroy());
        server.emit('connection', tls);
      },
      () => socket.end('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
    );
  };
}
