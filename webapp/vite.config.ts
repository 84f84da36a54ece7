import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by FastAPI under /app/, so every asset URL must carry that prefix.
export default defineConfig({
  base: '/app/',
  plugins: [react(), tailwindcss()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
  },
  server: {
    // `npm run dev` talks to `make run`'s server on :8000 for the API.
    proxy: Object.fromEntries(
      ['/plans', '/leads', '/reminders', '/me', '/dev'].map((p) => [p, 'http://127.0.0.1:8000']),
    ),
  },
});
