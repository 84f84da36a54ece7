import { useEffect, useState } from 'react';
import { ErrorScreen } from '../components/error-screen';
import { Spinner } from '../components/spinner';
import { ApiError } from '../lib/api-client';
import type { Launch } from '../lib/launch';
import { startSession } from '../lib/session';
import { AppProvider } from './provider';
import { AppRouter } from './router';
import { SignedIn } from './signed-in';

type State = { phase: 'starting' } | { phase: 'ready' } | { phase: 'failed'; error: string };

export function App({ launch }: { launch: Launch }) {
  const [state, setState] = useState<State>({ phase: 'starting' });
  useEffect(() => {
    startSession(launch).then(
      () => setState({ phase: 'ready' }),
      (error: unknown) =>
        setState({ phase: 'failed', error: error instanceof ApiError ? error.detail : String(error) }),
    );
  }, [launch]);
  if (state.phase === 'starting') return <Spinner />;
  if (state.phase === 'failed') {
    return <ErrorScreen title="Cannot sign you in" detail={state.error} onRetry={() => window.location.reload()} />;
  }
  return (
    <AppProvider>
      <SignedIn>
        <AppRouter />
      </SignedIn>
    </AppProvider>
  );
}
