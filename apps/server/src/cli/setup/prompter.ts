/**
 * The questions `pnpm tally setup` asks, behind a small interface so tests can answer them:
 * the real one is @inquirer/prompts (v7) on the terminal, or on any streams given as its
 * context (`{ input, output }`).
 */
import { confirm, input, password, select } from '@inquirer/prompts';

export interface Choice<T extends string> {
  value: T;
  name: string;
  description?: string;
}

/** A validator: true when the answer is acceptable, else the message to show (the question is asked again). */
export type Validate = (value: string) => true | string | Promise<true | string>;

export interface Prompter {
  /** A line of text; `display` shows the answer on screen (e.g. a URL with its password hidden). */
  input(q: { message: string; default?: string; validate?: Validate; display?: (value: string) => string }): Promise<string>;
  /** A secret: typed characters are masked and never echoed. */
  password(q: { message: string; validate?: Validate }): Promise<string>;
  select<T extends string>(q: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  confirm(q: { message: string; default?: boolean }): Promise<boolean>;
}

export interface PromptStreams {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

/** Inquirer's prompts on `streams` (default: the terminal). Ctrl-C rejects with inquirer's `ExitPromptError`. */
export function inquirerPrompter(streams: PromptStreams = {}): Prompter {
  const context = { ...streams };
  return {
    input: (q) =>
      input(
        {
          message: q.message,
          ...(q.default !== undefined ? { default: q.default } : {}),
          ...(q.validate ? { validate: q.validate } : {}),
          ...(q.display ? { transformer: (value: string) => q.display!(value) } : {}),
        },
        context,
      ),
    password: (q) => password({ message: q.message, mask: '*', ...(q.validate ? { validate: q.validate } : {}) }, context),
    select: <T extends string>(q: { message: string; choices: Choice<T>[]; default?: T }) =>
      select<T>({ message: q.message, choices: q.choices, ...(q.default !== undefined ? { default: q.default } : {}) }, context),
    confirm: (q) => confirm({ message: q.message, ...(q.default !== undefined ? { default: q.default } : {}) }, context),
  };
}
