import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import type { Draft } from '../../../types/api';

export function useDraft(reminderId: number, enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.draft(reminderId),
    queryFn: () => api<Draft>(`/reminders/${reminderId}/draft`),
    enabled,
  });
}
