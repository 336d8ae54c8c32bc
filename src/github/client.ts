// The GitHub REST client: @actions/github's octokit with the retry plugin (5xx, network) and
// the throttling plugin (primary and secondary rate limits, and the spacing GitHub asks for
// between writes that notify people). The only file that builds one.

import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface ClientOptions {
  token: string;
  apiUrl: string;
  /** Where retries and rate-limit waits are told. */
  log: (line: string) => void;
}

export function createClient({ token, apiUrl, log }: ClientOptions): GitHubClient {
  return getOctokit(
    token,
    {
      baseUrl: apiUrl,
      log: { debug: () => {}, info: () => {}, warn: log, error: () => {} },
      throttle: {
        onRateLimit: (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
          log(`GitHub rate limit reached for ${options.method} ${options.url}; ${retryCount < 2 ? `retrying in ${retryAfter} s` : 'giving up'}`);
          return retryCount < 2;
        },
        onSecondaryRateLimit: (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
          log(`GitHub secondary rate limit for ${options.method} ${options.url}; ${retryCount < 2 ? `retrying in ${retryAfter} s` : 'giving up'}`);
          return retryCount < 2;
        },
      },
    },
    retry,
    throttling,
  );
}

/** The login the workflow token's comments are written under. */
export const ACTIONS_BOT = 'github-actions[bot]';

/**
 * Whose comments and issues are kubeflake's own: the token's user for a personal token; the
 * workflow token is an installation token, for which GET /user answers 403 "Resource not
 * accessible by integration", and its writes appear as github-actions[bot].
 */
export async function tokenIdentity(client: GitHubClient): Promise<string> {
  try {
    const { data } = await client.rest.users.getAuthenticated();
    return data.login;
  } catch (error) {
    if (statusOf(error) === 403 || statusOf(error) === 401) return ACTIONS_BOT;
    throw error;
  }
}

export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown })?.status;
  return typeof status === 'number' ? status : undefined;
}
