import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { parseRoute } from './router.js';
import { prefetchRunPage } from './views/RunView.js';
import './styles.css';

// registered before React's route listener: a run page's requests leave before the page renders
window.addEventListener('hashchange', () => {
  const route = parseRoute(location.hash);
  if (route.view === 'run') prefetchRunPage(route.key);
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
