// The README's preload, verbatim: route fetch (and so the openai package) through HTTPS_PROXY.
import { setGlobalDispatcher, EnvHttpProxyAgent } from "undici"; setGlobalDispatcher(new EnvHttpProxyAgent());
