/**
 * WAI-ARIA tabs: arrow keys, Home and End move between tabs (roving tabindex); every panel stays
 * mounted (hidden when not selected) so an embedded app is not reloaded by switching tabs.
 */
import { type ReactNode, useRef } from 'react';

export interface TabDef<K extends string> {
  key: K;
  label: string;
  panel: ReactNode;
}

export function Tabs<K extends string>({
  tabs,
  selected,
  onSelect,
  label,
}: {
  tabs: readonly TabDef<K>[];
  selected: K;
  onSelect: (key: K) => void;
  label: string;
}) {
  const refs = useRef(new Map<K, HTMLButtonElement>());
  const move = (from: number, delta: number | 'home' | 'end') => {
    const n = tabs.length;
    const to = delta === 'home' ? 0 : delta === 'end' ? n - 1 : (from + delta + n) % n;
    const tab = tabs[to];
    if (!tab) return;
    onSelect(tab.key);
    refs.current.get(tab.key)?.focus();
  };
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} className="tablist">
        {tabs.map((t, i) => (
          <button
            key={t.key}
            ref={(el) => {
              if (el) refs.current.set(t.key, el);
              else refs.current.delete(t.key);
            }}
            type="button"
            role="tab"
            id={`tab-${t.key}`}
            aria-selected={t.key === selected}
            aria-controls={`panel-${t.key}`}
            tabIndex={t.key === selected ? 0 : -1}
            className="tab"
            onClick={() => onSelect(t.key)}
            onKeyDown={(e) => {
              const delta =
                e.key === 'ArrowRight'
                  ? 1
                  : e.key === 'ArrowLeft'
                    ? -1
                    : e.key === 'Home'
                      ? 'home'
                      : e.key === 'End'
                        ? 'end'
                        : undefined;
              if (delta === undefined) return;
              e.preventDefault();
              move(i, delta);
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      {tabs.map((t) => (
        <div
          key={t.key}
          role="tabpanel"
          id={`panel-${t.key}`}
          aria-labelledby={`tab-${t.key}`}
          hidden={t.key !== selected}
          className="tabpanel"
        >
          {t.panel}
        </div>
      ))}
    </div>
  );
}
