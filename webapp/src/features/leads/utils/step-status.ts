// How a step reads at a given moment. Mirrors app/domain/plans.py display_status so the
// page stays right as time passes and optimistic updates show the state the server will.
import type { DisplayStatus, Step } from '../../../types/api';
import { calendarDaysBetween, formatDate } from '../../../lib/time';

const DAY_MS = 86_400_000;
const OPEN_STATES = new Set(['pending', 'sent', 'auto_snoozed']);

export function isOpen(step: Pick<Step, 'state'>): boolean {
  return OPEN_STATES.has(step.state);
}

/** Whole days (24 h periods) a step has been past due at `now`; 0 when not yet due. */
export function overdueDays(dueAt: string | null, now: Date): number {
  if (dueAt === null) return 0;
  const late = now.getTime() - Date.parse(dueAt);
  return late <= 0 ? 0 : Math.floor(late / DAY_MS);
}

type StepTiming = Pick<Step, 'state' | 'due_at' | 'snooze_count'> & {
  waiting_for_step?: number | null;
};

export function displayStatus(
  step: StepTiming,
  planPaused: boolean,
  now: Date,
): { status: DisplayStatus; overdueDays: number } {
  if (step.state === 'completed') return { status: 'done', overdueDays: 0 };
  if (step.state === 'skipped' || step.state === 'cancelled') return { status: 'skipped', overdueDays: 0 };
  if (planPaused) return { status: 'paused', overdueDays: 0 };
  if (step.due_at === null) return { status: 'upcoming', overdueDays: 0 };
  if (Date.parse(step.due_at) > now.getTime()) {
    const snoozed = step.state === 'auto_snoozed' || step.snooze_count > 0;
    return { status: snoozed ? 'snoozed' : 'upcoming', overdueDays: 0 };
  }
  // A step waiting for an earlier open one is not actionable yet: it moves when that closes.
  if (step.waiting_for_step != null) return { status: 'upcoming', overdueDays: 0 };
  const days = overdueDays(step.due_at, now);
  return days >= 1 ? { status: 'overdue', overdueDays: days } : { status: 'due', overdueDays: 0 };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "due today", "tomorrow", "in 3 days", "overdue by 2 days" — for a step still open. */
export function relativeDue(dueAt: string, now: Date, timeZone: string): string {
  const late = overdueDays(dueAt, now);
  if (late >= 1) return `overdue by ${plural(late, 'day')}`;
  const days = calendarDaysBetween(now, new Date(dueAt), timeZone);
  if (days <= 0) return 'due today';
  if (days === 1) return 'tomorrow';
  return `in ${plural(days, 'day')}`;
}

export interface StatusLabel {
  text: string;
  /** The badge's colours: the label says the same thing in words, colour is never alone. */
  tone: 'green' | 'blue' | 'yellow' | 'red' | 'gray' | 'purple' | 'slate';
  icon: string;
}

export function statusLabel(
  step: StepTiming,
  planPaused: boolean,
  now: Date,
  timeZone: string,
): StatusLabel {
  const { status, overdueDays: late } = displayStatus(step, planPaused, now);
  switch (status) {
    case 'done':
      return { text: 'Done', tone: 'green', icon: '✓' };
    case 'skipped':
      // Closed with a finished plan, not by the salesperson: not "skipped".
      if (step.state === 'cancelled') return { text: 'Cancelled', tone: 'gray', icon: '–' };
      return { text: 'Skipped', tone: 'gray', icon: '⤼' };
    case 'paused':
      return { text: 'Paused', tone: 'slate', icon: '‖' };
    case 'due':
      return { text: 'Due now', tone: 'blue', icon: '●' };
    case 'overdue':
      return { text: `Overdue ${plural(late, 'day')}`, tone: 'red', icon: '!' };
    case 'snoozed': {
      const back = step.due_at ? ` until ${formatDate(step.due_at, timeZone)}` : '';
      const kind = step.state === 'auto_snoozed' ? 'Auto-snoozed' : 'Snoozed';
      return { text: `${kind}${back}`, tone: 'purple', icon: 'z' };
    }
    case 'upcoming':
      return { text: 'Upcoming', tone: 'yellow', icon: '○' };
  }
}

/** After a step closes, later open steps wait for the first open step before them. */
export function withWaiting<T extends Pick<Step, 'state' | 'step_id' | 'waiting_for_step'>>(steps: readonly T[]): T[] {
  let firstOpen: number | null = null;
  return steps.map((step) => {
    if (!isOpen(step)) return { ...step, waiting_for_step: null };
    const waiting = firstOpen;
    if (firstOpen === null) firstOpen = step.step_id;
    return { ...step, waiting_for_step: waiting };
  });
}
