/**
 * Reading and updating a `.env` file for `pnpm tally setup` without losing anything in it:
 * values are read with dotenv (the format's reference parser), and each variable setup sets is
 * rewritten in place on its own line (or added next to its commented-out template line, as in
 * `.env.example`, or at the end). Every other line, value, comment and blank line stays as it
 * was, byte for byte. The file is written atomically (a temporary file in the same directory,
 * fsynced, then renamed over the old one) with mode 0600, since it holds secrets.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse } from 'dotenv';

export interface EnvFile {
  /** Absolute path of the file setup writes. */
  path: string;
  /** Whether it existed (false: `text` is the template, or empty). */
  existed: boolean;
  /** Its text as read (or the template's, for a new file). */
  text: string;
  /** Its values as dotenv reads them (an empty value reads as ''). */
  values: Record<string, string>;
}

/**
 * Read `file`; when it does not exist, start from `template` (e.g. the repo's `.env.example`,
 * whose comments document every variable) if that exists, else from nothing.
 * @throws Error when `file` exists but cannot be read.
 */
export function readEnvFile(file: string, template?: string): EnvFile {
  const absolute = path.resolve(file);
  const existed = existsSync(absolute);
  const text = existed ? readFileSync(absolute, 'utf8') : template && existsSync(template) ? readFileSync(template, 'utf8') : '';
  return { path: absolute, existed, text, values: parse(text) };
}

/** Characters a value may have and still be written unquoted (dotenv reads `#` as a comment, spaces and quotes as syntax). */
const BARE = /^[A-Za-z0-9_.,:/@%+=?&~*-]*$/;

/**
 * A value as dotenv writes it back: bare when safe, else in single quotes (dotenv reads those
 * literally), else double quotes.
 * @throws Error for a value dotenv cannot read back exactly (it has both quote kinds, a
 *   newline or a backslash with a double quote).
 */
export function formatEnvValue(value: string): string {
  if (BARE.test(value)) return value;
  if (!value.includes("'") && !/[\r\n]/.test(value)) return `'${value}'`;
  if (!value.includes('"') && !value.includes('\\') && !/[\r\n]/.test(value)) return `"${value}"`;
  throw new Error('a value with both quote characters, a newline or a backslash cannot be written to .env');
}

const ASSIGNMENT = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$/;

interface Entry {
  key: string;
  /** First and last line index (a quoted value may span lines). */
  start: number;
  end: number;
  /** `export ` or indentation before the key. */
  prefix: string;
  /** An inline ` # comment` after a single-line value, kept when the value changes. */
  comment: string;
}

/** Where each `KEY=value` assignment is, following dotenv's rules for quoted multi-line values. */
function entriesOf(lines: string[]): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = ASSIGNMENT.exec(lines[i]!);
    if (!match) continue;
    const [, prefix = '', key = '', , rest = ''] = match;
    const quote = rest[0];
    let end = i;
    let comment = '';
    if (quote === '"' || quote === "'" || quote === '`') {
      const close = rest.indexOf(quote, 1);
      if (close === -1) {
        // A multi-line value: it ends on the next line holding the closing quote.
        let j = i + 1;
        while (j < lines.length && !lines[j]!.includes(quote)) j++;
        end = j < lines.length ? j : i;
      } else {
        comment = /^\s+#.*$/.test(rest.slice(close + 1)) ? rest.slice(close + 1) : '';
      }
    } else {
      // dotenv ends a bare value at the first `#`.
      const hash = rest.indexOf('#');
      comment = hash === -1 ? '' : /^\s/.test(rest.slice(hash - 1, hash)) ? rest.slice(rest.slice(0, hash).search(/\s*$/)) : ` ${rest.slice(hash)}`;
    }
    entries.push({ key, start: i, end, prefix, comment });
    i = end;
  }
  return entries;
}

/**
 * `text` with each variable of `updates` set: every assignment of it rewritten in place (its
 * `export` prefix and inline comment kept); a variable without one goes right after its last
 * commented-out `# KEY=` line, else at the end under a `# Added by pnpm tally setup` line.
 * Nothing else changes. Line endings follow the file's (`\r\n` or `\n`).
 * @throws Error when a value cannot be written so that dotenv reads it back exactly.
 */
export function updateEnvText(text: string, updates: Readonly<Record<string, string>>): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.length === 0 ? [] : text.split(/\r?\n/);
  // A final newline leaves an empty last element: keep it out of the edit, add it back.
  const trailingNewline = lines.length > 0 && lines[lines.length - 1] === '';
  if (trailingNewline) lines.pop();
  const entries = entriesOf(lines);
  const replaced = new Map<number, string[]>();
  const insertedAfter = new Map<number, string[]>();
  const appended: string[] = [];
  for (const [key, value] of Object.entries(updates)) {
    const line = (prefix: string, comment: string) => `${prefix}${key}=${formatEnvValue(value)}${comment}`;
    const own = entries.filter((e) => e.key === key);
    if (own.length > 0) {
      for (const e of own) {
        replaced.set(e.start, [line(e.prefix, e.comment)]);
        for (let i = e.start + 1; i <= e.end; i++) replaced.set(i, []);
      }
      continue;
    }
    const template = new RegExp(`^\\s*#\\s*(?:export\\s+)?${key.replace(/[.]/g, '\\.')}\\s*=`);
    const at = lines.findLastIndex((l) => template.test(l));
    if (at !== -1) insertedAfter.set(at, [...(insertedAfter.get(at) ?? []), line('', '')]);
    else appended.push(line('', ''));
  }
  const out: string[] = [];
  lines.forEach((l, i) => {
    out.push(...(replaced.get(i) ?? [l]));
    out.push(...(insertedAfter.get(i) ?? []));
  });
  if (appended.length > 0) {
    if (out.length > 0 && out[out.length - 1]!.trim() !== '') out.push('');
    out.push('# Added by pnpm tally setup', ...appended);
  }
  const result = out.join(eol) + (out.length > 0 ? eol : '');
  // Read it back as the server's loader will: every value set must come back exactly.
  const check = parse(result);
  for (const [key, value] of Object.entries(updates)) {
    if (check[key] !== value) throw new Error(`${key}: could not be written so that it reads back unchanged`);
  }
  return result;
}

/**
 * Write `text` to `file` atomically with mode 0600: a temporary file beside it, fsynced,
 * renamed over it (a reader sees the old file or the new one, never half of one).
 * @throws Error from the file system (directory missing or not writable, ...); the
 *   temporary file is removed.
 */
export function writeEnvFileAtomic(file: string, text: string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  }
}
