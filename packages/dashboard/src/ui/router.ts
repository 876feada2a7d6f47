// Hash routing: #/ (projects), #/p/<ws>/<project> (runs), #/p/<ws>/<project>/sweeps, #/run/<key>,
// #/compare/<ws>/<project>?keys=a,b, #/sweep/<id>?ws=&project=, #/models (registry), #/model/<ws>/<name>.
import { useEffect, useState } from 'react';

export type Route =
  | { view: 'projects' }
  | { view: 'runs'; ws: string; project: string; query: URLSearchParams }
  | { view: 'sweeps'; ws: string; project: string }
  | { view: 'run'; key: string; query: URLSearchParams }
  | { view: 'compare'; ws: string; project: string; keys: string[] }
  | { view: 'sweep'; id: string; ws?: string; project?: string }
  | { view: 'models' }
  | { view: 'model'; ws: string; name: string };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, qs = ''] = raw.split('?');
  const q = new URLSearchParams(qs);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'p' && parts.length >= 3) {
    if (parts[3] === 'sweeps') return { view: 'sweeps', ws: parts[1], project: parts[2] };
    return { view: 'runs', ws: parts[1], project: parts[2], query: q };
  }
  if (parts[0] === 'run' && parts[1]) return { view: 'run', key: parts[1], query: q };
  if (parts[0] === 'compare' && parts.length >= 3) {
    return { view: 'compare', ws: parts[1], project: parts[2], keys: (q.get('keys') ?? '').split(',').filter(Boolean) };
  }
  if (parts[0] === 'sweep' && parts[1])
    return { view: 'sweep', id: parts[1], ws: q.get('ws') ?? undefined, project: q.get('project') ?? undefined };
  if (parts[0] === 'models') return { view: 'models' };
  if (parts[0] === 'model' && parts.length >= 3) return { view: 'model', ws: parts[1], name: parts[2] };
  return { view: 'projects' };
}

const enc = encodeURIComponent;
export const href = {
  projects: () => '#/',
  runs: (ws: string, project: string) => `#/p/${enc(ws)}/${enc(project)}`,
  sweeps: (ws: string, project: string) => `#/p/${enc(ws)}/${enc(project)}/sweeps`,
  run: (key: string) => `#/run/${enc(key)}`,
  compare: (ws: string, project: string, keys: string[]) =>
    `#/compare/${enc(ws)}/${enc(project)}?keys=${keys.map(enc).join(',')}`,
  models: () => '#/models',
  model: (ws: string, name: string) => `#/model/${enc(ws)}/${enc(name)}`,
  sweep: (id: string, ws?: string, project?: string) =>
    `#/sweep/${enc(id)}${ws && project ? `?ws=${enc(ws)}&project=${enc(project)}` : ''}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
