import { describe, expect, it } from 'vitest';
import type { Step } from '../../../types/api';
import { displayStatus, overdueDays, relativeDue, statusLabel, withWaiting } from './step-status';

const NOW = new Date('2026-03-04T10:00:00Z'); // a Wednesday
const step = (state: string, due_at: string | null, snooze_count = 0) => ({ state, due_at, snooze_count });

describe('displayStatus', () => {
  it('reads closed steps as done or skipped whatever their date', () => {
    expect(displayStatus(step('completed', '2026-03-01T09:00:00Z'), false, NOW).status).toBe('done');
    expect(displayStatus(step('skipped', '2026-03-01T09:00:00Z'), true, NOW).status).toBe('skipped');
    expect(displayStatus(step('cancelled', null), false, NOW).status).toBe('skipped');
  });

  it('reads every open step of a paused plan as paused', () => {
    expect(displayStatus(step('pending', '2026-03-01T09:00:00Z'), true, NOW).status).toBe('paused');
  });

  it('is due from the due time until a whole day has passed, then overdue', () => {
    expect(displayStatus(step('sent', '2026-03-04T10:00:00Z'), false, NOW)).toEqual({ status: 'due', overdueDays: 0 });
    expect(displayStatus(step('sent', '2026-03-03T10:00:01Z'), false, NOW)).toEqual({ status: 'due', overdueDays: 0 });
    expect(displayStatus(step('sent', '2026-03-03T10:00:00Z'), false, NOW)).toEqual({ status: 'overdue', overdueDays: 1 });
    expect(displayStatus(step('pending', '2026-03-01T09:00:00Z'), false, NOW)).toEqual({ status: 'overdue', overdueDays: 3 });
  });

  it('tells a snoozed future step from a merely upcoming one', () => {
    expect(displayStatus(step('pending', '2026-03-05T09:00:00Z'), false, NOW).status).toBe('upcoming');
    expect(displayStatus(step('pending', '2026-03-05T09:00:00Z', 1), false, NOW).status).toBe('snoozed');
    expect(displayStatus(step('auto_snoozed', '2026-03-11T09:00:00Z'), false, NOW).status).toBe('snoozed');
  });

  it('moves with the clock: the same step is upcoming, due, then overdue', () => {
    const s = step('pending', '2026-03-04T12:00:00Z');
    expect(displayStatus(s, false, new Date('2026-03-04T11:59:59Z')).status).toBe('upcoming');
    expect(displayStatus(s, false, new Date('2026-03-04T12:00:00Z')).status).toBe('due');
    expect(displayStatus(s, false, new Date('2026-03-06T12:00:00Z'))).toEqual({ status: 'overdue', overdueDays: 2 });
  });
});

describe('overdueDays', () => {
  it('counts whole days past due and nothing before', () => {
    expect(overdueDays(null, NOW)).toBe(0);
    expect(overdueDays('2026-03-05T00:00:00Z', NOW)).toBe(0);
    expect(overdueDays('2026-03-03T10:00:01Z', NOW)).toBe(0);
    expect(overdueDays('2026-03-02T10:00:00Z', NOW)).toBe(2);
  });
});

describe('relativeDue', () => {
  it('says due today, tomorrow, in N days, overdue by N days', () => {
    expect(relativeDue('2026-03-04T16:00:00Z', NOW, 'UTC')).toBe('due today');
    expect(relativeDue('2026-03-04T09:00:00Z', NOW, 'UTC')).toBe('due today');
    expect(relativeDue('2026-03-05T09:00:00Z', NOW, 'UTC')).toBe('tomorrow');
    expect(relativeDue('2026-03-07T09:00:00Z', NOW, 'UTC')).toBe('in 3 days');
    expect(relativeDue('2026-03-03T10:00:00Z', NOW, 'UTC')).toBe('overdue by 1 day');
    expect(relativeDue('2026-03-02T09:00:00Z', NOW, 'UTC')).toBe('overdue by 2 days');
  });

  it('counts calendar days in the user time zone, not UTC', () => {
    // 23:30 in Tokyo is already the next day there.
    const due = '2026-03-04T14:30:00Z';
    expect(relativeDue(due, NOW, 'UTC')).toBe('due today');
    expect(relativeDue(due, NOW, 'Asia/Tokyo')).toBe('due today');
    expect(relativeDue('2026-03-04T15:30:00Z', NOW, 'Asia/Tokyo')).toBe('tomorrow');
  });
});

describe('statusLabel', () => {
  it('labels every state in words, not only by colour', () => {
    const labels = [
      statusLabel(step('completed', null), false, NOW, 'UTC'),
      statusLabel(step('skipped', null), false, NOW, 'UTC'),
      statusLabel(step('cancelled', null), false, NOW, 'UTC'),
      statusLabel(step('pending', '2026-03-01T09:00:00Z'), true, NOW, 'UTC'),
      statusLabel(step('sent', '2026-03-04T09:00:00Z'), false, NOW, 'UTC'),
      statusLabel(step('sent', '2026-03-02T09:00:00Z'), false, NOW, 'UTC'),
      statusLabel(step('pending', '2026-03-06T09:00:00Z', 1), false, NOW, 'UTC'),
      statusLabel(step('auto_snoozed', '2026-03-11T09:00:00Z'), false, NOW, 'UTC'),
      statusLabel(step('pending', '2026-03-06T09:00:00Z'), false, NOW, 'UTC'),
    ];
    expect(labels.map((l) => [l.text, l.tone])).toEqual([
      ['Done', 'green'],
      ['Skipped', 'gray'],
      ['Cancelled', 'gray'],
      ['Paused', 'slate'],
      ['Due now', 'blue'],
      ['Overdue 2 days', 'red'],
      ['Snoozed until Fri 6 Mar', 'purple'],
      ['Auto-snoozed until Wed 11 Mar', 'purple'],
      ['Upcoming', 'yellow'],
    ]);
  });
});

describe('waiting steps', () => {
  it('shows a past-due step that waits for an earlier open one as upcoming', () => {
    const s = { ...step('pending', '2026-03-01T09:00:00Z'), waiting_for_step: 1 };
    expect(displayStatus(s, false, NOW).status).toBe('upcoming');
  });

  it('recomputes who waits for whom when a step closes', () => {
    const steps = [
      { step_id: 1, state: 'completed', waiting_for_step: null },
      { step_id: 2, state: 'sent', waiting_for_step: 1 },
      { step_id: 3, state: 'pending', waiting_for_step: 1 },
    ];
    expect(withWaiting(steps).map((s) => s.waiting_for_step)).toEqual([null, null, 2]);
  });
});

describe('applyAction (optimistic)', async () => {
  const { applyAction } = await import('./optimistic');
  const base = {
    id: 1, name: 'A', company: null, title: null, channel: null, context: null, status: 'reached_out' as const,
    plan_outcome: null, status_reason: null, plan_status: 'active' as const, plan_started_at: null, created_at: '2026-03-01T09:00:00Z',
    next_due_at: null, next_step_id: 1, overdue_steps: 1, activity: [],
    steps: [1, 2].map((n) => ({
      step_id: n, reminder_id: 10 + n, position: n - 1, description: `s${n}`, timing: null,
      delay_days: n, channel: 'email', suggested_text: null, status: 'overdue' as const,
      state: 'sent', overdue_days: 2, due_at: '2026-03-02T09:00:00Z', planned_due_at: null,
      completed_at: null, snooze_count: 0, reminder_count: 1, waiting_for_step: n === 1 ? null : 1,
    })),
  };

  it('closes the step and frees the next one', () => {
    const after = applyAction(base, 11, { kind: 'complete' }, NOW);
    expect(after.steps.map((s) => [s.state, s.waiting_for_step])).toEqual([['completed', null], ['sent', null]]);
    expect(displayStatus(after.steps[0] as Step, false, NOW).status).toBe('done');
  });

  it('moves a snoozed step N days from now and reads it as snoozed', () => {
    const after = applyAction(base, 11, { kind: 'snooze', days: 3 }, NOW);
    expect((after.steps[0] as Step).due_at).toBe('2026-03-07T10:00:00.000Z');
    expect(displayStatus(after.steps[0] as Step, false, NOW).status).toBe('snoozed');
    expect((base.steps[0] as Step).due_at).toBe('2026-03-02T09:00:00Z');
  });
});
