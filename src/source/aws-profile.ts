import { booleanSelector, CONFIG_PREFIX_SEPARATOR, loadConfig, loadSharedConfigFiles, SelectorType } from '@smithy/core/config';
import { quoted } from '../errors.js';

/**
 * A named AWS profile as the AWS CLI resolves it, for the clients ctlake
 * builds (CloudTrail, S3): its configured endpoints, whether it exists, and
 * which credential step of it failed. Everything is read through the SDK's
 * own loader (@smithy/core/config: the same file parsing, cache and
 * precedence the clients use); nothing here parses a config file.
 *
 * Why this exists: SDK v3 honours a profile's `endpoint_url` and its
 * `services` section only for the profile it finds in AWS_PROFILE. The
 * client option `profile` reaches the region and the credentials, but the
 * configured-endpoint lookup (@smithy/core/endpoints, getEndpointFromConfig)
 * loads its config with no profile. So `profile: 'x'` and `AWS_PROFILE=x`
 * differed; with useProfile() they do not.
 */

/** The client shape useProfile() needs: the SDK's resolved config and middleware stack. */
interface ProfiledClient {
  config: object;
  middlewareStack: {
    addRelativeTo(middleware: unknown, options: { relation: 'before' | 'after'; toMiddleware: string; name: string; override?: boolean }): void;
  };
}

/**
 * The configured endpoint of `serviceId` (`CloudTrail`, `S3`) for
 * `profile`, as @smithy/core's getEndpointUrlConfig and
 * getIgnoreConfiguredEndpointUrls select it (those selectors are not
 * exported, so they are repeated here, rule for rule): undefined when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's
 * `ignore_configured_endpoint_urls` is true; else
 * AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then the profile's
 * `services` section (`<service> =` with `endpoint_url` under it), then
 * the profile's `endpoint_url`. A `services` name with no such section,
 * or an ignore setting that is neither true nor false, counts as not set,
 * as in the SDK (its config loader goes on to the next source when a
 * selector throws), where the AWS CLI would fail.
 */
export async function configuredEndpoint(serviceId: string, profile: string | undefined): Promise<string | undefined> {
  const init = profile === undefined ? {} : { profile };
  const ignore = await loadConfig<boolean>(
    {
      environmentVariableSelector: (env) => booleanSelector(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', SelectorType.ENV),
      configFileSelector: (section) => booleanSelector(section, 'ignore_configured_endpoint_urls', SelectorType.CONFIG),
      default: false,
    },
    init,
  )();
  if (ignore) return undefined;
  const words = serviceId.split(' ');
  return loadConfig<string | undefined>(
    {
      environmentVariableSelector: (env) => env[['AWS_ENDPOINT_URL', ...words.map((w) => w.toUpperCase())].join('_')] || env.AWS_ENDPOINT_URL || undefined,
      configFileSelector: (section, file) => {
        if (section.services) {
          const services = file?.[['services', section.services].join(CONFIG_PREFIX_SEPARATOR)];
          if (!services) throw new Error(`The services section "${section.services}" specified in the profile is not present in the shared configuration file.`);
          const url = services[[words.map((w) => w.toLowerCase()).join('_'), 'endpoint_url'].join(CONFIG_PREFIX_SEPARATOR)];
          if (url) return url;
        }
        return section.endpoint_url || undefined;
      },
      default: undefined,
    },
    init,
  )();
}

/**
 * The profile a client reads: the `profile` option, else AWS_PROFILE, else
 * none (the SDK's `default`, which may well not exist: credentials from the
 * environment need no profile).
 */
export function namedProfile(profile: string | undefined): string | undefined {
  return profile || process.env.AWS_PROFILE || undefined;
}

/** Where the SDK looks for profiles: each file's path, and the variable that set it (none: the default under ~/.aws). */
export function profileFiles(): Array<{ path: string; variable: string | undefined }> {
  const env = process.env;
  return [
    env.AWS_CONFIG_FILE ? { path: env.AWS_CONFIG_FILE, variable: 'AWS_CONFIG_FILE' } : { path: '~/.aws/config', variable: undefined },
    env.AWS_SHARED_CREDENTIALS_FILE ? { path: env.AWS_SHARED_CREDENTIALS_FILE, variable: 'AWS_SHARED_CREDENTIALS_FILE' } : { path: '~/.aws/credentials', variable: undefined },
  ];
}

/** What a profile failed at, for toCtlakeError (src/source/retry.ts) to word. */
export type ProfileFailureKind = 'missing' | 'credentials';

/**
 * A failure of the profile, not of the service: the profile is in neither
 * file, or one of its credential steps failed (`step` says which, in the
 * AWS CLI's words). `cause` is the SDK's error. Never retried: a credential
 * step retries on its own (the STS and SSO clients have their own retry).
 */
export class AwsProfileError extends Error {
  override readonly name = 'AwsProfileError';
  constructor(
    readonly kind: ProfileFailureKind,
    /** undefined: no profile was named, the SDK's default chain failed. */
    readonly profile: string | undefined,
    /** Whether the name came from the `profile` option (else AWS_PROFILE). */
    readonly fromOption: boolean,
    readonly step: string,
    options?: { cause?: unknown },
  ) {
    super(kind === 'missing' ? `profile ${profile ?? ''} not found` : `profile ${profile ?? '(default chain)'}: ${step} failed`, options);
  }
}

/**
 * The credential step of a profile section in the AWS CLI's words: what
 * the SDK runs for it (credential-provider-ini's order: role assumption,
 * then SSO, then credential_process, then static keys). Names from the
 * file are quoted (escaped, masked, cut).
 */
export function credentialStep(section: Readonly<Record<string, string | undefined>> | undefined): string {
  if (!section) return 'credential chain';
  if (section.role_arn && section.source_profile) return `role assumption (role_arn with source_profile ${quoted(section.source_profile)})`;
  if (section.role_arn && section.credential_source) return `role assumption (role_arn with credential_source ${quoted(section.credential_source)})`;
  if (section.role_arn && section.web_identity_token_file) return 'web identity role assumption (role_arn with web_identity_token_file)';
  if (section.sso_session || section.sso_start_url) return section.sso_session ? `SSO token (sso_session ${quoted(section.sso_session)})` : 'SSO token (sso_start_url)';
  if (section.credential_process) return 'credential_process';
  if (section.login_session) return 'console login session (login_session)';
  if (section.aws_access_key_id) return 'static keys (aws_access_key_id)';
  return 'credential chain';
}

/** The merged section of `profile` from both files (config over credentials, as the SDK merges them). */
async function profileSection(profile: string): Promise<Record<string, string | undefined> | undefined> {
  const { configFile, credentialsFile } = await loadSharedConfigFiles();
  const fromConfig = Object.hasOwn(configFile, profile) ? configFile[profile] : undefined;
  const fromCredentials = Object.hasOwn(credentialsFile, profile) ? credentialsFile[profile] : undefined;
  if (!fromConfig && !fromCredentials) return undefined;
  return { ...fromCredentials, ...fromConfig };
}

/**
 * Records what the SDK's credential providers say on their debug channel
 * while they run, so that a step whose error the default chain swallows
 * (credential_process: its CredentialsProviderError lets the chain go on,
 * which then ends in "Could not load credentials from any providers") can
 * still be named with its cause. Keeps the last few provider errors only;
 * every other debug line is dropped at once.
 */
export class CredentialLog {
  #step = '';
  readonly #errors: Array<{ step: string; message: string }> = [];
  debug = (...content: unknown[]): void => {
    const line = typeof content[0] === 'string' ? content[0] : '';
    if (line.startsWith('@aws-sdk/credential-provider-')) this.#step = line;
    else if (line.startsWith('@smithy/property-provider -> ') && this.#step.includes('credential-provider-process')) {
      this.#errors.push({ step: this.#step, message: line.slice('@smithy/property-provider -> '.length) });
      if (this.#errors.length > 4) this.#errors.shift();
    }
  };
  info = (): void => undefined;
  // The SDK warns through the client's logger of a profile and static
  // keys both set (it uses the profile): the AWS CLI says nothing either.
  warn = (): void => undefined;
  error = (): void => undefined;
  trace = (): void => undefined;
  /** The last error the credential_process step recorded. */
  processError(): string | undefined {
    return this.#errors.at(-1)?.message;
  }
}

/**
 * What a client built with `profile` adds to its constructor's config so
 * that the STS client the SDK builds for the profile's role assumption
 * (role_arn with source_profile, or web identity) also takes the
 * profile's configured STS endpoint (`sts =` in its `services` section,
 * or its `endpoint_url`), as it would under AWS_PROFILE. The SDK hands the
 * client's `clientPlugins` on to that STS client (credential-provider-ini);
 * the plugin sets the request's endpoint after the STS client resolved its
 * own, which without a profile in AWS_PROFILE is the regional one. The SSO
 * clients of an SSO profile get no plugins from the SDK: their configured
 * endpoints follow AWS_PROFILE only.
 */
export function profileClientConfig(profile: string | undefined): { clientPlugins?: unknown[] } {
  if (!profile) return {};
  let url: Promise<string | undefined> | undefined;
  const plugin = {
    applyToStack(stack: ProfiledClient['middlewareStack']) {
      stack.addRelativeTo(
        (next: (args: unknown) => Promise<unknown>, context: { endpointV2?: { url: URL } }) => async (args: unknown) => {
          const configured = await (url ??= configuredEndpoint('STS', profile));
          if (configured !== undefined) context.endpointV2 = { ...context.endpointV2, url: new URL(configured) };
          return next(args);
        },
        { relation: 'after', toMiddleware: 'endpointV2Middleware', name: 'ctlakeStsEndpointMiddleware', override: true },
      );
    },
  };
  return { clientPlugins: [plugin] };
}

/**
 * Makes a client built with `profile` resolve as it would under
 * AWS_PROFILE, and names the profile in what fails before a request is
 * sent:
 * - its configured endpoint (configuredEndpoint) for `serviceId`, unless
 *   the caller gave an endpoint, which wins as `--endpoint-url` does;
 * - a named profile (the option or AWS_PROFILE) that is in neither file
 *   fails with AwsProfileError 'missing' before the region is looked up,
 *   instead of the SDK's "Region is missing";
 * - a credential failure (the SDK's identity step, in httpAuthSchemeMiddleware)
 *   becomes AwsProfileError 'credentials' with the profile's step and the
 *   SDK's error as its cause.
 * The check and the endpoint are looked up once per client, lazily.
 */
export function useProfile(client: ProfiledClient, options: { serviceId: string; profile: string | undefined; explicitEndpoint: boolean; log: CredentialLog }): void {
  const config = client.config as { serviceConfiguredEndpoint?: () => Promise<string | undefined> };
  if (options.profile && !options.explicitEndpoint) {
    let endpoint: Promise<string | undefined> | undefined;
    config.serviceConfiguredEndpoint = () => (endpoint ??= configuredEndpoint(options.serviceId, options.profile));
  }
  const profile = namedProfile(options.profile);
  const fromOption = Boolean(options.profile);
  let exists: Promise<boolean> | undefined;
  const reached = new WeakSet<object>();
  client.middlewareStack.addRelativeTo(
    (next: (args: unknown) => Promise<unknown>, context: object) => async (args: unknown) => {
      if (profile !== undefined && !(await (exists ??= profileSection(profile).then((s) => s !== undefined)))) {
        throw new AwsProfileError('missing', profile, fromOption, 'lookup');
      }
      try {
        return await next(args);
      } catch (error) {
        if (reached.has(context) || (error instanceof Error && /Region is missing|Region not accepted/i.test(error.message))) throw error;
        const section = profile === undefined ? undefined : await profileSection(profile).catch(() => undefined);
        const step = credentialStep(section);
        const recorded = step === 'credential_process' ? options.log.processError() : undefined;
        throw new AwsProfileError('credentials', profile, fromOption, step, { cause: recorded === undefined ? error : new Error(recorded, { cause: error }) });
      }
    },
    { relation: 'before', toMiddleware: 'httpAuthSchemeMiddleware', name: 'ctlakeProfileMiddleware', override: true },
  );
  client.middlewareStack.addRelativeTo(
    (next: (args: unknown) => Promise<unknown>, context: object) => (args: unknown) => {
      reached.add(context);
      return next(args);
    },
    { relation: 'after', toMiddleware: 'httpAuthSchemeMiddleware', name: 'ctlakeProfileReachedMiddleware', override: true },
  );
}
