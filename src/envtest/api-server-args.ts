// The kube-apiserver shim's argument handling: pure, shared by the shim program
// (kube-apiserver-shim.ts) and the tests. It imports nothing, so the shim starts fast.

/**
 * Where the API server envtest is starting will serve: https on --bind-address (loopback when it
 * listens on every address) and --secure-port. Undefined when there is no secure port to reach
 * (a `--help` call, an old insecure-only server): the shim then only passes through.
 */
export function apiServerEndpoint(args: readonly string[]): string | undefined {
  // The last occurrence wins, as in pflag; `--flag=value` and `--flag value` both count.
  const fv = (flag: string): string | undefined => {
    let value: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string;
      if (arg === `--${flag}` && i + 1 < args.length) value = args[++i];
      else if (arg.startsWith(`--${flag}=`)) value = arg.slice(flag.length + 3);
    }
    return value;
  };
  const port = fv('secure-port');
  if (!port || !/^\d+$/.test(port) || port === '0') return undefined;
  let host = fv('bind-address') ?? '127.0.0.1';
  if (host === '' || host === '0.0.0.0' || host === '::') host = '127.0.0.1';
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The real server's arguments: the suite's, with kubeflake's token file in place of any
 * --token-auth-file (whose lines the shim copies into kubeflake's file, so the suite's own
 * tokens keep working). Returns the file the suite had, if any.
 */
export function withKubeflakeTokenFile(args: readonly string[], tokenFile: string): { args: string[]; suiteTokenFile?: string } {
  const out: string[] = [];
  let suiteTokenFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--token-auth-file' && i + 1 < args.length) {
      suiteTokenFile = args[++i];
      continue;
    }
    if (arg.startsWith('--token-auth-file=')) {
      suiteTokenFile = arg.slice('--token-auth-file='.length);
      continue;
    }
    out.push(arg);
  }
  out.push(`--token-auth-file=${tokenFile}`);
  return suiteTokenFile === undefined ? { args: out } : { args: out, suiteTokenFile };
}

/** The arguments with another --secure-port: the real server listens there, behind envtest's port. */
export function withSecurePort(args: readonly string[], port: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--secure-port' && i + 1 < args.length) {
      out.push(arg, String(port));
      i++;
    } else if (arg.startsWith('--secure-port=')) {
      out.push(`--secure-port=${port}`);
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Calls that only ask the binary about itself (envtest runs `kube-apiserver --help` to probe flags). */
export function isInformationalCall(args: readonly string[]): boolean {
  return args.some((arg) => arg === '--help' || arg === '-h' || arg === '--version' || arg.startsWith('--version='));
}
