import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import type { LeadDetail, Plans } from '../../../types/api';

export function getPlans(): Promise<Plans> {
  return api<Plans>('/plans?sort=next_due');
}

export function getPlan(leadId: number): Promise<LeadDetail> {
  return api<LeadDetail>(`/plans/${leadId}`);
}

export function usePlans() {
  return useQuery({ queryKey: queryKeys.plans(), queryFn: getPlans });
}

export function usePlan(leadId: number) {
  return useQuery({ queryKey: queryKeys.plan(leadId), queryFn: () => getPlan(leadId) });
}
