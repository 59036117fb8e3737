// Test-only: verifies webhook deliveries with the Standard Webhooks reference library.
// Usage: node verify.mjs <whsec_ secret> < deliveries.json
// deliveries.json: [{"headers": {"webhook-id": …, "webhook-timestamp": …, "webhook-signature": …}, "body": "…"}]
// Prints one line per delivery; exits 1 when any fails to verify.
import { Webhook } from "standardwebhooks";
import { readFileSync } from "node:fs";

const secret = process.argv[2];
const deliveries = JSON.parse(readFileSync(0, "utf8"));
const webhook = new Webhook(secret);
let failed = 0;
for (const [i, delivery] of deliveries.entries()) {
  try {
    const payload = webhook.verify(delivery.body, delivery.headers);
    console.log(`delivery ${i}: verified, job ${payload.id} status ${payload.status}`);
  } catch (error) {
    failed += 1;
    console.log(`delivery ${i}: NOT verified: ${error.message}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
