// The Docker runtime from the installed package, against a socket where no engine answers:
// prints the error the invocation records (dockerode is loaded only now).
import { Nebula } from 'nebula-faas';

const nebula = new Nebula({ docker: { connection: { socketPath: '/nonexistent/docker.sock' } } });
try {
  const rec = await nebula.invoke('fib', 1, { runtime: 'docker' });
  console.log(JSON.stringify(rec.ok ? { ok: true } : { code: rec.error.code, message: rec.error.message }));
} finally {
  await nebula.close();
}
