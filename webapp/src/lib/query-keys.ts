// The one query-key factory: every cache entry the app reads or invalidates is named here.

export const queryKeys = {
  all: ['eplan'] as const,
  plans: () => [...queryKeys.all, 'plans'] as const,
  plan: (leadId: number) => [...queryKeys.all, 'plan', leadId] as const,
  draft: (reminderId: number) => [...queryKeys.all, 'draft', reminderId] as const,
  me: () => [...queryKeys.all, 'me'] as const,
};
