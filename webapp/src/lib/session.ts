// Who is using the app: Telegram's signed initData, or in local mode the demo user's.
import { ApiError, setInitData } from './api-client';
import type { Launch } from './launch';

export type Session = { kind: 'telegram' | 'local' };

export async function startSession(launch: Launch): Promise<Session> {
  if (launch.initData !== null) {
    setInitData(launch.initData);
    return { kind: 'telegram' };
  }
  // Outside Telegram: the server signs initData for its demo user, in local mode only.
  const response = await fetch('/dev/init-data').catch(() => null);
  if (response === null) throw new ApiError(0, 'cannot reach the server');
  if (response.status === 404) {
    throw new ApiError(401, 'Open this app from the bot in Telegram: it needs Telegram to say who you are.');
  }
  if (!response.ok) throw new ApiError(response.status, `the server answered ${response.status}`);
  const body = (await response.json()) as { init_data: string };
  setInitData(body.init_data);
  return { kind: 'local' };
}
