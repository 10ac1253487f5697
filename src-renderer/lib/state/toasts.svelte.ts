export interface Toast {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

/** Short messages at the corner of the window; errors stay until dismissed or replaced. */
export class Toasts {
  items = $state<Toast[]>([]);
  #next = 1;

  error(text: string): void {
    this.#push('error', text, 12_000);
  }

  info(text: string): void {
    this.#push('info', text, 4000);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }

  #push(kind: Toast['kind'], text: string, ms: number): void {
    const toast = { id: this.#next++, kind, text };
    this.items = [...this.items.slice(-3), toast];
    setTimeout(() => this.dismiss(toast.id), ms);
  }
}

/** The message of anything thrown, for a toast. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
