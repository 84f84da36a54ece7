import type { ReactNode } from 'react';

export function Section({ title, children, className = '' }: { title?: string; children: ReactNode; className?: string }) {
  return (
    <section className={`mb-3 ${className}`}>
      {title && <h2 className="px-3 pb-1 text-xs font-semibold tracking-wide text-hint uppercase">{title}</h2>}
      <div className="rounded-2xl bg-section p-3">{children}</div>
    </section>
  );
}
