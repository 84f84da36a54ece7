import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/app';
import { readLaunch } from './lib/launch';
import { followSystemTheme, startTelegram } from './lib/telegram';
import './styles.css';

// Read the launch (and its raw initData) before the router mounts and rewrites the hash.
const launch = readLaunch();
if (launch.initData !== null) {
  startTelegram();
} else {
  followSystemTheme();
}
// The router starts at the page asked for, not at "#tgWebAppData=...".
if (window.location.hash.includes('tgWebAppData=')) {
  history.replaceState(null, '', `${window.location.pathname}${window.location.search}#${launch.route}`);
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App launch={launch} />
    </StrictMode>,
  );
}
