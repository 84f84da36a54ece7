import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import type { Lead, LeadInput } from '../../../types/api';

export function useCreateLead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: LeadInput) => api<Lead>('/leads', { method: 'POST', body: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.plans() }),
  });
}
