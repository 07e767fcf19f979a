/**
 * The logger the domain writes to: pino's call shape (`logger.error({ eventId, err }, 'msg')`),
 * so the server passes a pino instance and tests pass a recorder. Never log secrets, payloads
 * or personal data: ids, codes and error messages only.
 */
export interface Logger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** A logger that drops everything (scripts and tests that do not read logs). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** One recorded log line (see `recordingLogger`). */
export interface LogRecord {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps what it is given, for tests that assert what was (and was not) logged. */
export function recordingLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at = (level: LogRecord['level']) => (fields: Record<string, unknown>, message: string) => void records.push({ level, fields, message });
  return { records, info: at('info'), warn: at('warn'), error: at('error') };
}
