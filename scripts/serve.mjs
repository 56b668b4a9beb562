// The Worker under wrangler's own dev runtime (workerd, local KV and Durable Objects, state on
// disk) with wrangler's devtools inspector off: `wrangler dev` cannot turn it off, and its
// session (Network events for every subrequest, relayed through a second workerd into node)
// took about a third of this machine's two cores under load. For benchmarks; `make dev` keeps
// `wrangler dev` and its devtools.
//   node scripts/serve.mjs --port P --persist-to DIR [--var NAME:VALUE]... [--log-level L]
import { unstable_startWorker } from "wrangler";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const vars = {};
args.forEach((a, i) => {
  if (a === "--var") {
    const [name, ...rest] = args[i + 1].split(":");
    vars[name] = { type: "plain_text", value: rest.join(":") };
  }
});

const worker = await unstable_startWorker({
  config: new URL("../wrangler.toml", import.meta.url).pathname,
  bindings: vars,
  dev: {
    remote: false,
    inspector: false,
    watch: false,
    persist: opt("--persist-to", "state"),
    logLevel: opt("--log-level", "info"),
    server: { hostname: "127.0.0.1", port: Number(opt("--port", "8787")) },
  },
});
await worker.ready;
console.log(`Ready on ${await worker.url}`);
const stop = async () => {
  await worker.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
