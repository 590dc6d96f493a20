// Apollo Server 5 serving llmref's schema (schema/schema.graphql) for bench/harness.py, from
// data exported from llmref's database: the resolvers return in-memory objects and
// graphql-js executes the selection over them.
//
// node server.mjs <data.json> <port> <execute|redis-cache> [redis-url]
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControl } from "@apollo/server/plugin/cacheControl";
import { startStandaloneServer } from "@apollo/server/standalone";
import responseCachePlugin from "@apollo/server-plugin-response-cache";
import { KeyvAdapter } from "@apollo/utils.keyvadapter";
import KeyvRedis from "@keyv/redis";
import Keyv from "keyv";

const [dataPath, port, mode, redisUrl] = process.argv.slice(2);
const data = JSON.parse(readFileSync(dataPath, "utf8"));

const resolvers = {
  Query: {
    comparison: () => data.comparison,
    models: () => data.models,
  },
  ComparisonResult: { __resolveType: (value) => value.__typename },
};

const plugins = [];
let cache;
if (mode === "redis-cache") {
  cache = new KeyvAdapter(new Keyv({ store: new KeyvRedis(redisUrl) }));
  plugins.push(ApolloServerPluginCacheControl({ defaultMaxAge: 3600 }), responseCachePlugin());
} else if (mode !== "execute") {
  throw new Error(`unknown mode ${mode}`);
}

const server = new ApolloServer({ typeDefs: data.sdl, resolvers, plugins, cache });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(port) },
});
console.log(`apollo (${mode}) at ${url}`);
