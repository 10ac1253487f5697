import { isIP } from 'node:net';

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/**
 * The Host header values a browser sends when it really talks to this server. Anything else is a
 * DNS-rebinding attempt (a foreign name pointed at 127.0.0.1) and is refused.
 */
export function allowedHostHeaders(boundHost: string, port: number): Set<string> {
  const names = new Set([boundHost, 'localhost', '127.0.0.1', '[::1]']);
  if (boundHost.includes(':') && !boundHost.startsWith('[')) names.add(`[${boundHost}]`);
  return new Set([...names].map((name) => `${name}:${port}`.toLowerCase()));
}
