import type { WindowRole } from './bridge-channels.js';

/** Which webContents belong to which of our windows: the IPC handlers trust only these. */
export class WindowRegistry {
  readonly #roles = new Map<number, WindowRole>();

  add(webContentsId: number, role: WindowRole): void {
    this.#roles.set(webContentsId, role);
  }

  remove(webContentsId: number): void {
    this.#roles.delete(webContentsId);
  }

  roleOf(webContentsId: number): WindowRole | undefined {
    return this.#roles.get(webContentsId);
  }

  /** The ids of windows with one of these roles (a fresh set: windows come and go). */
  ids(...roles: WindowRole[]): Set<number> {
    const ids = new Set<number>();
    for (const [id, role] of this.#roles) if (roles.includes(role)) ids.add(id);
    return ids;
  }
}
