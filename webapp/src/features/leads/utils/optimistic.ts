// What a step action will do, applied to the cached plan before the server answers.
import type { LeadDetail, Step } from '../../../types/api';
import { withWaiting } from './step-status';

export type StepAction = { kind: 'complete' } | { kind: 'skip' } | { kind: 'snooze'; days: number };

const DAY_MS = 86_400_000;

export function applyAction(lead: LeadDetail, reminderId: number, action: StepAction, now: Date): LeadDetail {
  const steps = lead.steps.map((step): Step => {
    if (step.reminder_id !== reminderId) return step;
    if (action.kind === 'snooze') {
      // The server places it at the start of working hours; now + N days is close enough
      // until its answer arrives a moment later.
      return {
        ...step,
        state: 'pending',
        due_at: new Date(now.getTime() + action.days * DAY_MS).toISOString(),
        snooze_count: step.snooze_count + 1,
      };
    }
    return {
      ...step,
      state: action.kind === 'complete' ? 'completed' : 'skipped',
      completed_at: now.toISOString(),
    };
  });
  return { ...lead, steps: withWaiting(steps) };
}
