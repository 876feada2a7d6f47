// The model registry: every workspace's registered models (#/models), and one model's versions with their metrics,
// aliases, lineage (source run, sweep, dataset and weights hashes, git commit) and alias history, where an alias can
// be set or moved (#/model/<ws>/<name>).
import { useState } from 'react';
import type { RegistryModel, RegistryVersion } from '@ocrops/tracker/api';
import { formatTime, formatValue } from '../../lib/format.js';
import { api } from '../api.js';
import { useAsync } from '../hooks.js';
import { href } from '../router.js';

export function ModelsView() {
  const st = useAsync(async (s) => {
    const { workspaceNames } = await api.workspaces(s);
    const lists = await Promise.all(workspaceNames.map((w) => api.registryModels(w, s).then((r) => r.models)));
    return lists.flat();
  }, []);
  const models: RegistryModel[] = st.data ?? [];
  return (
    <div className="page">
      <h1>Models</h1>
      {st.error && <div className="error">{st.error.message}</div>}
      {st.data && models.length === 0 && (
        <div className="empty">
          No registered models yet: <code>ocrops models register --run models/best --name &lt;model&gt;</code>, or
          <code> ocrops sweep run --register &lt;model&gt;</code>.
        </div>
      )}
      <table className="grid-table" data-testid="models">
        <thead>
          <tr>
            <th>workspace</th>
            <th>model</th>
            <th>versions</th>
            <th>latest</th>
            <th>aliases</th>
            <th>last updated</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr key={`${m.workspaceName}/${m.modelName}`}>
              <td>{m.workspaceName}</td>
              <td>
                <a href={href.model(m.workspaceName, m.modelName)}>{m.modelName}</a>
              </td>
              <td className="num">{m.numberOfVersions}</td>
              <td>{m.latestVersion ?? '-'}</td>
              <td>
                {Object.entries(m.aliases).map(([a, v]) => (
                  <span className="alias" key={a}>
                    @{a} → {v}
                  </span>
                ))}
              </td>
              <td>{formatTime(m.lastUpdated)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The metrics shown per version: the ones every OCR run logs first, then the rest in name order. */
function metricColumns(versions: RegistryVersion[]): string[] {
  const names = new Set(versions.flatMap((v) => Object.keys(v.metrics)));
  const first = ['val_acc_by_char', 'val_loss', 'val_cer'].filter((n) => names.has(n));
  const rest = [...names].filter((n) => !first.includes(n) && n.startsWith('val_')).sort();
  return [...first, ...rest].slice(0, 4);
}

const short = (md5: string | null) => (md5 ? md5.slice(0, 10) : '-');

function AliasForm({
  ws,
  name,
  versions,
  onDone,
}: {
  ws: string;
  name: string;
  versions: RegistryVersion[];
  onDone: () => void;
}) {
  const [alias, setAlias] = useState('champion');
  const [version, setVersion] = useState(versions.at(-1)?.version ?? '');
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  return (
    <form
      className="alias-form"
      data-testid="alias-form"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          await api.setAlias({ workspaceName: ws, modelName: name, version, alias });
          setMessage({ ok: true, text: `@${alias} → version ${version}` });
          onDone();
        } catch (err) {
          setMessage({ ok: false, text: (err as Error).message });
        }
      }}
    >
      <span>set alias</span>
      <input
        className="search"
        name="alias"
        value={alias}
        onChange={(e) => setAlias(e.target.value)}
        placeholder="alias"
      />
      <span>on version</span>
      <select name="version" value={version} onChange={(e) => setVersion(e.target.value)}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            {v.version}
          </option>
        ))}
      </select>
      <button type="submit" className="button">
        Set
      </button>
      {message && (
        <span className={message.ok ? 'muted' : 'error'} data-testid="alias-message">
          {message.text}
        </span>
      )}
    </form>
  );
}

export function ModelView({ ws, name }: { ws: string; name: string }) {
  const st = useAsync((s) => api.registryModel(ws, name, s), [ws, name]);
  const versions = st.data?.versions ?? [];
  const metrics = metricColumns(versions);
  return (
    <div className="page">
      <h1>
        {name} <span className="badge">{versions.length} version(s)</span>
      </h1>
      {st.error && <div className="error">{st.error.message}</div>}
      {st.data?.model.description && <p className="muted">{st.data.model.description}</p>}
      {versions.length > 0 && <AliasForm ws={ws} name={name} versions={versions} onDone={st.reload} />}
      <table className="grid-table" data-testid="versions">
        <thead>
          <tr>
            <th>version</th>
            <th>aliases</th>
            <th>registered</th>
            {metrics.map((m) => (
              <th key={m}>{m}</th>
            ))}
            <th>run</th>
            <th>sweep</th>
            <th>dataset md5</th>
            <th>weights md5</th>
            <th>git</th>
            <th>formats</th>
            <th>tags</th>
          </tr>
        </thead>
        <tbody>
          {[...versions].reverse().map((v) => (
            <tr key={v.version} data-version={v.version}>
              <td>{v.version}</td>
              <td data-testid="aliases">
                {v.aliases.map((a) => (
                  <span className="alias" key={a}>
                    @{a}
                  </span>
                ))}
              </td>
              <td title={v.createdBy ?? ''}>{formatTime(v.createdAt)}</td>
              {metrics.map((m) => (
                <td className="num" key={m}>
                  {formatValue(v.metrics[m]?.last ?? undefined)}
                </td>
              ))}
              <td>
                <a href={href.run(v.experimentKey)} className="mono">
                  {v.experimentKey.slice(0, 9)}
                </a>
              </td>
              <td>
                {v.sweepId ? (
                  <a href={href.sweep(v.sweepId, ws, v.projectName ?? undefined)}>{v.sweepId.slice(0, 8)}</a>
                ) : (
                  '-'
                )}
              </td>
              <td className="mono" title={`${v.lineage.datasetPath ?? ''} ${v.lineage.datasetMd5 ?? ''}`}>
                {short(v.lineage.datasetMd5)}
              </td>
              <td
                className="mono"
                title={`${v.weights.md5}${v.weights.dvc?.remote ? `\n${v.weights.dvc.remote}` : ''}`}
              >
                {short(v.weights.md5)}
              </td>
              <td className="mono">
                {v.lineage.gitCommit ? `${v.lineage.gitCommit.slice(0, 8)}${v.lineage.gitDirty ? '+dirty' : ''}` : '-'}
              </td>
              <td>{v.formats.join(', ')}</td>
              <td>
                {Object.entries(v.tags).map(([k, val]) => (
                  <span className="tag" key={k}>
                    {k}={val}
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {(st.data?.aliasHistory.length ?? 0) > 0 && (
        <details className="summary-box" open>
          <summary>Alias history</summary>
          <table className="grid-table" data-testid="alias-history">
            <thead>
              <tr>
                <th>when</th>
                <th>alias</th>
                <th>from</th>
                <th>to</th>
                <th>by</th>
              </tr>
            </thead>
            <tbody>
              {[...(st.data?.aliasHistory ?? [])].reverse().map((h, i) => (
                <tr key={i}>
                  <td>{formatTime(h.at)}</td>
                  <td>@{h.alias}</td>
                  <td>{h.previousVersion ?? '-'}</td>
                  <td>{h.version ?? 'removed'}</td>
                  <td>{h.by ?? '-'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
      <p className="lineage">
        Pull a version:{' '}
        <code>
          ocrops models pull {name}@champion --dest models/{name}
        </code>{' '}
        (md5-verified).
      </p>
    </div>
  );
}
