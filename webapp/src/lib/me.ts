import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './api-client';
import { queryKeys } from './query-keys';
import type { Me, MePatch } from '../types/api';

export function getMe(): Promise<Me> {
  return api<Me>('/me');
}

export function useMe() {
  return useQuery({ queryKey: queryKeys.me(), queryFn: getMe, staleTime: 60_000 });
}

export function useUpdateMe() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (patch: MePatch) => api<Me>('/me', { method: 'PATCH', body: patch }),
    onSuccess: (me) => {
      client.setQueryData(queryKeys.me(), me);
      // Working hours and the time zone move every due date.
      return client.invalidateQueries({ queryKey: queryKeys.all, predicate: (q) => q.queryKey[1] !== queryKeys.me()[1] });
    },
  });
}
