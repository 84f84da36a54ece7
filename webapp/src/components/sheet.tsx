import { useEffect, useId, useRef, type ReactNode } from 'react';

interface Props {
  title: string;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
}

/** A bottom sheet: a modal panel that rises from the bottom edge, closed by ✕, Escape or a tap outside. */
export function Sheet({ title, onClose, children, testId }: Props) {
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  useEffect(() => {
    close.current = onClose;
  }, [onClose]);
  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    panel.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') close.current();
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      before?.focus();
    };
  }, []);
  return (
    <div className="fixed inset-0 z-40 flex items-end justify-center">
      <div className="absolute inset-0 bg-black/50" aria-hidden onClick={() => close.current()} />
      <div
        ref={panel}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        data-testid={testId}
        className="relative max-h-[90vh] w-full max-w-xl overflow-y-auto rounded-t-2xl bg-section px-4 pt-4 text-fg shadow-xl outline-none"
        style={{ paddingBottom: 'calc(max(var(--tg-viewport-safe-area-inset-bottom, 0px), env(safe-area-inset-bottom, 0px)) + 1rem)' }}
      >
        <div className="mb-3 flex items-center gap-2">
          <h2 id={titleId} className="flex-1 text-lg font-semibold">
            {title}
          </h2>
          <button type="button" aria-label="Close" className="rounded-lg px-2 py-1 text-hint" onClick={() => close.current()}>
            ✕
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}
