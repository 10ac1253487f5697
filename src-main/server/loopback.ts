import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/** Addresses that mean "every interface" when listened on. */
function isWildcard(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === '' || bare === '0.0.0.0' || bare === '::';
}

/**
 * The names a browser elsewhere on the network may use to reach a server listening on `host`
 * (`--allow-remote`): that address, or for a wildcard every address of this machine's
 * interfaces; and the machine's host name.
 */
export function servedNames(
  host: string,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
  machineName: string = hostname(),
): string[] {
  const names = [machineName, `${machineName}.local`];
  if (!isWildcard(host)) return [host, ...names];
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) names.push(entry.address.replace(/%.*$/, ''));
  }
  return names;
}

/**
 * The Host header values a browser sends when it really talks to this server: the loopback names,
 * the bound address and `extraNames` (the served names under `--allow-remote`). Anything else is a
 * DNS-rebinding attempt (a foreign name pointed at one of our addresses) and is refused.
 */
export function allowedHostHeaders(
  boundHost: string,
  port: number,
  extraNames: readonly string[] = [],
): Set<string> {
  const names = new Set<string>();
  for (const name of [boundHost, 'localhost', '127.0.0.1', '::1', ...extraNames]) {
    names.add(name.includes(':') && !name.startsWith('[') ? `[${name}]` : name);
  }
  const headers = new Set<string>();
  for (const name of names) {
    headers.add(`${name}:${port}`.toLowerCase());
    // Browsers leave the default port out of the Host header.
    if (port === 80) headers.add(name.toLowerCase());
  }
  return headers;
}
