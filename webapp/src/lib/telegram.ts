// Everything that touches the Telegram client goes through here, and every call is safe
// outside Telegram: a feature the client lacks is skipped, never thrown to the user.
import {
  backButton,
  copyTextToClipboard,
  hapticFeedback,
  init,
  miniApp,
  themeParams,
  viewport,
} from '@tma.js/sdk-react';

let insideTelegram = false;

export function isInsideTelegram(): boolean {
  return insideTelegram;
}

function attempt(what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    // An older client or an odd environment: the app works without this feature.
    console.info(`telegram: ${what} unavailable`, error);
  }
}

/** Starts the SDK and binds the theme, the header colours and the safe areas to CSS vars. */
export function startTelegram(): void {
  try {
    init();
  } catch (error) {
    console.info('telegram: not inside a Telegram client', error);
    return;
  }
  insideTelegram = true;
  attempt('theme', () => {
    themeParams.mount();
    // --tg-theme-bg-color, --tg-theme-text-color, ... (styles.css maps them to the palette)
    themeParams.bindCssVars();
    document.documentElement.classList.toggle('dark', themeParams.isDark());
    themeParams.isDark.sub(() =>
      document.documentElement.classList.toggle('dark', themeParams.isDark()),
    );
  });
  attempt('mini app', () => {
    miniApp.mount();
    miniApp.bindCssVars();
  });
  attempt('back button', () => backButton.mount());
  if (viewport.mount.isAvailable()) {
    viewport
      .mount()
      .then(() => {
        // --tg-viewport-safe-area-inset-*, --tg-viewport-content-safe-area-inset-*
        attempt('viewport vars', () => viewport.bindCssVars());
        attempt('expand', () => viewport.expand());
      })
      .catch((error: unknown) => console.info('telegram: viewport unavailable', error));
  }
  attempt('ready', () => miniApp.ready());
}

/** Outside Telegram the palette follows the system's light or dark preference. */
export function followSystemTheme(): void {
  const query = window.matchMedia('(prefers-color-scheme: dark)');
  const apply = () => document.documentElement.classList.toggle('dark', query.matches);
  apply();
  query.addEventListener('change', apply);
}

export function showBackButton(onBack: () => void): () => void {
  if (!insideTelegram || !backButton.show.isAvailable()) return () => undefined;
  backButton.show();
  const off = backButton.onClick(onBack);
  return () => {
    off();
    if (backButton.hide.isAvailable()) backButton.hide();
  };
}

export type Haptic = 'tap' | 'success' | 'error' | 'warning';

export function haptic(kind: Haptic): void {
  if (!insideTelegram) return;
  attempt('haptics', () => {
    if (kind === 'tap') {
      if (hapticFeedback.impactOccurred.isAvailable()) hapticFeedback.impactOccurred('light');
    } else if (hapticFeedback.notificationOccurred.isAvailable()) {
      hapticFeedback.notificationOccurred(kind);
    }
  });
}

/** Copies through the Telegram client when inside it, else through the browser. */
export async function copyText(text: string): Promise<void> {
  if (insideTelegram) {
    try {
      await copyTextToClipboard(text);
      return;
    } catch {
      // fall through to the browser's clipboard
    }
  }
  await navigator.clipboard.writeText(text);
}
