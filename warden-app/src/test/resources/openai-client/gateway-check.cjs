// Drives Warden's gateway with the official `openai` npm client and prints one JSON line of results.
// Env: WARDEN_BASE_URL (http://127.0.0.1:PORT/v1), WARDEN_TOKEN (a gateway token), WARDEN_POOR_TOKEN (a token with no budget).
const OpenAI = require('openai');

async function outcome(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, name: e.constructor && e.constructor.name, status: e.status, code: e.code, type: e.type, message: e.message };
  }
}

(async () => {
  const baseURL = process.env.WARDEN_BASE_URL;
  const client = new OpenAI({ baseURL, apiKey: process.env.WARDEN_TOKEN, maxRetries: 0, timeout: 20000 });
  const out = {};
  out.models = await outcome(async () => (await client.models.list()).data.map(m => m.id));
  out.plain = await outcome(async () => {
    const r = await client.chat.completions.create({ model: 'coder', messages: [{ role: 'user', content: 'say hi' }], max_tokens: 50 });
    return { text: r.choices[0].message.content, usage: r.usage };
  });
  out.stream = await outcome(async () => {
    const s = await client.chat.completions.create({ model: 'coder', messages: [{ role: 'user', content: 'say hi' }], max_tokens: 50, stream: true });
    let text = '';
    let chunks = 0;
    for await (const c of s) {
      chunks++;
      if (c.choices && c.choices[0] && c.choices[0].delta && c.choices[0].delta.content) text += c.choices[0].delta.content;
    }
    return { text, chunks };
  });
  out.streamUsage = await outcome(async () => {
    const s = await client.chat.completions.create({ model: 'coder', messages: [{ role: 'user', content: 'say hi' }], max_tokens: 50,
      stream: true, stream_options: { include_usage: true } });
    let usage = null;
    for await (const c of s) { if (c.usage) usage = c.usage; }
    return { usage };
  });
  out.badToken = await outcome(() => new OpenAI({ baseURL, apiKey: 'wgw_not_a_real_token', maxRetries: 0 }).models.list());
  out.unknownModel = await outcome(() => client.chat.completions.create({ model: 'no-such-route', messages: [{ role: 'user', content: 'x' }] }));
  out.badRequest = await outcome(() => client.chat.completions.create({ model: 'coder', messages: [] }));
  out.overBudget = await outcome(() => new OpenAI({ baseURL, apiKey: process.env.WARDEN_POOR_TOKEN, maxRetries: 0 })
    .chat.completions.create({ model: 'coder', messages: [{ role: 'user', content: 'x' }], max_tokens: 50 }));
  out.midStreamError = await outcome(async () => {
    const s = await client.chat.completions.create({ model: 'flaky', messages: [{ role: 'user', content: 'x' }], max_tokens: 50, stream: true });
    let text = '';
    for await (const c of s) { if (c.choices && c.choices[0] && c.choices[0].delta.content) text += c.choices[0].delta.content; }
    return { text };
  });
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(3); });
