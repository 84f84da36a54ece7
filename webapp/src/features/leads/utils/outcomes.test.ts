import { describe, expect, it } from 'vitest';
import { PLAN_OUTCOMES } from '../../../types/api';
import { canRecordOutcome, isClosed, isFinished, outcomeLabel, reasonCounter, statusText } from './outcomes';

describe('outcomes', () => {
  it('says every outcome in words, with its own colour', () => {
    const labels = PLAN_OUTCOMES.map(outcomeLabel);
    expect(labels.map((l) => l.text)).toEqual([
      'Outcome: Replied',
      'Outcome: Meeting booked',
      'Outcome: Not interested',
      'Outcome: Won',
      'Outcome: Lost',
    ]);
    expect(new Set(labels.map((l) => l.tone)).size).toBe(PLAN_OUTCOMES.length);
  });

  it('labels statuses, including one this app does not know yet', () => {
    expect(statusText('reached_out')).toBe('Reached out');
    expect(statusText('closed_won')).toBe('Won');
    expect(statusText('on_hold')).toBe('on hold');
  });

  it('treats won and lost as closed, everything else as open', () => {
    expect(['closed_won', 'closed_lost'].map(isClosed)).toEqual([true, true]);
    expect(['analyzed', 'reached_out', 'in_progress', 'meeting_booked'].map(isClosed)).toEqual([false, false, false, false]);
  });

  it('offers an outcome for a plan without one, never twice', () => {
    expect(canRecordOutcome({ plan_status: 'active', plan_outcome: null })).toBe(true);
    expect(canRecordOutcome({ plan_status: 'paused', plan_outcome: null })).toBe(true);
    // Every step done, nothing said about how it went: still worth recording.
    expect(canRecordOutcome({ plan_status: 'completed', plan_outcome: null })).toBe(true);
    expect(canRecordOutcome({ plan_status: 'completed', plan_outcome: 'replied' })).toBe(false);
    expect(canRecordOutcome({ plan_status: 'none', plan_outcome: null })).toBe(false);
    expect(isFinished({ plan_outcome: 'closed_lost' })).toBe(true);
    expect(isFinished({ plan_outcome: null })).toBe(false);
  });

  it('counts a reason against its limit', () => {
    expect(reasonCounter('')).toBe('0/200');
    expect(reasonCounter('Budget frozen until Q3')).toBe('22/200');
  });
});
