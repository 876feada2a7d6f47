// Sweeps of a project, and one sweep: optimization history with best-so-far, parallel coordinates of the
// parameters against the objective, parameter importance (variance split), trials table and the config.
import { useEffect, useMemo } from 'react';
import type { SweepInfo, SweepTrial } from '@ocrops/tracker/api';
import { parameterImportance } from '../../lib/importance.js';
import { formatTime, formatValue } from '../../lib/format.js';
import { api, subscribeEvents } from '../api.js';
import { useAsync, useThrottled } from '../hooks.js';
import { href } from '../router.js';
import { HistoryChart } from '../components/HistoryChart.js';
import { ParallelCoords } from '../components/ParallelCoords.js';
import { ProjectTabs } from './ProjectTabs.js';

function sweepState(s: SweepInfo): string {
  return String(s.status ?? (typeof s.state === 'string' ? s.state : '') ?? '');
}

function spec(s: SweepInfo): { metric: string; objective: 'minimize' | 'maximize'; algorithm: string; name: string } {
  const cfg = s.config ?? {};
  return {
    metric: cfg.spec?.metric ?? 'loss',
    objective: cfg.spec?.objective === 'maximize' ? 'maximize' : 'minimize',
    algorithm: String(cfg.algorithm ?? s.algorithm ?? ''),
    name: String(s.name ?? cfg.name ?? s.id),
  };
}

function firstTrialTime(trials: SweepTrial[]): number | undefined {
  const times = trials.map((t) => Number((t as { createdAt?: number }).createdAt)).filter(Number.isFinite);
  return times.length ? Math.min(...times) : undefined;
}

export function SweepsList({ ws, project }: { ws: string; project: string }) {
  const st = useAsync((s) => api.sweeps({ workspaceName: ws, projectName: project }, s), [ws, project]);
  return (
    <div className="page">
      <ProjectTabs ws={ws} project={project} active="sweeps" />
      {st.error && <div className="error">{st.error.message}</div>}
      {st.data && st.data.length === 0 && <div className="empty">No sweeps in this project.</div>}
      <table className="grid-table" data-testid="sweeps">
        <thead>
          <tr>
            <th>sweep</th>
            <th>algorithm</th>
            <th>objective</th>
            <th>state</th>
            <th>trials</th>
            <th>best</th>
            <th>started</th>
          </tr>
        </thead>
        <tbody>
          {(st.data ?? []).map((s) => {
            const sp = spec(s);
            const trials = s.trials ?? [];
            const best = (s.best as SweepTrial | undefined)?.score;
            return (
              <tr key={s.id}>
                <td>
                  <a href={href.sweep(s.id, ws, project)}>{sp.name}</a>{' '}
                  <span className="muted mono">{s.id.slice(0, 8)}</span>
                </td>
                <td>{sp.algorithm}</td>
                <td>
                  {sp.objective} {sp.metric}
                </td>
                <td>{sweepState(s)}</td>
                <td className="num">{formatValue((s.trialCount as number | undefined) ?? trials.length)}</td>
                <td className="num">{formatValue(best)}</td>
                <td>{formatTime((s.createdAt as number | undefined) ?? firstTrialTime(trials))}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function SweepView({ id, ws: wsHint, project: projectHint }: { id: string; ws?: string; project?: string }) {
  const st = useAsync((s) => api.sweep(id, s), [id]);
  const sweep = st.data;
  const ws = (sweep?.workspaceName as string | undefined) ?? wsHint;
  const project = (sweep?.projectName as string | undefined) ?? projectHint;
  const reload = useThrottled(st.reload, 2000);
  useEffect(() => {
    if (!ws) return;
    return subscribeEvents({ workspaceName: ws, projectName: project }, (e) => {
      if (e.type === 'sweep' || e.type === 'experiment') reload();
    });
  }, [ws, project, reload]);

  const sp = sweep ? spec(sweep) : undefined;
  const trials = useMemo(() => sweep?.trials ?? [], [sweep]);
  const scored = useMemo(
    () =>
      trials
        .filter((t) => typeof t.score === 'number' && Number.isFinite(t.score))
        .map((t) => ({ ...t, score: t.score as number })),
    [trials],
  );
  const paramNames = useMemo(() => {
    const fromCfg = Object.keys(sweep?.config?.parameters ?? {});
    const fromTrials = trials.flatMap((t) => Object.keys(t.parameters ?? {}));
    return [...new Set([...fromCfg, ...fromTrials])].filter((n) => trials.some((t) => t.parameters?.[n] !== undefined));
  }, [sweep, trials]);
  const logParams = useMemo(() => {
    const out = new Set<string>();
    for (const [n, spec] of Object.entries(sweep?.config?.parameters ?? {})) {
      const st = (spec as { scalingType?: string } | null)?.scalingType;
      if (st === 'loguniform' || st === 'lognormal') out.add(n);
    }
    return out;
  }, [sweep]);
  const importance = useMemo(() => (scored.length >= 2 ? parameterImportance(scored) : []), [scored]);
  const historyScores = useMemo(() => trials.map((t) => (typeof t.score === 'number' ? t.score : null)), [trials]);
  const bestTrial = useMemo(() => {
    if (!sp) return undefined;
    return scored.reduce<(typeof scored)[number] | undefined>(
      (b, t) => (!b || (sp.objective === 'minimize' ? t.score < b.score : t.score > b.score) ? t : b),
      undefined,
    );
  }, [scored, sp]);

  if (st.error)
    return (
      <div className="page">
        <div className="error">{st.error.message}</div>
      </div>
    );
  if (!sweep || !sp) return <div className="page muted">loading…</div>;
  return (
    <div className="page sweep-page" data-testid="sweep-page">
      {ws && project && <ProjectTabs ws={ws} project={project} active="sweeps" />}
      <div className="run-head">
        <h1>
          {sp.name} <span className="badge">{sweepState(sweep)}</span>
        </h1>
        <div className="run-meta">
          <span className="mono">{sweep.id}</span>
          <span>{sp.algorithm}</span>
          <span>
            {sp.objective} <b>{sp.metric}</b>
          </span>
          <span>
            {trials.length} trials ({scored.length} scored)
          </span>
          {bestTrial && (
            <span>
              best {formatValue(bestTrial.score)}{' '}
              {bestTrial.experimentKey && <a href={href.run(bestTrial.experimentKey)}>open run</a>}
            </span>
          )}
        </div>
      </div>
      <div className="sweep-grid">
        <section className="panel">
          <h3>Optimization history</h3>
          {trials.length > 0 ? (
            <HistoryChart scores={historyScores} objective={sp.metric} direction={sp.objective} />
          ) : (
            <div className="empty">No trials yet.</div>
          )}
        </section>
        <section className="panel">
          <h3>
            Parameter importance <span className="muted">(share of {sp.metric} variance explained, fANOVA-like)</span>
          </h3>
          {importance.length === 0 && <div className="empty">Needs at least two scored trials.</div>}
          <div className="bars" data-testid="importance">
            {importance.map((p) => (
              <div className="bar-row" key={p.name} title={`eta² = ${p.varianceExplained.toFixed(3)}, n = ${p.n}`}>
                <span className="bar-label">{p.name}</span>
                <span className="bar-track">
                  <span className="bar-fill" style={{ width: `${(p.share * 100).toFixed(1)}%` }} />
                </span>
                <span className="bar-value">{(p.share * 100).toFixed(0)}%</span>
                <span className="bar-extra muted">
                  {p.correlation !== undefined ? `ρ ${p.correlation.toFixed(2)}` : ''}
                </span>
              </div>
            ))}
          </div>
        </section>
        <section className="panel wide">
          <h3>Parallel coordinates</h3>
          {scored.length > 0 ? (
            <ParallelCoords
              trials={scored.map((t, i) => ({
                id: String(t.trialId ?? i + 1),
                parameters: t.parameters,
                score: t.score,
              }))}
              paramNames={paramNames}
              objective={sp.metric}
              direction={sp.objective}
              logParams={logParams}
            />
          ) : (
            <div className="empty">No scored trials yet.</div>
          )}
        </section>
        <section className="panel wide">
          <h3>Trials</h3>
          <table className="grid-table" data-testid="trials">
            <thead>
              <tr>
                <th>#</th>
                <th>status</th>
                {paramNames.map((n) => (
                  <th key={n}>{n}</th>
                ))}
                <th>{sp.metric}</th>
                <th>run</th>
              </tr>
            </thead>
            <tbody>
              {trials.map((t, i) => (
                <tr
                  key={String(t.trialId ?? i)}
                  className={
                    bestTrial && t.trialId === bestTrial.trialId && t.experimentKey === bestTrial.experimentKey
                      ? 'best'
                      : ''
                  }
                >
                  <td className="num">{i + 1}</td>
                  <td>{t.status}</td>
                  {paramNames.map((n) => (
                    <td key={n} className="num">
                      {formatValue(t.parameters?.[n])}
                    </td>
                  ))}
                  <td className="num">{formatValue(t.score)}</td>
                  <td>
                    {t.experimentKey ? <a href={href.run(t.experimentKey)}>{t.experimentKey.slice(0, 9)}</a> : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section className="panel wide">
          <details>
            <summary>Config</summary>
            <pre className="console">{JSON.stringify(sweep.config ?? {}, null, 2)}</pre>
          </details>
        </section>
      </div>
    </div>
  );
}
