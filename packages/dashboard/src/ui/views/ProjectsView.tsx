// Projects of every workspace, with their run counts and last update.
import type { ProjectInfo } from '@ocrops/tracker/api';
import { formatTime, formatValue } from '../../lib/format.js';
import { api } from '../api.js';
import { useAsync } from '../hooks.js';
import { href } from '../router.js';

export function ProjectsView() {
  const st = useAsync(async (s) => {
    const { workspaceNames } = await api.workspaces(s);
    const lists = await Promise.all(workspaceNames.map((w) => api.projects(w, s).then((r) => r.projects ?? [])));
    return lists.flat();
  }, []);
  const projects: ProjectInfo[] = st.data ?? [];
  return (
    <div className="page">
      <h1>Projects</h1>
      {st.error && <div className="error">{st.error.message}</div>}
      {st.data && projects.length === 0 && (
        <div className="empty">No projects yet: runs logged with the tracker client appear here.</div>
      )}
      <table className="grid-table projects" data-testid="projects">
        <thead>
          <tr>
            <th>workspace</th>
            <th>project</th>
            <th>runs</th>
            <th>last updated</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {projects.map((p) => (
            <tr key={`${p.workspaceName}/${p.projectName}`}>
              <td>{p.workspaceName}</td>
              <td>
                <a href={href.runs(p.workspaceName, p.projectName)}>{p.projectName}</a>
              </td>
              <td className="num">{formatValue(p.numberOfExperiments)}</td>
              <td>{formatTime(p.lastUpdated)}</td>
              <td>
                <a href={href.sweeps(p.workspaceName, p.projectName)}>sweeps</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
