export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div role="status" className="flex items-center justify-center gap-2 p-8 text-hint">
      <span className="size-4 animate-spin rounded-full border-2 border-hint border-t-transparent" aria-hidden />
      {label}
    </div>
  );
}
