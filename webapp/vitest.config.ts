import { defineConfig } from 'vitest/config';

// Unit tests of the pure parts: no DOM, no browser.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
