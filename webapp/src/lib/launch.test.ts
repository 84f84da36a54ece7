import { describe, expect, it } from 'vitest';
import { launchFromHash } from './launch';

// initData as Telegram signs it: itself a query string, so encoded once more in the hash.
const RAW = 'query_id=AAE1&user=%7B%22id%22%3A1%2C%22first_name%22%3A%22Ana%20%2B%20Bo%22%7D&auth_date=1700000000&signature=c2ln&hash=abc123';
const HASH = `#tgWebAppData=${encodeURIComponent(RAW)}&tgWebAppVersion=8.0&tgWebAppPlatform=ios`;

describe('launchFromHash', () => {
  it('gives back the raw initData byte for byte', () => {
    const launch = launchFromHash(HASH);
    expect(launch.initData).toBe(RAW);
    expect(launch.route).toBe('/');
    expect(launch.params?.get('tgWebAppPlatform')).toBe('ios');
  });

  it('keeps the page a link asked for', () => {
    for (const sep of ['?', '&']) {
      const launch = launchFromHash(`#/leads/5${sep}${HASH.slice(1)}`);
      expect(launch.initData).toBe(RAW);
      expect(launch.route).toBe('/leads/5');
    }
  });

  it('finds nothing outside Telegram', () => {
    expect(launchFromHash('')).toEqual({ initData: null, params: null, route: '/' });
    expect(launchFromHash('#/settings')).toEqual({ initData: null, params: null, route: '/settings' });
  });
});
