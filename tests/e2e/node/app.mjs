// An unchanged app: the openai npm package calling the Werker API (or OPENAI_BASE_URL when set).
// Prints one JSON line {"text", "streamed"} for tests/e2e/test_clients.py.
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: process.env.OPENAI_BASE_URL || "https://api.werker.health/v1",
  maxRetries: 0,
  timeout: 30_000,
});
const input = process.argv[2];
const r = await client.responses.create({ model: "werker-clinical-1", input });
const stream = await client.responses.create({ model: "werker-clinical-1", input, stream: true });
let streamed = "";
for await (const event of stream) {
  if (event.type === "response.output_text.delta") streamed += event.delta;
}
console.log(JSON.stringify({ text: r.output_text, streamed }));
