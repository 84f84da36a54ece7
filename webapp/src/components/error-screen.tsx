interface Props {
  title: string;
  detail: string;
  hint?: string;
  onRetry?: () => void;
}

/** A whole-screen explanation: a failed sign-in must never leave a blank page. */
export function ErrorScreen({ title, detail, hint, onRetry }: Props) {
  return (
    <main role="alert" data-testid="error-screen" className="safe-area flex flex-col items-center justify-center gap-3 px-6 text-center">
      <div className="text-4xl" aria-hidden>
        ⚠️
      </div>
      <h1 className="text-xl font-semibold">{title}</h1>
      <p className="text-hint">{detail}</p>
      {hint && <p className="text-sm text-hint">{hint}</p>}
      {onRetry && (
        <button type="button" onClick={onRetry} className="mt-2 rounded-xl bg-button px-4 py-2 text-button-fg">
          Try again
        </button>
      )}
    </main>
  );
}
