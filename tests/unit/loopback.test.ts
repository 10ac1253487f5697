import { describe, expect, it } from 'vitest';
import { allowedHostHeaders, isLoopbackHost, servedNames } from '../../src-main/server/loopback.js';

describe('loopback checks of the web host', () => {
  it('accepts only addresses this machine alone can reach', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'LOCALHOST']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '192.168.1.5', '10.0.0.1', '::', 'example.com', '128.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('lists the Host headers a real local browser sends, and no other', () => {
    const allowed = allowedHostHeaders('127.0.0.1', 4000);
    expect(allowed.has('127.0.0.1:4000')).toBe(true);
    expect(allowed.has('localhost:4000')).toBe(true);
    expect(allowed.has('[::1]:4000')).toBe(true);
    expect(allowed.has('127.0.0.1:4001')).toBe(false);
    expect(allowed.has('attacker.example:4000')).toBe(false);
    expect(allowedHostHeaders('::1', 5).has('[::1]:5')).toBe(true);
  });

  it('under --allow-remote still allows only the names this machine is served under', () => {
    const interfaces = {
      lo: [{ address: '127.0.0.1' }, { address: '::1' }],
      eth0: [{ address: '192.168.1.20' }, { address: 'fe80::1%eth0' }],
    } as unknown as Parameters<typeof servedNames>[1];
    const all = allowedHostHeaders('0.0.0.0', 4000, servedNames('0.0.0.0', interfaces, 'desk'));
    for (const host of ['192.168.1.20:4000', '[fe80::1]:4000', 'desk:4000', 'desk.local:4000']) {
      expect(all.has(host), host).toBe(true);
    }
    expect(all.has('attacker.example:4000')).toBe(false);
    expect(all.has('192.168.1.21:4000')).toBe(false);
    const one = allowedHostHeaders(
      '192.168.1.20',
      80,
      servedNames('192.168.1.20', interfaces, 'desk'),
    );
    expect(one.has('192.168.1.20')).toBe(true);
    expect(one.has('10.0.0.1')).toBe(false);
  });
});
