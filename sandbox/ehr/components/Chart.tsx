/**
 * One patient's chart: banner, tabs (Summary fires patient-view; SMART app embeds the EHR launch;
 * Orders drafts MedicationRequests, fires order-select and order-sign), the feedback log. Applying a
 * suggestion changes the draft list and sends feedback; dismissing sends the override reason.
 * Signing is a soft stop: it waits for every critical and warning card about the orders (at
 * order-select or order-sign) to be decided (a suggestion accepted, or overridden with one of the card's reasons); the decision goes
 * to the service as CDS Hooks feedback, the page confirms it and keeps a note of what the clinician
 * read (summary, suggestion label, patient) for the feedback log.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type Api, errorText } from '../api.ts';
import { type HookRun, newUuid, runHook } from '../cds-client.ts';
import {
  acceptedFeedback,
  applyActions,
  type CardOutcome,
  type ChartContext,
  canApply,
  draftFromOrderable,
  orderSelectContext,
  orderSignContext,
  overriddenFeedback,
  patientViewContext,
  resourceLabel,
  safeHttpUrl,
  withLaunchParams,
} from '../hooks.ts';
import type {
  Card,
  Coding,
  Discovery,
  FeedbackRequest,
  HookName,
  Link,
  Orderable,
  Resource,
  SandboxPatient,
  Session,
  Suggestion,
} from '../types.ts';
import { type CallState, CardList, cardKeyOf, HookStatus } from './CardList.tsx';
import type { CardHandlers } from './CardView.tsx';
import { FeedbackLog, type FeedbackLogState } from './FeedbackLog.tsx';
import { type OrderablesState, OrdersPanel, type SelectGroup } from './OrdersPanel.tsx';
import { PatientBanner } from './PatientBanner.tsx';
import { SmartPanel, type SmartState } from './SmartPanel.tsx';
import { Tabs } from './Tabs.tsx';

export type TabKey = 'summary' | 'smart' | 'orders';
export const TAB_KEYS: readonly TabKey[] = ['summary', 'smart', 'orders'];

/**
 * The cards that stand in the way of signing, with no decision yet: critical and warning cards at
 * order-sign, and those about the current drafts from order-select (the service does not repeat at
 * order-sign a finding it showed at order-select for the same draft, so that card is the warning).
 */
export function blockingCards(
  groups: readonly SelectGroup[],
  signRun: HookRun | undefined,
  outcomes: Readonly<Record<string, CardOutcome>>,
): { card: Card; key: string }[] {
  const entries: { card: Card; key: string }[] = [];
  const add = (run: HookRun | undefined) =>
    run?.cards.forEach((card, i) => {
      const key = cardKeyOf(run, i);
      if (outcomes[key]) return;
      if (card.indicator === 'critical' || card.indicator === 'warning') entries.push({ card, key });
    });
  for (const g of groups) if (!g.retired) add(g.run);
  add(signRun);
  return entries;
}

/** The card to bring into view in a list: the first critical, else warning, else the first. */
function cardToShow(container: Element | null | undefined): HTMLElement | undefined {
  if (!container) return undefined;
  return (container.querySelector('[data-testid="card"][data-indicator="critical"]') ??
    container.querySelector('[data-testid="card"][data-indicator="warning"]') ??
    container.querySelector('[data-testid="card"]') ??
    undefined) as HTMLElement | undefined;
}

/** What to bring into view once rendered: a new order-select group's card, or a card to decide on. */
type Reveal = { n: number; group: string } | { n: number; mustDecide: true };

/** State mirrored in a ref, so async handlers read the current value. */
function useSyncedState<T>(initial: T) {
  const [state, setState] = useState(initial);
  const ref = useRef(state);
  const set = useCallback((v: T | ((prev: T) => T)) => {
    const next = typeof v === 'function' ? (v as (prev: T) => T)(ref.current) : v;
    ref.current = next;
    setState(next);
  }, []);
  return [state, set, ref] as const;
}

export interface ChartProps {
  api: Api;
  session: Session;
  patient: SandboxPatient;
  sendPrefetch: boolean;
  discovery: () => Promise<Discovery>;
  onChangePatient: () => void;
  /** The tab to show (the URL's); the chart reports changes through `onTabChange`. */
  tab?: TabKey;
  onTabChange?: (tab: TabKey) => void;
  /** Move focus to the chart heading when it opens (the patient was just chosen). */
  focusHeading?: boolean;
}

export function Chart({
  api,
  session,
  patient,
  sendPrefetch,
  discovery,
  onChangePatient,
  tab: wantedTab,
  onTabChange,
  focusHeading,
}: ChartProps) {
  const chart: ChartContext = useMemo(
    () => ({
      userId: session.user.reference,
      patientId: patient.id,
      ...(patient.encounterId ? { encounterId: patient.encounterId } : {}),
    }),
    [session.user.reference, patient.id, patient.encounterId],
  );
  const prefetchRef = useRef(sendPrefetch);
  prefetchRef.current = sendPrefetch;

  const [tab, setTab] = useState<TabKey>('summary');
  const chartRef = useRef<HTMLDivElement>(null);
  const [reveal, setReveal] = useState<Reveal>();
  // Scrolls just enough to show the card, after React rendered it; focus stays where it was.
  useEffect(() => {
    if (!reveal) return;
    const root = chartRef.current;
    const target =
      'group' in reveal
        ? cardToShow(
            [...(root?.querySelectorAll('[data-group-id]') ?? [])].find(
              (el) => el.getAttribute('data-group-id') === reveal.group,
            ),
          )
        : (root?.querySelector<HTMLElement>('[data-must-decide="true"]') ?? undefined);
    // (jsdom has no layout and no scrollIntoView.)
    if (typeof target?.scrollIntoView === 'function')
      target.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [reveal]);
  const onTabChangeRef = useRef(onTabChange);
  onTabChangeRef.current = onTabChange;
  const [pv, setPv] = useState<CallState>({ loading: false });
  const [drafts, setDrafts, draftsRef] = useSyncedState<Resource[]>([]);
  const [groups, setGroups, groupsRef] = useSyncedState<SelectGroup[]>([]);
  const [sign, setSign, signRef] = useSyncedState<CallState>({ loading: false });
  const [pendingSign, setPendingSign, pendingSignRef] = useSyncedState(false);
  const [signed, setSigned] = useState<Resource[]>([]);
  const [signNotice, setSignNotice] = useState<{ text: string; tone: 'ok' | 'blocked' | 'info' }>();
  const [outcomes, setOutcomes, outcomesRef] = useSyncedState<Record<string, CardOutcome>>({});
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState('');
  const [feedbackError, setFeedbackError] = useState<string>();
  const [confirmation, setConfirmation] = useState('');
  const [smart, setSmart] = useState<SmartState>({ loading: false });
  const [orderables, setOrderables] = useState<OrderablesState>({ loading: true });
  const [log, setLog] = useState<FeedbackLogState>({ loading: true });
  const pvSeq = useRef(0);
  const smartLaunched = useRef(false);

  const callHook = useCallback(
    (hook: HookName, context: Record<string, unknown>) =>
      runHook(api, session, { hook, chart, context, sendPrefetch: prefetchRef.current, discovery }),
    [api, session, chart, discovery],
  );

  // --- patient-view ------------------------------------------------------------------------------
  const firePatientView = useCallback(async () => {
    const seq = ++pvSeq.current;
    setPv((s) => ({ ...s, loading: true, error: undefined }));
    try {
      const run = await callHook('patient-view', patientViewContext(chart));
      if (seq === pvSeq.current) setPv({ run, loading: false });
    } catch (e) {
      if (seq === pvSeq.current) setPv({ loading: false, error: errorText(e) });
    }
  }, [callHook, chart]);

  // --- feedback log and orderables ---------------------------------------------------------------
  const refreshLog = useCallback(async () => {
    setLog((s) => ({ ...s, loading: true, error: undefined }));
    try {
      const entries = await api.feedbackLog(patient.id);
      setLog({ entries: Array.isArray(entries) ? entries : [], loading: false });
    } catch (e) {
      setLog((s) => ({ ...s, loading: false, error: errorText(e) }));
    }
  }, [api, patient.id]);

  const loadOrderables = useCallback(async () => {
    setOrderables({ loading: true });
    try {
      const list = await api.orderables();
      setOrderables({ list: Array.isArray(list) ? list : [], loading: false });
    } catch (e) {
      setOrderables({ loading: false, error: errorText(e) });
    }
  }, [api]);

  useEffect(() => {
    void firePatientView();
    void loadOrderables();
    void refreshLog();
  }, [firePatientView, loadOrderables, refreshLog]);

  // --- SMART app ---------------------------------------------------------------------------------
  const launchEmbedded = useCallback(
    async (link?: Link) => {
      setSmart({ loading: true, ...(link ? { label: link.label } : {}) });
      try {
        const res = await api.launch({
          patientId: patient.id,
          ...(patient.encounterId ? { encounterId: patient.encounterId } : {}),
          ...(link?.appContext ? { appContext: link.appContext } : {}),
          embedded: true,
        });
        const src = link ? withLaunchParams(link.url, res.iss, res.launch) : safeHttpUrl(res.launchUrl);
        if (!src) throw new Error('The launch URL is not an http(s) address.');
        setSmart({ src, loading: false, ...(link ? { label: link.label } : {}) });
      } catch (e) {
        setSmart({ loading: false, error: errorText(e) });
      }
    },
    [api, patient.id, patient.encounterId],
  );

  const selectTab = useCallback(
    (key: TabKey) => {
      setTab(key);
      onTabChangeRef.current?.(key);
      if (key === 'smart' && !smartLaunched.current) {
        smartLaunched.current = true;
        void launchEmbedded();
      }
    },
    [launchEmbedded],
  );

  // The URL names a tab (a reload, the back button): show it, launching the app if that is the tab.
  useEffect(() => {
    if (wantedTab) selectTab(wantedTab);
  }, [wantedTab, selectTab]);

  const openInNewTab = useCallback(async () => {
    // Opened now, while the click still counts as a user gesture; navigated once the launch exists.
    let win: Window | null = null;
    try {
      win = window.open('about:blank', '_blank');
      if (win) win.opener = null;
    } catch {
      win = null;
    }
    try {
      const res = await api.launch({
        patientId: patient.id,
        ...(patient.encounterId ? { encounterId: patient.encounterId } : {}),
      });
      const url = safeHttpUrl(res.launchUrl);
      if (!url) throw new Error('The launch URL is not an http(s) address.');
      if (win) win.location.href = url;
      else setSmart((s) => ({ ...s, newTabUrl: url }));
    } catch (e) {
      win?.close();
      setSmart((s) => ({ ...s, error: errorText(e) }));
    }
  }, [api, patient.id, patient.encounterId]);

  // --- Orders ------------------------------------------------------------------------------------
  const fireOrderSelect = useCallback(
    async (draftIds: string[], allDrafts: Resource[]) => {
      const id = draftIds.join(',');
      const label = allDrafts
        .filter((d) => d.id && draftIds.includes(d.id))
        .map(resourceLabel)
        .join(', ');
      setGroups((gs) => [{ id, draftIds, label, loading: true }, ...gs.filter((g) => g.id !== id)]);
      try {
        const run = await callHook('order-select', orderSelectContext(chart, allDrafts, draftIds));
        setGroups((gs) => gs.map((g) => (g.id === id ? { ...g, run, loading: false, error: undefined } : g)));
        // The newest cards are what the clinician needs now: bring them into view, on a phone too.
        setReveal((r) => ({ n: (r?.n ?? 0) + 1, group: id }));
      } catch (e) {
        setGroups((gs) => gs.map((g) => (g.id === id ? { ...g, loading: false, error: errorText(e) } : g)));
      }
    },
    [callHook, chart, setGroups],
  );

  /** Every draft change goes through here: stale order-select groups go, a pending signature lapses. */
  const changeDrafts = useCallback(
    (next: Resource[]) => {
      setDrafts(next);
      setGroups((gs) =>
        gs.filter((g) => g.retired || g.draftIds.some((id) => next.some((d) => d.id === id))),
      );
      if (pendingSignRef.current) {
        setPendingSign(false);
        setSignNotice({ text: 'The orders changed: review the cards and sign again.', tone: 'info' });
      }
    },
    [setDrafts, setGroups, setPendingSign, pendingSignRef],
  );

  const orderDrug = useCallback(
    (o: Orderable) => {
      const draft = draftFromOrderable(o, chart, newUuid());
      const next = [...draftsRef.current, draft];
      changeDrafts(next);
      setSignNotice(undefined);
      setNotice(`Draft order added: ${o.name}.`);
      void fireOrderSelect([draft.id as string], next);
    },
    [chart, changeDrafts, draftsRef, fireOrderSelect],
  );

  const removeDraft = useCallback(
    (id: string) => {
      const gone = draftsRef.current.find((d) => d.id === id);
      changeDrafts(draftsRef.current.filter((d) => d.id !== id));
      if (gone) setNotice(`Draft order removed: ${resourceLabel(gone)}.`);
    },
    [changeDrafts, draftsRef],
  );

  /** Cards nobody decided on that stand in the way of signing (the soft stop). */
  const blocking = useCallback(
    (): Card[] =>
      blockingCards(groupsRef.current, signRef.current.run, outcomesRef.current).map((e) => e.card),
    [groupsRef, signRef, outcomesRef],
  );

  const completeSign = useCallback(() => {
    const toSign = draftsRef.current;
    if (!toSign.length) return;
    setSigned((s) => [...s, ...toSign.map((d) => ({ ...d, status: 'active' }))]);
    setDrafts([]);
    setGroups([]);
    setPendingSign(false);
    const names = toSign.map(resourceLabel).join(', ');
    setSignNotice({ text: `Orders signed: ${names}.`, tone: 'ok' });
    setNotice(`Orders signed: ${names}.`);
  }, [draftsRef, setDrafts, setGroups, setPendingSign]);

  const signOrders = useCallback(async () => {
    const snapshot = draftsRef.current;
    if (!snapshot.length) return;
    setSignNotice(undefined);
    setPendingSign(false);
    setSign({ loading: true });
    let run: HookRun;
    try {
      run = await callHook('order-sign', orderSignContext(chart, snapshot));
      setSign({ run, loading: false });
    } catch (e) {
      setSign({ loading: false, error: errorText(e) });
      setSignNotice({ text: 'Not signed: the order-sign check failed.', tone: 'blocked' });
      return;
    }
    if (draftsRef.current !== snapshot) {
      setSignNotice({ text: 'The orders changed during the check: sign again.', tone: 'info' });
      return;
    }
    const standing = blocking();
    if (standing.length === 0) {
      completeSign();
      return;
    }
    setPendingSign(true);
    const critical = standing.filter((c) => c.indicator === 'critical').length;
    const n = standing.length;
    const what =
      critical === n
        ? `${n} critical card${n > 1 ? 's need' : ' needs'}`
        : `${n} card${n > 1 ? 's' : ''} (${critical} critical, ${n - critical} warning) need${n > 1 ? '' : 's'}`;
    setSignNotice({
      text: `Not signed: ${what} a decision. Apply a suggestion, or dismiss with a reason to sign anyway.`,
      tone: 'blocked',
    });
    setReveal((r) => ({ n: (r?.n ?? 0) + 1, mustDecide: true }));
  }, [blocking, callHook, chart, completeSign, draftsRef, setPendingSign, setSign]);

  // --- Cards: apply, dismiss, links --------------------------------------------------------------
  const runOf = useCallback(
    (cardKey: string): HookRun | undefined => {
      const runs = [pv.run, signRef.current.run, ...groupsRef.current.map((g) => g.run)];
      return runs.find((r) => r?.cards.some((_, i) => cardKeyOf(r, i) === cardKey));
    },
    [pv.run, signRef, groupsRef],
  );

  /** Sends the decision to the service, confirms it, then keeps the page's note on it. */
  const sendFeedback = useCallback(
    async (serviceId: string, body: FeedbackRequest, about: { card: Card; suggestionLabels?: string[] }) => {
      let sent = false;
      try {
        await api.sendFeedback(session, serviceId, body);
        setFeedbackError(undefined);
        sent = true;
      } catch (e) {
        setConfirmation('');
        setFeedbackError(`Feedback was not stored: ${errorText(e)}`);
      }
      const item = body.feedback[0];
      if (sent && item) {
        const reason = item.overrideReason?.reason?.display ?? item.overrideReason?.reason?.code;
        const what =
          item.outcome === 'accepted'
            ? `accepted “${(about.suggestionLabels ?? []).join('; ')}”`
            : `overridden${reason ? ` (${reason})` : ''}`;
        let text = `Feedback sent to the CDS service: ${what} for “${about.card.summary}”.`;
        try {
          await api.feedbackNote({
            serviceId,
            card: item.card,
            outcome: item.outcome,
            outcomeTimestamp: item.outcomeTimestamp,
            patientId: patient.id,
            summary: about.card.summary.slice(0, 500),
            ...(about.suggestionLabels?.length ? { suggestionLabels: about.suggestionLabels } : {}),
          });
        } catch (e) {
          text += ` The sandbox could not keep its note on it (${errorText(e)}): the log shows the card id.`;
        }
        setConfirmation(text);
      }
      await refreshLog();
    },
    [api, session, refreshLog, patient.id],
  );

  const applySuggestion = useCallback(
    async (card: Card, cardKey: string, suggestion: Suggestion, key: string) => {
      const run = runOf(cardKey);
      const previous = outcomesRef.current[cardKey];
      if (!run || !canApply(card, previous, key)) return;
      setBusy(true);
      try {
        const result = applyActions(draftsRef.current, suggestion.actions ?? [], newUuid);
        setOutcomes((o) => ({
          ...o,
          [cardKey]: {
            kind: 'accepted',
            suggestions: [...(previous?.kind === 'accepted' ? previous.suggestions : []), key],
          },
        }));
        const deletedIds = result.deleted.map((d) => d.id);
        setGroups((gs) =>
          gs.map((g) =>
            g.run?.hookInstance === run.hookInstance && g.draftIds.some((id) => deletedIds.includes(id))
              ? { ...g, retired: true }
              : g,
          ),
        );
        if (result.created.length || result.deleted.length || result.updated.length)
          changeDrafts(result.drafts);
        const words = [
          ...result.deleted.map((d) => `removed ${resourceLabel(d)}`),
          ...result.created.map((d) => `added ${resourceLabel(d)}`),
          ...result.updated.map((d) => `updated ${resourceLabel(d)}`),
        ];
        const where =
          run.hook === 'patient-view' && words.length ? ' The draft list is in the Orders tab.' : '';
        setNotice(
          `Applied “${suggestion.label}”${words.length ? `: ${words.join(', ')}` : ''}.${where}${result.skipped.length ? ` Not done: ${result.skipped.join('; ')}.` : ''}`,
        );
        // A new drug in the order basket is a new selection: order-select fires for it, as in an EHR.
        for (const created of result.created) {
          if (created.resourceType === 'MedicationRequest' && created.id)
            void fireOrderSelect([created.id], result.drafts);
        }
        if (card.uuid && suggestion.uuid)
          await sendFeedback(run.serviceId, acceptedFeedback(card.uuid, [suggestion.uuid], new Date()), {
            card,
            suggestionLabels: [suggestion.label],
          });
        else setFeedbackError('No feedback sent: the card or the suggestion has no uuid.');
      } finally {
        setBusy(false);
      }
    },
    [runOf, outcomesRef, draftsRef, setOutcomes, setGroups, changeDrafts, sendFeedback, fireOrderSelect],
  );

  const dismissCard = useCallback(
    async (card: Card, cardKey: string, reason: Coding | undefined, comment: string) => {
      const run = runOf(cardKey);
      if (!run || outcomesRef.current[cardKey]) return;
      const userComment = comment.trim();
      setOutcomes((o) => ({
        ...o,
        [cardKey]: {
          kind: 'overridden',
          ...(reason ? { reason } : {}),
          ...(userComment ? { comment: userComment } : {}),
        },
      }));
      setNotice(`Card dismissed${reason?.display ? `: ${reason.display}` : ''}.`);
      if (pendingSignRef.current && blocking().length === 0) completeSign();
      setBusy(true);
      try {
        if (card.uuid)
          await sendFeedback(run.serviceId, overriddenFeedback(card.uuid, reason, comment, new Date()), {
            card,
          });
        else setFeedbackError('No feedback sent: the card has no uuid.');
      } finally {
        setBusy(false);
      }
    },
    [runOf, outcomesRef, setOutcomes, pendingSignRef, blocking, completeSign, sendFeedback],
  );

  const openSmartLink = useCallback(
    (link: Link) => {
      smartLaunched.current = true;
      setTab('smart');
      onTabChangeRef.current?.('smart');
      void launchEmbedded(link);
    },
    [launchEmbedded],
  );

  const handlers: CardHandlers = useMemo(
    () => ({
      onApply: (c, k, s, sk) => void applySuggestion(c, k, s, sk),
      onDismiss: (c, k, r, comment) => void dismissCard(c, k, r, comment),
      onSmartLink: openSmartLink,
    }),
    [applySuggestion, dismissCard, openSmartLink],
  );

  /** uuid → words for every card and suggestion shown in this chart, for the feedback log. */
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  useEffect(() => {
    const runs = [pv.run, sign.run, ...groups.map((g) => g.run)];
    setNames((prev) => {
      const m = new Map(prev);
      for (const r of runs)
        for (const c of r?.cards ?? []) {
          if (c.uuid) m.set(c.uuid, c.summary);
          for (const s of c.suggestions ?? []) if (s.uuid) m.set(s.uuid, s.label);
        }
      return m.size === prev.size ? prev : m;
    });
  }, [pv.run, sign.run, groups]);

  const mustDecide = useMemo(
    () => new Set(pendingSign ? blockingCards(groups, sign.run, outcomes).map((e) => e.key) : []),
    [pendingSign, groups, sign.run, outcomes],
  );

  return (
    <div className="chart" ref={chartRef}>
      <PatientBanner patient={patient} onChange={onChangePatient} focusOnMount={focusHeading} />
      <p className="notice" role="status" data-testid="notice">
        {notice}
      </p>
      <p className="confirmation" role="status" data-testid="feedback-confirmation">
        {confirmation}
      </p>
      {feedbackError && (
        <p className="hook-error" role="alert">
          {feedbackError}
        </p>
      )}
      <Tabs<TabKey>
        label="Chart"
        selected={tab}
        onSelect={selectTab}
        tabs={[
          {
            key: 'summary',
            label: 'Summary',
            panel: (
              <div>
                <div className="panel-heading">
                  <h2>Decision support (patient-view)</h2>
                  <button
                    type="button"
                    className="button button-secondary"
                    onClick={() => void firePatientView()}
                    disabled={pv.loading}
                  >
                    Refresh cards
                  </button>
                </div>
                <HookStatus
                  serviceId="alk-ros1-patient-view"
                  state={pv}
                  onRetry={() => void firePatientView()}
                />
                <CardList
                  state={pv}
                  outcomes={outcomes}
                  busy={busy}
                  handlers={handlers}
                  emptyText="No cards: the service has no guidance for this patient."
                />
                {drafts.length > 0 && (
                  <p className="muted">
                    {drafts.length} draft order{drafts.length > 1 ? 's' : ''} waiting in the Orders tab.
                  </p>
                )}
              </div>
            ),
          },
          {
            key: 'smart',
            label: 'SMART app',
            panel: (
              <SmartPanel
                state={smart}
                onRelaunch={() => void launchEmbedded()}
                onOpenNewTab={() => void openInNewTab()}
              />
            ),
          },
          {
            key: 'orders',
            label: 'Orders',
            panel: (
              <OrdersPanel
                orderables={orderables}
                drafts={drafts}
                signed={signed}
                selectGroups={groups}
                sign={sign}
                signNotice={signNotice}
                outcomes={outcomes}
                mustDecide={mustDecide}
                busy={busy}
                handlers={handlers}
                onOrder={orderDrug}
                onRemove={removeDraft}
                onSign={() => void signOrders()}
                onRetryOrderables={() => void loadOrderables()}
                onRetrySelect={(g) => void fireOrderSelect(g.draftIds, draftsRef.current)}
              />
            ),
          },
        ]}
      />
      <FeedbackLog state={log} names={names} patientName={patient.name} onRefresh={() => void refreshLog()} />
    </div>
  );
}
