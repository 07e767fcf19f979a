import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PersistedState } from './store';

/** What is mirrored: a `Store`, or every account (`Accounts`). */
export interface PersistentState {
  snapshot(): PersistedState;
  restore(state: PersistedState): void;
}

/**
 * Keeps the state (every account's `Store`) mirrored in a JSON file so that it survives an emulator restart.
 * Writes are debounced (`debounceMs`) and atomic (write to a temporary file, then rename).
 */
export class StatePersistence {
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;

  constructor(
    private readonly store: PersistentState,
    private readonly path: string,
    private readonly onError: (error: unknown) => void,
    private readonly debounceMs = 200,
  ) {}

  /** Loads the file into the state if it exists (a file from before accounts loads as the default account); returns whether it did. Throws on an unreadable file. */
  load(): boolean {
    if (!existsSync(this.path)) return false;
    let state: PersistedState;
    try {
      state = JSON.parse(readFileSync(this.path, 'utf8')) as PersistedState;
    } catch (error) {
      throw new Error(`Cannot read emulator state from ${this.path} (delete it to start afresh): ${String(error)}`, { cause: error });
    }
    if (state.version !== 1) throw new Error(`Unsupported emulator state version in ${this.path}: ${String(state.version)}`);
    this.store.restore(state);
    return true;
  }

  /** Marks the state dirty and writes it after `debounceMs` of quiet. */
  schedule(): void {
    this.#dirty = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.flush().catch(this.onError), this.debounceMs);
  }

  /** Writes pending changes now; resolves once they are on disk. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    if (this.#dirty) {
      this.#dirty = false;
      const json = JSON.stringify(this.store.snapshot());
      this.#writing = this.#writing.catch(() => undefined).then(() => this.#write(json));
    }
    return this.#writing;
  }

  async #write(json: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, json);
    await rename(temporary, this.path);
  }
}
