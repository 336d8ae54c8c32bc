// Certificates and keys for the local control plane: a CA, the API server's serving cert, client
// certs for the admin and the controller manager, and the service-account signing key.
// openssl does the work: Node's crypto makes keys but cannot issue X.509 certificates.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runProcess } from '../exec.ts';

export interface ControlPlanePki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  controllerManagerCert: string;
  controllerManagerKey: string;
  /** kubeflake's own identity (user "kubeflake"): the audit policy leaves its requests out of the record. */
  kubeflakeCert: string;
  kubeflakeKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

const days = '3650';
const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(args: string[], cwd: string): Promise<void> {
  const result = await runProcess(['openssl', ...args], { cwd, capture: true });
  if (result.exitCode !== 0) {
    throw new Error(`openssl ${args[0]} failed while making the local control plane's certificates in ${cwd}: ${result.stderr.trim()}`);
  }
}

/** Issues a key and a certificate signed by the CA in `dir`. */
async function issue(dir: string, name: string, subject: string, extensions: string[]): Promise<void> {
  await openssl(['req', '-new', ...curve, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject,
    ...extensions.flatMap((extension) => ['-addext', extension])], dir);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', days, '-copy_extensions', 'copy', '-out', `${name}.crt`], dir);
}

/** Writes a fresh PKI into `dir` and returns the paths. */
export async function createPki(dir: string): Promise<ControlPlanePki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await openssl(['req', '-x509', ...curve, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', days,
    '-subj', '/CN=kubeflake-local-ca', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'], dir);
  const serverNames = ['DNS:localhost', 'IP:127.0.0.1', 'IP:10.0.0.1', 'DNS:kubernetes', 'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'];
  await issue(dir, 'apiserver', '/CN=kube-apiserver', [`subjectAltName=${serverNames.join(',')}`, 'extendedKeyUsage=serverAuth']);
  // system:masters: the admin and the controller manager act on everything (as in kind).
  await issue(dir, 'admin', '/O=system:masters/CN=kubeflake-admin', ['extendedKeyUsage=clientAuth']);
  await issue(dir, 'controller-manager', '/O=system:masters/CN=system:kube-controller-manager', ['extendedKeyUsage=clientAuth']);
  // The test command gets the admin; kubeflake's snapshots, watch and cleanup go as themselves.
  await issue(dir, 'kubeflake', '/O=system:masters/CN=kubeflake', ['extendedKeyUsage=clientAuth']);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'sa.key'], dir);
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return pkiPaths(dir);
}

export function pkiPaths(dir: string): ControlPlanePki {
  const path = (file: string) => join(dir, file);
  return {
    dir,
    caCert: path('ca.crt'),
    caKey: path('ca.key'),
    serverCert: path('apiserver.crt'),
    serverKey: path('apiserver.key'),
    adminCert: path('admin.crt'),
    adminKey: path('admin.key'),
    controllerManagerCert: path('controller-manager.crt'),
    controllerManagerKey: path('controller-manager.key'),
    kubeflakeCert: path('kubeflake.crt'),
    kubeflakeKey: path('kubeflake.key'),
    serviceAccountKey: path('sa.key'),
    serviceAccountPub: path('sa.pub'),
  };
}

/** A kubeconfig with the certificates embedded, so it stands alone. */
export async function writeKubeconfig(file: string, server: string, caCert: string, clientCert: string, clientKey: string, user: string): Promise<void> {
  const b64 = async (path: string) => (await readFile(path)).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubeflake-local', cluster: { server, 'certificate-authority-data': await b64(caCert) } }],
    users: [{ name: user, user: { 'client-certificate-data': await b64(clientCert), 'client-key-data': await b64(clientKey) } }],
    contexts: [{ name: 'kubeflake-local', context: { cluster: 'kubeflake-local', user } }],
    'current-context': 'kubeflake-local',
    preferences: {},
  };
  // JSON is valid YAML, and every Kubernetes client reads it.
  await writeFile(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
}
