import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import type { FinishInput, FinishResult, Lead, LeadDetail, LeadPatch, StepInput } from '../../../types/api';

function useInvalidateLead() {
  const client = useQueryClient();
  return (leadId: number) =>
    Promise.all([
      client.invalidateQueries({ queryKey: queryKeys.plan(leadId) }),
      client.invalidateQueries({ queryKey: queryKeys.plans() }),
    ]);
}

/** The lead as an answer gives it, laid over the cached page (which also has the activity). */
function useMergeLead() {
  const client = useQueryClient();
  return (lead: Lead) =>
    client.setQueryData<LeadDetail>(queryKeys.plan(lead.id), (page) => (page ? { ...page, ...lead } : page));
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

/** Ends the plan with how it went; the page shows the outcome at once, then reloads. */
export function useFinishPlan(leadId: number) {
  const invalidate = useInvalidateLead();
  const merge = useMergeLead();
  return useMutation({
    mutationFn: (input: FinishInput) => api<FinishResult>(`/plans/${leadId}/finish`, { method: 'POST', body: input }),
    onSuccess: (result) => merge(result.lead),
    onSettled: () => invalidate(leadId),
  });
}

export function useUpdateLead(leadId: number) {
  const invalidate = useInvalidateLead();
  const merge = useMergeLead();
  return useMutation({
    mutationFn: (patch: LeadPatch) => api<Lead>(`/leads/${leadId}`, { method: 'PATCH', body: patch }),
    onSuccess: (lead) => merge(lead),
    onSettled: () => invalidate(leadId),
  });
}
