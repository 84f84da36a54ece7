// How long the server still takes an undo for a step action (StepChange.undo_until).

/** Milliseconds left to undo at `now`; 0 when there is no window or it has passed. */
export function undoWindowMs(undoUntil: string | null | undefined, now: number): number {
  if (!undoUntil) return 0;
  const until = Date.parse(undoUntil);
  return Number.isNaN(until) ? 0 : Math.max(0, until - now);
}
