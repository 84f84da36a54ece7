import { useEffect, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { isInsideTelegram, showBackButton } from '../lib/telegram';

interface Props {
  title: string;
  /** Inner pages get Telegram's BackButton (or a link outside Telegram). */
  back?: boolean;
  actions?: ReactNode;
  children: ReactNode;
}

export function Page({ title, back = false, actions, children }: Props) {
  const navigate = useNavigate();
  useEffect(() => {
    if (!back) return undefined;
    return showBackButton(() => {
      // A deep link opened straight on an inner page has no history to go back to.
      if (window.history.length > 1) void navigate(-1);
      else void navigate('/');
    });
  }, [back, navigate]);
  return (
    <div className="safe-area mx-auto max-w-xl">
      <header className="flex items-center gap-2 px-4 pt-3 pb-2">
        {back && !isInsideTelegram() && (
          <Link to="/" className="text-link" aria-label="Back to all leads">
            ‹ Back
          </Link>
        )}
        <h1 className="flex-1 truncate text-lg font-semibold">{title}</h1>
        {actions}
      </header>
      <main className="px-3">{children}</main>
    </div>
  );
}
