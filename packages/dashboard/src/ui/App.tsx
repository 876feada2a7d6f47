// The dashboard shell: top bar with breadcrumbs, API-key dialog on 401, and the routed view.
import { useEffect, useState } from 'react';
import { getApiKey, onAuthNeeded, setApiKey } from './api.js';
import { href, useRoute } from './router.js';
import { ProjectsView } from './views/ProjectsView.js';
import { RunsView } from './views/RunsView.js';
import { RunView } from './views/RunView.js';
import { CompareView } from './views/CompareView.js';
import { SweepView, SweepsList } from './views/SweepView.js';
import { ModelView, ModelsView } from './views/ModelsView.js';

function KeyDialog({ onDone }: { onDone: () => void }) {
  const [key, setKey] = useState(getApiKey() ?? '');
  return (
    <div className="modal-back">
      <form
        className="modal"
        onSubmit={(e) => {
          e.preventDefault();
          setApiKey(key);
          onDone();
        }}
      >
        <h3>API key needed</h3>
        <p className="muted">
          The tracker server asked for an API key (create one with <code>ocrops tracker keys create</code>, or open the
          dashboard with <code>?apiKey=…</code>). It is kept in this browser's local storage.
        </p>
        <input
          autoFocus
          className="search wide"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder="API key"
        />
        <div className="modal-actions">
          <button type="submit" className="button">
            Use key
          </button>
        </div>
      </form>
    </div>
  );
}

export function App() {
  const route = useRoute();
  const [needKey, setNeedKey] = useState(false);
  const [epoch, setEpoch] = useState(0);
  useEffect(() => onAuthNeeded(() => setNeedKey(true)), []);

  let crumbs: { label: string; href?: string }[] = [];
  let body;
  switch (route.view) {
    case 'projects':
      body = <ProjectsView />;
      break;
    case 'runs':
      crumbs = [{ label: route.ws }, { label: route.project }];
      body = <RunsView ws={route.ws} project={route.project} />;
      break;
    case 'sweeps':
      crumbs = [
        { label: route.ws },
        { label: route.project, href: href.runs(route.ws, route.project) },
        { label: 'sweeps' },
      ];
      body = <SweepsList ws={route.ws} project={route.project} />;
      break;
    case 'run':
      crumbs = [{ label: 'run' }, { label: route.key.slice(0, 9) }];
      body = <RunView experimentKey={route.key} />;
      break;
    case 'compare':
      crumbs = [
        { label: route.ws },
        { label: route.project, href: href.runs(route.ws, route.project) },
        { label: 'compare' },
      ];
      body = <CompareView ws={route.ws} project={route.project} keys={route.keys} />;
      break;
    case 'sweep':
      crumbs =
        route.ws && route.project
          ? [
              { label: route.ws },
              { label: route.project, href: href.runs(route.ws, route.project) },
              { label: 'sweep' },
            ]
          : [{ label: 'sweep' }];
      body = <SweepView id={route.id} ws={route.ws} project={route.project} />;
      break;
    case 'models':
      body = <ModelsView />;
      break;
    case 'model':
      crumbs = [{ label: route.ws }, { label: route.name }];
      body = <ModelView ws={route.ws} name={route.name} />;
      break;
  }
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href={href.projects()}>
          ocrops<span>tracker</span>
        </a>
        <nav className="crumbs">
          <a href={href.projects()}>projects</a>
          <span className="sep">·</span>
          <a href={href.models()} data-testid="nav-models">
            models
          </a>
          {crumbs.map((c, i) => (
            <span key={i}>
              <span className="sep">/</span>
              {c.href ? <a href={c.href}>{c.label}</a> : <span>{c.label}</span>}
            </span>
          ))}
        </nav>
        <span className="spacer" />
        <button className="link" onClick={() => setNeedKey(true)} title="Change the API key">
          {getApiKey() ? 'API key ✓' : 'API key'}
        </button>
      </header>
      <main key={epoch}>{body}</main>
      {needKey && (
        <KeyDialog
          onDone={() => {
            setNeedKey(false);
            setEpoch((e) => e + 1);
          }}
        />
      )}
    </div>
  );
}
