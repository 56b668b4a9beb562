// The ledger's KV namespace for plain `workerd serve`, which forwards each KV call of a
// `kvNamespace` binding to a service as HTTP (GET, PUT, DELETE of /<encoded key>). This service
// keeps the values in one Durable Object's storage on the same disk as the registries.
// Expirations are not applied: a benchmark's tokens do not live that long.
import { DurableObject } from "cloudflare:workers";

export class Ledger extends DurableObject {
  async fetch(request) {
    const key = decodeURIComponent(new URL(request.url).pathname.slice(1));
    switch (request.method) {
      case "PUT":
        await this.ctx.storage.put(key, await request.text());
        return new Response(null);
      case "GET": {
        const value = await this.ctx.storage.get(key);
        return value === undefined ? new Response(null, { status: 404 }) : new Response(value);
      }
      case "DELETE":
        await this.ctx.storage.delete(key);
        return new Response(null);
      default:
        return new Response(null, { status: 405 });
    }
  }
}

export default {
  fetch(request, env) {
    return env.LEDGER.get(env.LEDGER.idFromName("ledger")).fetch(request);
  },
};
