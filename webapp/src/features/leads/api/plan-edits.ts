import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import type { Lead, LeadDetail, StepInput } from '../../../types/api';

function useInvalidateLead() {
  const client = useQueryClient();
  return (leadId: number) =>
    Promise.all([
      client.invalidateQueries({ queryKey: queryKeys.plan(leadId) }),
      client.invalidateQueries({ queryKey: queryKeys.plans() }),
    ]);
}

export function useReplaceSteps(leadId: number) {
  const invalidate = useInvalidateLead();
  return useMutation({
    mutationFn: (steps: StepInput[]) =>
      api<Lead>(`/plans/${leadId}/steps`, { method: 'PUT', body: { steps } }),
    onSettled: () => invalidate(leadId),
  });
}

export function usePausePlan(leadId: number) {
  const invalidate = useInvalidateLead();
  return useMutation({
    mutationFn: (pause: boolean) =>
      api<LeadDetail>(`/plans/${leadId}/${pause ? 'pause' : 'resume'}`, { method: 'POST' }),
    onSettled: () => invalidate(leadId),
  });
}

export function useAddNote(leadId: number) {
  const invalidate = useInvalidateLead();
  return useMutation({
    mutationFn: (text: string) => api<unknown>(`/leads/${leadId}/notes`, { method: 'POST', body: { text } }),
    onSuccess: () => invalidate(leadId),
  });
}

export function useDeleteLead(leadId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api<undefined>(`/leads/${leadId}`, { method: 'DELETE' }),
    onSuccess: () => {
      client.removeQueries({ queryKey: queryKeys.plan(leadId) });
      return client.invalidateQueries({ queryKey: queryKeys.plans() });
    },
  });
}
