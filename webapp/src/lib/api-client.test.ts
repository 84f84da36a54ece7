import { describe, expect, it } from 'vitest';
import { detailOf, fieldErrors } from './api-client';

// What FastAPI answers for a body it refuses.
const UNPROCESSABLE = {
  detail: [
    { type: 'string_too_long', loc: ['body', 'company'], msg: 'String should have at most 200 characters' },
    { type: 'literal_error', loc: ['body', 'status'], msg: "Input should be 'analyzed' or 'reached_out'" },
    { type: 'string_too_long', loc: ['body', 'company'], msg: 'a second complaint about company' },
    { type: 'value_error', loc: ['body'], msg: 'Value error, a reason needs a status' },
  ],
};

describe('fieldErrors', () => {
  it('keys a 422 by body field, the first complaint per field', () => {
    expect(fieldErrors(UNPROCESSABLE)).toEqual({
      company: 'String should have at most 200 characters',
      status: "Input should be 'analyzed' or 'reached_out'",
    });
  });

  it('joins nested locations and finds nothing in other answers', () => {
    expect(fieldErrors({ detail: [{ loc: ['body', 'plan', 'steps', 0, 'description'], msg: 'Field required' }] })).toEqual({
      'plan.steps.0.description': 'Field required',
    });
    expect(fieldErrors({ detail: 'Lead not found' })).toEqual({});
    expect(fieldErrors(null)).toEqual({});
  });
});

describe('detailOf', () => {
  it('says which field and why, without pydantic’s prefix', () => {
    expect(detailOf(UNPROCESSABLE, 422)).toBe(
      "company: String should have at most 200 characters; status: Input should be 'analyzed' or 'reached_out'; " +
        'company: a second complaint about company; a reason needs a status',
    );
  });

  it('passes a plain detail through and falls back to the status', () => {
    expect(detailOf({ detail: 'already finished as won' }, 409)).toBe('already finished as won');
    expect(detailOf('<html>', 502)).toBe('the server answered 502');
  });
});
