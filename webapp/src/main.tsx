import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/app';
import { readLaunch } from './lib/launch';
import { followSystemTheme, startTelegram } from './lib/telegram';
import './styles.css';

// Read the launch (and its raw initData) before the router mounts and rewrites the hash.
const launch = readLaunch();
const here = `${window.location.pathname}${window.location.search}`;
if (launch.params !== null) {
  // The SDK reads the launch parameters from the hash in Telegram's plain form, which a
  // link to a page ("#/leads/5?tgWebAppData=...") or a reload does not have.
  history.replaceState(null, '', `${here}#${launch.params.toString()}`);
  startTelegram();
  // The router starts at the page asked for, not at "#tgWebAppData=...".
  history.replaceState(null, '', `${here}#${launch.route}`);
} else {
  followSystemTheme();
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App launch={launch} />
    </StrictMode>,
  );
}
