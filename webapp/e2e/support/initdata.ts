// Signs initData the way Telegram does (https://core.telegram.org/bots/webapps), so the
// browser suite can launch the app as any user the test bot token vouches for.
import { createHmac } from 'node:crypto';

export const TEST_BOT_TOKEN = '123456789:TEST-token-for-unit-tests-only';

export function signInitData(
  telegramId: number,
  { token = TEST_BOT_TOKEN, authDate = Math.floor(Date.now() / 1000) }: { token?: string; authDate?: number } = {},
): string {
  const fields: Record<string, string> = {
    auth_date: String(authDate),
    query_id: `AAE${telegramId}`,
    // Telegram's Ed25519 signature for third parties; clients always send it and the SDK's
    // parser requires it. Only `hash` matters to this server, and it covers this field too.
    signature: Buffer.from(`test-signature-${telegramId}`).toString('base64url'),
    user: JSON.stringify({ id: telegramId, first_name: 'Ana', last_name: 'Lima', username: 'ana_sells', language_code: 'en' }),
  };
  const check = Object.keys(fields)
    .sort()
    .map((key) => `${key}=${fields[key]}`)
    .join('\n');
  const secret = createHmac('sha256', 'WebAppData').update(token).digest();
  const hash = createHmac('sha256', secret).update(check).digest('hex');
  return new URLSearchParams({ ...fields, hash }).toString().replaceAll('+', '%20');
}
