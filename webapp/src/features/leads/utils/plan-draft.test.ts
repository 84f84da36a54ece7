import { describe, expect, it } from 'vitest';
import { blankStep, move, toInput, type EditableStep } from './plan-draft';

const step = (id: number, over: Partial<EditableStep> = {}): EditableStep => ({
  step_id: id, description: `Step ${id}`, timing: '', delay_days: String(id), channel: 'email',
  suggested_text: null, locked: false, ...over,
});

describe('plan editor', () => {
  it('moves a step up and down and ignores moves off the ends', () => {
    expect(move([1, 2, 3], 2, 0)).toEqual([3, 1, 2]);
    expect(move([1, 2, 3], 0, -1)).toEqual([1, 2, 3]);
  });

  it('gives a new step a fresh id and a delay after the last one', () => {
    expect(blankStep([step(1), step(4, { delay_days: '7' })])).toMatchObject({ step_id: 5, delay_days: '10' });
    expect(blankStep([])).toMatchObject({ step_id: 1, delay_days: '0' });
  });

  it('sends whole-number delays and refuses what the server would refuse', () => {
    expect(toInput([step(1, { delay_days: '' , timing: 'next week' })])).toEqual({
      steps: [{ step_id: 1, description: 'Step 1', timing: 'next week', delay_days: null, channel: 'email', suggested_text: null }],
    });
    expect(toInput([step(1, { description: '  ' })])).toEqual({ error: 'Step 1 needs a description.' });
    expect(toInput([step(1, { delay_days: '1.5' })])).toHaveProperty('error');
    expect(toInput([])).toHaveProperty('error');
  });
});
