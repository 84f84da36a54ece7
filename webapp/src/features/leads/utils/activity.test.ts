import { describe, expect, it } from 'vitest';
import { describeActivity } from './activity';

const entry = (activity_type: string, details: Record<string, unknown> = {}) => ({ activity_type, details });

describe('describeActivity', () => {
  it('says a status change from and to, in words, with its reason', () => {
    expect(describeActivity(entry('status_change', { from: 'reached_out', to: 'meeting_booked', reason: 'Demo on Friday' }))).toEqual({
      title: 'Status: Reached out → Meeting booked',
      body: 'Demo on Friday',
    });
    expect(describeActivity(entry('status_change', { from: null, to: 'closed_lost', reason: null }))).toEqual({
      title: 'Status: Lost',
      body: undefined,
    });
  });

  it('says how a plan finished', () => {
    expect(describeActivity(entry('plan_finished', { outcome: 'closed_won', reason: 'Signed for 40 seats' }))).toEqual({
      title: 'Plan finished: Won',
      body: 'Signed for 40 seats',
    });
    expect(describeActivity(entry('plan_finished', { outcome: 'not_interested' })).title).toBe('Plan finished: Not interested');
    expect(describeActivity(entry('plan_finished')).title).toBe('Plan finished');
  });

  it('marks a status an undo put back', () => {
    expect(describeActivity(entry('status_change', { from: 'reached_out', to: 'analyzed', undo: true })).title).toBe(
      'Status: Reached out → Analyzed (undone)',
    );
  });

  it('says what an undo took back', () => {
    expect(describeActivity(entry('step_undone', { undid: 'step_completed', reminder_id: 4 }))).toEqual({ title: 'Undone: step done' });
    expect(describeActivity(entry('step_undone', { undid: 'step_snoozed' })).title).toBe('Undone: step snoozed');
    expect(describeActivity(entry('step_undone', { undid: 'plan_finished' })).title).toBe('Undone: plan finished');
    expect(describeActivity(entry('step_undone'))).toEqual({ title: 'Step action undone' });
  });

  it('names the fields of an edited lead', () => {
    expect(describeActivity(entry('lead_edited', { fields: ['company', 'title'] })).title).toBe('Lead edited: company, title');
    expect(describeActivity(entry('lead_edited')).title).toBe('Lead edited');
  });

  it('names a note and types it does not know', () => {
    expect(describeActivity(entry('note_added', { text: 'Call after lunch' }))).toEqual({ title: 'Note', body: 'Call after lunch' });
    expect(describeActivity(entry('lead_merged'))).toEqual({ title: 'lead merged' });
  });
});
