import { describe, expect, it } from 'vitest';
import { undoWindowMs } from './undo';

const NOW = Date.parse('2026-03-04T10:00:00Z');

describe('undoWindowMs', () => {
  it('counts down to undo_until', () => {
    expect(undoWindowMs('2026-03-04T10:10:00Z', NOW)).toBe(600_000);
    expect(undoWindowMs('2026-03-04T10:00:05.500+00:00', NOW)).toBe(5_500);
  });

  it('offers nothing once the window has passed, or when there is none', () => {
    expect(undoWindowMs('2026-03-04T10:00:00Z', NOW)).toBe(0);
    expect(undoWindowMs('2026-03-04T09:59:00Z', NOW)).toBe(0);
    expect(undoWindowMs(null, NOW)).toBe(0);
    expect(undoWindowMs(undefined, NOW)).toBe(0);
    expect(undoWindowMs('not a date', NOW)).toBe(0);
  });
});
