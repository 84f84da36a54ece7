// Reads how the Mini App was launched, before anything else runs: a hash router would
// replace `#tgWebAppData=...` with its own route and the initData would be lost.

export interface Launch {
  /** The raw initData string, exactly as Telegram signed it. */
  initData: string | null;
  /** Telegram's launch parameters (tgWebApp*), kept for the SDK. */
  params: URLSearchParams | null;
  /** The app route the launch asked for ("/leads/5" from a "View lead" button), or "/". */
  route: string;
}

const STORAGE_KEY = 'eplan.launch';

/** Parses a location hash ("#tgWebAppData=...&tgWebAppVersion=...") into launch params. */
export function launchFromHash(hash: string): Launch {
  let query = hash.startsWith('#') ? hash.slice(1) : hash;
  let route = '/';
  // A link to a page ("#/leads/5") gets Telegram's parameters after a "?" (or an "&").
  if (query.startsWith('/')) {
    const marks = [query.indexOf('?'), query.indexOf('&')].filter((i) => i !== -1);
    const mark = marks.length ? Math.min(...marks) : -1;
    route = mark === -1 ? query : query.slice(0, mark);
    query = mark === -1 ? '' : query.slice(mark + 1);
  }
  if (!query.includes('tgWebAppData=')) return { initData: null, params: null, route };
  const params = new URLSearchParams(query);
  // URLSearchParams decodes once, which is exactly how Telegram encoded initData into the
  // hash; the result is the string the HMAC was computed over.
  const initData = params.get('tgWebAppData');
  return { initData: initData || null, params, route };
}

/** Reads the launch from the hash, or from this tab's session after a reload. */
export function readLaunch(): Launch {
  const fromHash = launchFromHash(window.location.hash);
  if (fromHash.initData !== null && fromHash.params !== null) {
    try {
      sessionStorage.setItem(STORAGE_KEY, fromHash.params.toString());
    } catch {
      // Storage can be disabled; a reload then starts in local mode, which is acceptable.
    }
    return fromHash;
  }
  try {
    const stored = sessionStorage.getItem(STORAGE_KEY);
    if (stored) return { ...launchFromHash(stored), route: fromHash.route };
  } catch {
    // see above
  }
  return fromHash;
}
