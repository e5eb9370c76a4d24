/**
 * The environment of every `git` child process: only what git needs to find itself, its config
 * and a network (proxy, CA bundle, SSH agent), never the app's own secrets (PRIVATE_KEY,
 * GITWAY_SECRET_KEY, DATABASE_URL...), which a hook, a credential helper or an `ext::` remote
 * could otherwise read. Git must also never wait on a prompt nobody answers.
 */
const PASSED = ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "SSH_AUTH_SOCK", "SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSL_CAINFO", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"];

export function gitEnv(from: Record<string, string | undefined> = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED) {
    const v = from[name];
    if (v !== undefined) env[name] = v;
  }
  return { ...env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "echo", GIT_SSH_COMMAND: "ssh -o BatchMode=yes" };
}
