/**
 * The server's logger: pino, JSON lines in production (for log shippers), pretty in
 * development. Known secret-bearing fields are redacted wherever they appear.
 */
import { pino, type Logger as Pino } from 'pino';
import pretty from 'pino-pretty';

export function createLogger({ environment }: { environment: 'development' | 'production' | 'test' }): Pino {
  const options = {
    level: environment === 'test' ? 'warn' : 'info',
    base: undefined,
    redact: {
      paths: ['password', '*.password', 'secret', '*.secret', 'authorization', '*.authorization', 'cookie', '*.cookie', 'payload', '*.payload', 'rawBody'],
      censor: '[redacted]',
    },
  };
  return environment === 'development' ? pino(options, pretty({ colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' })) : pino(options);
}
