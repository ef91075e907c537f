/**
 * The standard credential chain, loaded on first use. The SDK clients name the chain as
 * their default credential provider; the build points that import here, so the chain (and
 * the SSO and STS clients inside it) is parsed only by tasks that use it.
 */
import type { defaultProvider as DefaultProvider } from "@aws-sdk/credential-provider-node";

export const defaultProvider: typeof DefaultProvider = (init) => {
  let provider: ReturnType<typeof DefaultProvider> | undefined;
  return async (options) => {
    if (!provider) {
      const lazy = await import("./sdk-lazy.ts");
      provider = lazy.defaultProvider(init);
    }
    return provider(options);
  };
};
