/**
 * ejabberd 23.01 from Debian as the XMPP reference: installed if missing (apt-get), then run as
 * our own instance in a temp dir (own ejabberdctl.cfg + ejabberd.yml, own node name and spool):
 * port 5222 on 127.0.0.1, no TLS, SASL PLAIN only, mod_offline, mod_stream_mgmt, no shapers,
 * open in-band registration, a raised open-files limit. Stopped (and its temp dir removed) at
 * the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const EJABBERD_PORT = 5222;
const NODE_NAME = 'pigeonbench@localhost';
/** Open files for the Erlang VM (just under the machine's ~20k hard limit). */
const EJABBERD_NOFILE = 19_000;
const LIMITS_FILE = '/etc/security/limits.d/pigeon-bench-ejabberd.conf';
const START_TIMEOUT_MS = 90_000;

const CONFIG = `# Written by the Pigeon relay benchmark (bench/src/load/ejabberd.ts).
hosts:
  - localhost
loglevel: warning
listen:
  -
    port: ${EJABBERD_PORT}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: c2s_shaper
    access: c2s
    starttls: false
    starttls_required: false
    backlog: 1024
acl:
  loopback:
    ip:
      - 127.0.0.0/8
      - ::1/128
access_rules:
  c2s:
    allow: all
  register:
    allow: all
  trusted_network:
    allow: loopback
shaper_rules:
  c2s_shaper: none
  max_user_offline_messages: 100000
  max_user_sessions: 10
registration_timeout: infinity
auth_method: [internal]
auth_password_format: plain
disable_sasl_mechanisms: [SCRAM-SHA-1, SCRAM-SHA-256, SCRAM-SHA-512, DIGEST-MD5, X-OAUTH2]
modules:
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_stream_mgmt:
    resend_on_timeout: if_offline
    max_ack_queue: 5000
    ack_timeout: 60
    resume_timeout: 300
  mod_register:
    ip_access: trusted_network
    access: register
`;

export interface RunningEjabberd {
  readonly pid: number;
  readonly version: string;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: START_TIMEOUT_MS });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

function installedVersion(): string | undefined {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'ejabberd'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '' && existsSync('/usr/sbin/ejabberdctl') ? r.stdout.trim() : undefined;
}

/** apt-get install when missing; returns the package version. */
export function ensureEjabberd(log: (line: string) => void): string {
  const have = installedVersion();
  if (have !== undefined) return have;
  log('   installing ejabberd (apt-get install -y ejabberd) ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let out = run('apt-get', ['install', '-y', '-q', 'ejabberd'], env);
  if (installedVersion() === undefined) {
    run('apt-get', ['update', '-q'], env);
    out = run('apt-get', ['install', '-y', '-q', 'ejabberd'], env);
  }
  const v = installedVersion();
  if (v === undefined) throw new Error(`apt-get could not install ejabberd: ${out.slice(-500)}`);
  return v;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function findBeam(): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes('beam') && cmd.includes(NODE_NAME)) return Number(name);
    } catch {
      // gone
    }
  }
  return undefined;
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

export async function startEjabberd(log: (line: string) => void): Promise<RunningEjabberd> {
  const version = ensureEjabberd(log);
  if (findBeam() !== undefined) throw new Error(`an ejabberd node ${NODE_NAME} is already running (a previous run did not stop?)`);
  if (await portOpen(EJABBERD_PORT)) throw new Error(`port ${EJABBERD_PORT} is taken on 127.0.0.1`);
  const dir = mkdtempSync(join(tmpdir(), 'pigeon-bench-ejabberd-'));
  mkdirSync(join(dir, 'spool'));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'ejabberd.yml'), CONFIG);
  const base = existsSync('/etc/ejabberd/ejabberdctl.cfg') ? readFileSync('/etc/ejabberd/ejabberdctl.cfg', 'utf8') : '';
  const ctl = join(dir, 'ejabberdctl.cfg');
  writeFileSync(
    ctl,
    `${base}\n# benchmark instance\nERLANG_NODE=${NODE_NAME}\nEJABBERD_CONFIG_PATH=${dir}/ejabberd.yml\nEJABBERD_PID_PATH=${dir}/ejabberd.pid\nSPOOL_DIR=${dir}/spool\nLOGS_DIR=${dir}/logs\nINET_DIST_INTERFACE=127.0.0.1\nERL_MAX_PORTS=65536\n`,
  );
  // ejabberdctl drops to the ejabberd user through su (pam_limits): the limit must be in limits.d.
  writeFileSync(LIMITS_FILE, `ejabberd soft nofile ${EJABBERD_NOFILE}\nejabberd hard nofile ${EJABBERD_NOFILE}\n`);
  execFileSync('chown', ['-R', 'ejabberd:ejabberd', dir]);
  execFileSync('chmod', ['755', dir]);
  const ctlArgs = ['--ctl-config', ctl];
  const env = { ...process.env, EJABBERD_CONFIG_PATH: join(dir, 'ejabberd.yml') };
  const out = run('bash', ['-c', `ulimit -n ${EJABBERD_NOFILE}; exec /usr/sbin/ejabberdctl --ctl-config '${ctl}' start`], env);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && !(await portOpen(EJABBERD_PORT))) await new Promise((r) => setTimeout(r, 250));
  const pid = findBeam();
  const cleanup = (): void => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(LIMITS_FILE, { force: true });
  };
  if (pid === undefined || !(await portOpen(EJABBERD_PORT))) {
    const logText = existsSync(join(dir, 'logs', 'ejabberd.log')) ? readFileSync(join(dir, 'logs', 'ejabberd.log'), 'utf8').slice(-1500) : '';
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
    cleanup();
    throw new Error(`ejabberd did not start: ${out.slice(-500)} ${logText}`);
  }
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const nofile = /Max open files\s+(\d+)/.exec(limits)?.[1] ?? '?';
  log(`   ejabberd ${version} started (node ${NODE_NAME}, pid ${pid}, open files ${nofile}, spool in ${dir})`);
  const stop = async (): Promise<void> => {
    run('/usr/sbin/ejabberdctl', [...ctlArgs, 'stop'], env);
    const until = Date.now() + 30_000;
    while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    cleanup();
  };
  return { pid, version, stop };
}
