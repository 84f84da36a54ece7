import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import type { LeadDetail, StepChange } from '../../../types/api';
import { applyAction, type StepAction } from '../utils/optimistic';

export interface StepActionInput {
  leadId: number;
  reminderId: number;
  action: StepAction;
}

function send({ reminderId, action }: StepActionInput): Promise<StepChange> {
  if (action.kind === 'snooze') {
    return api<StepChange>(`/reminders/${reminderId}/snooze`, {
      method: 'POST',
      body: { days: action.days },
    });
  }
  return api<StepChange>(`/reminders/${reminderId}/${action.kind}`, { method: 'POST' });
}

/** Done, Skip, Snooze: the page changes at once and goes back if the server says no. */
export function useStepAction() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: send,
    onMutate: async (input) => {
      const key = queryKeys.plan(input.leadId);
      await client.cancelQueries({ queryKey: key });
      const before = client.getQueryData<LeadDetail>(key);
      if (before) {
        client.setQueryData<LeadDetail>(key, applyAction(before, input.reminderId, input.action, new Date()));
      }
      return { before };
    },
    onError: (_error, input, context) => {
      if (context?.before) client.setQueryData(queryKeys.plan(input.leadId), context.before);
    },
    onSettled: (_data, _error, input) =>
      Promise.all([
        client.invalidateQueries({ queryKey: queryKeys.plan(input.leadId) }),
        client.invalidateQueries({ queryKey: queryKeys.plans() }),
      ]),
  });
}

export interface UndoInput {
  leadId: number;
  reminderId: number;
}

/** Takes back the last Done, Skip or Snooze of a step while the server still allows it. */
export function useUndoStep() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ reminderId }: UndoInput) => api<StepChange>(`/reminders/${reminderId}/undo`, { method: 'POST' }),
    onSettled: (_data, _error, input) =>
      Promise.all([
        client.invalidateQueries({ queryKey: queryKeys.plan(input.leadId) }),
        client.invalidateQueries({ queryKey: queryKeys.plans() }),
      ]),
  });
}
