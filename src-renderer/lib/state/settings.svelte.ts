import type { Settings, SettingsPatch } from '../../../src-main/api/contract';
import type { ApiClient } from '../api/client';
import { messageOf, type Toasts } from './toasts.svelte';

/** The user's settings as the core keeps them (settings.json of the data folder). */
export class SettingsStore {
  current = $state<Settings | null>(null);
  /** Where the app runs: the local API server setting is the desktop's (`serve` always has it). */
  mode = $state<'web' | 'electron' | null>(null);
  readonly #client: ApiClient;
  readonly #toasts: Toasts;

  constructor(client: ApiClient, toasts: Toasts) {
    this.#client = client;
    this.#toasts = toasts;
  }

  async refresh(): Promise<void> {
    try {
      const [current, info] = await Promise.all([
        this.#client.call('settings.get', {}),
        this.#client.call('app.info', {}),
      ]);
      this.current = current;
      this.mode = info.mode;
    } catch (error) {
      this.#toasts.error(messageOf(error));
    }
  }

  async save(patch: SettingsPatch): Promise<boolean> {
    try {
      this.current = await this.#client.call('settings.update', patch);
      return true;
    } catch (error) {
      this.#toasts.error(messageOf(error));
      return false;
    }
  }
}
