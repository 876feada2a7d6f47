import { href } from '../router.js';

export function ProjectTabs({ ws, project, active }: { ws: string; project: string; active: 'runs' | 'sweeps' }) {
  return (
    <div className="tabs">
      <a className={active === 'runs' ? 'active' : ''} href={href.runs(ws, project)}>
        Runs
      </a>
      <a className={active === 'sweeps' ? 'active' : ''} href={href.sweeps(ws, project)} data-testid="sweeps-tab">
        Sweeps
      </a>
    </div>
  );
}
