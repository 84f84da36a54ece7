import { usePrefetchQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { getPlans } from '../features/leads/api/plans';
import { queryKeys } from '../lib/query-keys';
import { ErrorScreen } from '../components/error-screen';
import { Spinner } from '../components/spinner';
import { useDeviceTimeZone } from '../lib/use-device-time-zone';
import { useMe } from '../lib/me';
import { ApiError } from '../lib/api-client';

/** Renders the app once the server has accepted who we are; explains it when it has not. */
export function SignedIn({ children }: { children: ReactNode }) {
  const me = useMe();
  // The dashboard's data is asked for alongside /me, not after it: one round trip saved
  // on the screen people open most.
  usePrefetchQuery({ queryKey: queryKeys.plans(), queryFn: getPlans });
  useDeviceTimeZone(me.data);
  if (me.isPending) return <Spinner />;
  if (me.isError) {
    const error = me.error;
    if (error instanceof ApiError && error.status === 401) {
      return (
        <ErrorScreen
          title="Telegram could not confirm who you are"
          detail={`The server refused this session: ${error.detail}.`}
          hint="Close the app and open it again from the bot."
        />
      );
    }
    return (
      <ErrorScreen
        title="Something went wrong"
        detail={error instanceof ApiError ? error.detail : String(error)}
        onRetry={() => void me.refetch()}
      />
    );
  }
  return children;
}
