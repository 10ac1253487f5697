import { execFile } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Makes a folder refuse writes for real, as a read-only mount or lost permissions would: chmod for
 * a normal user; as root (who ignores permissions) the Linux immutable attribute. Returns the
 * undo, or a reason when this machine can do neither (the test is then skipped with it).
 */
export async function makeUnwritable(dir: string): Promise<(() => Promise<void>) | string> {
  if (process.platform === 'win32') return 'folder permissions are not POSIX on Windows';
  if (process.getuid?.() !== 0) {
    await chmod(dir, 0o555);
    return () => chmod(dir, 0o755);
  }
  if (process.platform !== 'linux') return 'running as root, and no immutable attribute here';
  try {
    await run('chattr', ['+i', dir]);
  } catch (error) {
    return `running as root, and chattr +i failed: ${(error as Error).message}`;
  }
  return async () => {
    await run('chattr', ['-i', dir]);
  };
}
