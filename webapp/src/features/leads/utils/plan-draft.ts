// The plan editor's working copy of the steps, and what it sends back.
import type { Step, StepInput } from '../../../types/api';
import { CHANNELS } from '../../../types/api';

export interface EditableStep {
  step_id: number;
  description: string;
  timing: string;
  delay_days: string;
  channel: string;
  suggested_text: string | null;
  /** A closed step keeps its place in the history; the editor shows it read-only. */
  locked: boolean;
}

export function toEditable(steps: readonly Step[]): EditableStep[] {
  return steps.map((step) => ({
    step_id: step.step_id,
    description: step.description,
    timing: step.timing ?? '',
    delay_days: String(step.delay_days),
    channel: step.channel,
    suggested_text: step.suggested_text,
    locked: !['pending', 'sent', 'auto_snoozed'].includes(step.state),
  }));
}

export function blankStep(steps: readonly EditableStep[]): EditableStep {
  const lastDelay = Number(steps.at(-1)?.delay_days ?? -3);
  return {
    step_id: Math.max(0, ...steps.map((s) => s.step_id)) + 1,
    description: '',
    timing: '',
    delay_days: String(Number.isFinite(lastDelay) ? lastDelay + 3 : 0),
    channel: 'email',
    suggested_text: null,
    locked: false,
  };
}

export function move<T>(items: readonly T[], from: number, to: number): T[] {
  if (to < 0 || to >= items.length) return [...items];
  const copy = [...items];
  const [item] = copy.splice(from, 1);
  if (item !== undefined) copy.splice(to, 0, item);
  return copy;
}

/** The steps for PUT /plans/{id}/steps, or the first problem a person should fix. */
export function toInput(steps: readonly EditableStep[]): { steps: StepInput[] } | { error: string } {
  if (steps.length === 0) return { error: 'A plan needs at least one step.' };
  const out: StepInput[] = [];
  for (const [index, step] of steps.entries()) {
    const description = step.description.trim();
    if (!description) return { error: `Step ${index + 1} needs a description.` };
    const delayText = step.delay_days.trim();
    const delay = delayText === '' ? null : Number(delayText);
    if (delay !== null && (!Number.isInteger(delay) || delay < 0 || delay > 365)) {
      return { error: `Step ${index + 1}: the delay is a whole number of days from 0 to 365.` };
    }
    out.push({
      step_id: step.step_id,
      description,
      timing: step.timing.trim() || null,
      delay_days: delay,
      channel: CHANNELS.includes(step.channel as never) ? step.channel : 'other',
      suggested_text: step.suggested_text,
    });
  }
  return { steps: out };
}
