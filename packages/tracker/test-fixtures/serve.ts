// Test fixture: runs a tracking server in a child process (so tests can SIGKILL it).
// Usage: node --conditions=@ocrops/source --import tsx serve.ts <dataDir> <port> [heartbeatMillis]
// Prints `LISTENING <url>` once it accepts connections.
import { startServer } from '../src/index.js';

const [dataDir, port, beat] = process.argv.slice(2);
const server = await startServer({ dataDir, port: Number(port), heartbeatMillis: beat ? Number(beat) : undefined });
process.stdout.write(`LISTENING ${server.url}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
