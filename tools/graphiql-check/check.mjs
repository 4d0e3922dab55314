// Checks the router's GraphiQL page in a real headless Chromium.
//
//   node tools/graphiql-check/check.mjs http://127.0.0.1:4100/
//
// Registers a user over plain HTTP, then in the browser: opens the page, waits for the
// editor, puts {"Authorization": "Bearer <token>"} in GraphiQL's headers editor, types
// `{ me { id email } }` into the query editor, runs it and expects the result pane to show
// the user's email. Fails when the page loads anything from outside the router (the
// assets must be local), logs a page error, or a step takes too long. Leaves a screenshot
// in the temporary directory either way. Exit status 0 means the check passed.
// run.sh starts a server and calls this.

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = new URL(process.argv[2] ?? "http://127.0.0.1:4000/");
const executablePath = process.env.FOLIO_CI_CHROMIUM ?? "/usr/bin/chromium";
const stepMs = 20_000;
const totalMs = 90_000;
const screenshot = join(tmpdir(), `folio-graphiql-check-${process.pid}.png`);

const fail = (message) => {
  throw new Error(message);
};

// The whole check must end in time, even if Chromium hangs.
const watchdog = setTimeout(() => {
  console.error(`graphiql-check: FAILED: no result within ${totalMs / 1000} s`);
  process.exit(1);
}, totalMs);
watchdog.unref();

async function register() {
  const email = `graphiql-${Date.now()}@example.com`;
  const res = await fetch(new URL("/graphql", base), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      query:
        "mutation ($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }",
      variables: {
        i: { email, password: "graphiql check password", firstName: "Graph", lastName: "Iql" },
      },
    }),
  });
  const body = await res.json();
  const token = body?.data?.register?.accessToken;
  if (!token) fail(`register did not return a token: ${JSON.stringify(body)}`);
  return { email, token };
}

// The text of a CodeMirror 5 editor inside `selector` (GraphiQL 4's editors).
const editorText = (page, selector) =>
  page.$eval(`${selector} .CodeMirror`, (el) => el.CodeMirror.getValue());

// Types into the CodeMirror editor inside `selector` as a user would, after clearing it.
async function typeInto(page, selector, text) {
  await page.click(`${selector} .CodeMirror`);
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type(text);
  await page.keyboard.press("Escape"); // close an autocompletion popup, if any
  const got = await editorText(page, selector);
  const squash = (s) => s.replace(/\s+/g, "");
  if (squash(got) !== squash(text)) {
    fail(`typing into ${selector} gave ${JSON.stringify(got)}, not ${JSON.stringify(text)}`);
  }
}

async function main() {
  const { email, token } = await register();
  const userDataDir = mkdtempSync(join(tmpdir(), "folio-graphiql-chromium-"));
  const outside = [];
  const pageErrors = [];
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      timeout: stepMs,
      viewport: { width: 1280, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    context.setDefaultTimeout(stepMs);
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("request", (req) => {
      const url = new URL(req.url());
      const inline = url.protocol === "data:" || url.protocol === "blob:";
      if (!inline && url.host !== base.host) outside.push(req.url());
    });
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    page.on("response", (res) => {
      if (res.status() >= 400) pageErrors.push(`HTTP ${res.status()} for ${res.url()}`);
    });
    page.on("console", (msg) => {
      if (msg.type() === "error") pageErrors.push(`console: ${msg.text()}`);
    });
    try {
      const res = await page.goto(base.href, { waitUntil: "load" });
      if (!res?.ok()) fail(`GET ${base.href}: HTTP ${res?.status()}`);

      // Renders: the query editor appears.
      await page.waitForSelector(".graphiql-query-editor .CodeMirror", { state: "visible" });

      // The headers editor: open its tab, then set the Authorization header.
      await page.click('.graphiql-editor-tools button[data-name="headers"]');
      const headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden)";
      await page.waitForSelector(`${headers} .CodeMirror`, { state: "visible" });
      await typeInto(page, headers, `{"Authorization": "Bearer ${token}"}`);

      // A query, typed, then run with the execute button.
      await typeInto(page, ".graphiql-query-editor", "{ me { id email } }");
      await page.click(".graphiql-execute-button");

      // The result pane shows data: the signed-in user's email.
      const result = ".graphiql-response .CodeMirror";
      const shown = await page
        .waitForFunction(
          ([sel, want]) => document.querySelector(sel)?.CodeMirror?.getValue().includes(want),
          [result, email],
          { timeout: stepMs },
        )
        .then(
          () => true,
          () => false,
        );
      const text = await page.$eval(result, (el) => el.CodeMirror.getValue());
      if (!shown) fail(`the result pane does not show ${email} within ${stepMs / 1000} s: ${text}`);
      const data = JSON.parse(text)?.data?.me;
      if (data?.email !== email) fail(`the result pane shows ${text}`);

      if (outside.length) fail(`the page loaded from outside the router: ${outside.join(", ")}`);
      if (pageErrors.length) fail(`the page logged errors:\n  ${pageErrors.join("\n  ")}`);
      console.log(`graphiql-check: ok: ${base.href} rendered; { me } with the headers editor's token returned ${email}`);
    } catch (err) {
      if (pageErrors.length) err.message += `\nthe page logged:\n  ${pageErrors.join("\n  ")}`;
      throw err;
    } finally {
      await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
      console.log(`graphiql-check: screenshot: ${screenshot}`);
    }
  } finally {
    await context?.close().catch(() => {});
    // Chromium's helper processes may still be writing to the profile for a moment after
    // close(): retry, and never let cleaning a temporary directory decide the check.
    try {
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (err) {
      console.warn(`graphiql-check: could not remove ${userDataDir}: ${err?.message ?? err}`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`graphiql-check: FAILED: ${err?.message ?? err}`);
    process.exit(1);
  },
);
