// One activity log entry in words: what happened, and the text that came with it.
import type { Activity, PlanOutcome } from '../../../types/api';
import { OUTCOME_LABELS, statusText } from './outcomes';

const WORDS: Record<string, string> = {
  plan_activated: 'Plan started',
  step_reminder_sent: 'Reminder sent',
  step_nudged: 'Nudge sent',
  step_completed: 'Step done',
  step_skipped: 'Step skipped',
  step_snoozed: 'Step snoozed',
  step_auto_snoozed: 'Step auto-snoozed after no answer',
  plan_completed: 'Plan completed',
  plan_paused: 'Plan paused',
  plan_resumed: 'Plan resumed',
  plan_edited: 'Plan edited',
  plan_reconciled: 'Plan repaired',
  note_added: 'Note',
};

// What a step_undone entry took back (its `undid`).
const UNDONE: Record<string, string> = {
  step_completed: 'Undone: step done',
  step_skipped: 'Undone: step skipped',
  step_snoozed: 'Undone: step snoozed',
  plan_finished: 'Undone: plan finished',
};

// The lead's fields as lead_edited names them.
const FIELD_WORDS: Record<string, string> = { name: 'name', company: 'company', title: 'title', channel: 'channel', context: 'context' };

export interface ActivityText {
  title: string;
  /** A note's text or the reason given, shown under the title. */
  body?: string;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value : undefined);

function outcomeText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return (OUTCOME_LABELS as Record<string, string>)[value as PlanOutcome] ?? value.replaceAll('_', ' ');
}

export function describeActivity(entry: Pick<Activity, 'activity_type' | 'details'>): ActivityText {
  const { details } = entry;
  switch (entry.activity_type) {
    case 'note_added':
      return { title: 'Note', body: text(details.text) };
    case 'status_change': {
      const from = text(details.from);
      const to = text(details.to);
      const change = from && to ? `${statusText(from)} → ${statusText(to)}` : to ? statusText(to) : 'changed';
      // An undo puts the status back; say so rather than look like a choice.
      const how = details.undo === true ? ' (undone)' : '';
      return { title: `Status: ${change}${how}`, body: text(details.reason) };
    }
    case 'step_undone': {
      const undid = typeof details.undid === 'string' ? UNDONE[details.undid] : undefined;
      return { title: undid ?? 'Step action undone' };
    }
    case 'lead_edited': {
      const fields = Array.isArray(details.fields) ? details.fields.filter((f): f is string => typeof f === 'string') : [];
      const words = fields.map((f) => FIELD_WORDS[f] ?? f.replaceAll('_', ' '));
      return { title: words.length ? `Lead edited: ${words.join(', ')}` : 'Lead edited' };
    }
    case 'plan_finished': {
      const outcome = outcomeText(details.outcome);
      return { title: outcome ? `Plan finished: ${outcome}` : 'Plan finished', body: text(details.reason) };
    }
    default:
      return { title: WORDS[entry.activity_type] ?? entry.activity_type.replaceAll('_', ' ') };
  }
}
