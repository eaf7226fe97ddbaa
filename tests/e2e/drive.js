#!/usr/bin/env node
// Drives a skill over HTTP with virtual-alexa: a real Alexa-like client that builds request
// envelopes from utterances using our generated interaction model.
//
// Input (JSON on stdin, or a file named as the only argument):
//   { "skillUrl": "http://127.0.0.1:PORT/alexa",
//     "model": "skill-package/interactionModels/custom/en-US.json", "locale": "en-US",
//     "applicationId": "amzn1.ask.skill...", "userId": "amzn1.ask.account...",
//     "deviceId": "amzn1.ask.device...",
//     "alexaApi": { "endpoint": "https://127.0.0.1:PORT", "token": "...", "consentToken": "..." },
//     "steps": [ { "action": "launch" | "say" | "end_session" | "permission", "text": "...",
//                  "timestamp": "2026-11-17T13:15:00Z", "userId": "amzn1.ask.account..." } ] }
//   (a step's own "userId" switches user from that step on: many short conversations in one run;
//   "alexaApi", when given, is the Alexa API the skill may call, with the user's consent token for
//   the reminders permission or null; a "permission" step's text is the user's answer to Alexa's
//   permission question, ACCEPTED or DENIED, sent as the Connections.Response Alexa sends)
// Output (JSON on stdout): { "exchanges": [ { "step": 0, "request": {...}, "response": {...},
//   "fallback": false } ] } ("fallback": the words matched no sample; see utteranceRequest).
// A step that fails ends the run with { "step": n, "error": "..." } as its last exchange, and the
// exit status is 1.
"use strict";

// virtual-alexa loads aws-sdk v2 (for its DynamoDB mock), which prints a notice on every start.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";

const fs = require("fs");
const { VirtualAlexa } = require("virtual-alexa");
const { Utterance } = require("virtual-core");

function readInput() {
  const source = process.argv[2] ? fs.readFileSync(process.argv[2], "utf8") : fs.readFileSync(0, "utf8");
  const input = JSON.parse(source);
  for (const key of ["skillUrl", "model", "steps"]) {
    if (input[key] === undefined) {
      throw new Error(`input has no "${key}"`);
    }
  }
  return input;
}

// Alexa sends AMAZON.TIME slot values as "HH:MM"; virtual-alexa passes the words through (and
// strips the colon: "10:30 pm" arrives as "1030 pm"). Normalise the plain clock forms people type,
// so the skill sees what Alexa would send; anything else is left as heard.
function alexaTime(words) {
  const text = String(words).trim().toLowerCase();
  if (text === "noon" || text === "midday") return "12:00";
  if (text === "midnight") return "00:00";
  const match = /^(\d{1,2})(?::?(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?$/.exec(text);
  if (!match) return words;
  let hours = parseInt(match[1], 10);
  const minutes = match[2] ? parseInt(match[2], 10) : 0;
  const half = match[3] ? match[3][0] : null;
  if (minutes > 59 || hours > 23 || (half && (hours < 1 || hours > 12))) return words;
  if (half === "p" && hours < 12) hours += 12;
  if (half === "a" && hours === 12) hours = 0;
  return `${String(hours).padStart(2, "0")}:${String(minutes).padStart(2, "0")}`;
}

function timeSlotNames(alexa, intentName) {
  const intent = alexa.context().interactionModel().intentSchema.intent(intentName);
  return (intent && intent.slots ? intent.slots : [])
    .filter((slot) => slot.type === "AMAZON.TIME")
    .map((slot) => slot.name);
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// A phrase that names the skill, the way people say it to Alexa from outside the skill:
// "open restless legs coach" → { launch: true }; "ask restless legs coach to start my stretches"
// or "open restless legs coach and …" → { utterance: "start my stretches" }; otherwise null.
// (utter() has a rougher version of this: it launches on any phrase containing "ask", "tell",
// "open" or "launch".)
function invocation(model, text) {
  const name = escapeRegExp(String(model.invocationName || "").toLowerCase());
  if (!name) return null;
  const words = text.trim().toLowerCase().replace(/^alexa,?\s+/, "");
  if (new RegExp(`^(?:open|launch|start|begin|talk to|load|use) ${name}$`).test(words)) {
    return { launch: true };
  }
  const oneShot =
    new RegExp(`^(?:ask|tell) ${name} (?:to |for |about |if |whether |that )?(.+)$`).exec(words) ||
    new RegExp(`^(?:open|launch|start|talk to) ${name} and (.+)$`).exec(words);
  return oneShot ? { utterance: oneShot[1] } : null;
}

function sessionIsOpen(alexa) {
  return alexa.context().activeSession() && !alexa.context().session().isNew();
}

// The request for an utterance, matched the way virtual-alexa's utter() matches it. utter() itself
// is not used: it treats any phrase containing "ask", "tell", "open" or "launch" anywhere (such as
// "tell me a tip") as a LaunchRequest. Launches are explicit steps here instead.
// Words that match no sample reach an open session as AMAZON.FallbackIntent, as Alexa sends them;
// with no session open, Alexa would not open the skill, so that is an error here.
function utteranceRequest(alexa, text) {
  const utterance = new Utterance(alexa.context().interactionModel(), text);
  if (!utterance.matched()) {
    if (sessionIsOpen(alexa)) {
      return { request: alexa.request().intent("AMAZON.FallbackIntent"), fallback: true };
    }
    throw new Error(`virtual-alexa could not match "${text}" to an intent in the model`);
  }
  const request = alexa.request().intent(utterance.intent()).slots(utterance.toJSON());
  for (const name of timeSlotNames(alexa, utterance.intent())) {
    const slot = request.json().request.intent.slots[name];
    if (slot && slot.value !== undefined) slot.value = alexaTime(slot.value);
  }
  return { request, fallback: false };
}

async function main() {
  const input = readInput();
  const builder = VirtualAlexa.Builder()
    .skillURL(input.skillUrl)
    .interactionModelFile(input.model)
    .locale(input.locale || "en-US");
  if (input.applicationId) builder.applicationID(input.applicationId);
  const alexa = builder.create();
  const modelJSON = JSON.parse(fs.readFileSync(input.model, "utf8"));
  const languageModel = modelJSON.interactionModel.languageModel;
  if (input.userId) alexa.context().user().setID(input.userId);
  alexa.context().device().setID(input.deviceId || "amzn1.ask.device.virtual-alexa");

  // The filter sees every envelope just before it is posted: it sets the step's timestamp (the
  // skill's "now"), drops the made-up API access token (there is no Alexa account behind it, so
  // the skill must not call the Alexa APIs with it) or puts the plan's Alexa API in its place,
  // and keeps a copy for the output.
  let stepTimestamp = null;
  let sent = null;
  const api = input.alexaApi || null;
  alexa.filter((envelope) => {
    if (stepTimestamp) envelope.request.timestamp = stepTimestamp;
    delete envelope.context.System.apiAccessToken;
    if (api) {
      envelope.context.System.apiEndpoint = api.endpoint;
      envelope.context.System.apiAccessToken = api.token;
      for (const user of [envelope.context.System.user, envelope.session && envelope.session.user]) {
        if (!user) continue;
        if (api.consentToken) user.permissions = { consentToken: api.consentToken };
        else delete user.permissions;
      }
    }
    sent = JSON.parse(JSON.stringify(envelope));
  });

  const exchanges = [];
  const asked = { directive: null }; // the last permission the skill asked Alexa to ask for
  for (const [index, step] of input.steps.entries()) {
    stepTimestamp = step.timestamp || null;
    if (step.userId) alexa.context().user().setID(step.userId);
    sent = null;
    try {
      const outcome = await runStep(alexa, languageModel, step, api, asked);
      const directives = (outcome.reply && outcome.reply.response && outcome.reply.response.directives) || [];
      for (const directive of directives) {
        if (directive.type === "Connections.SendRequest") asked.directive = directive;
      }
      if (outcome.skipped) {
        exchanges.push({ step: index, skipped: outcome.skipped });
      } else {
        const response = JSON.parse(JSON.stringify(outcome.reply));
        exchanges.push({ step: index, request: sent, response, fallback: outcome.fallback });
      }
    } catch (error) {
      const message = error && error.message ? error.message : String(error);
      exchanges.push({ step: index, request: sent, error: message });
      process.exitCode = 1;
      break;
    }
  }
  process.stdout.write(JSON.stringify({ exchanges }) + "\n");
}

// One step: { reply, fallback } for a request sent, or { skipped } when there was nothing to send.
async function runStep(alexa, languageModel, step, api, asked) {
  if (step.action === "permission") {
    const directive = asked.directive;
    if (!directive) throw new Error("the skill has not asked for a permission");
    if (step.text === "ACCEPTED" && api) api.consentToken = "consent-granted-by-voice";
    const scopes = (directive.payload && directive.payload.permissionScopes) || [{}];
    const payload = { status: step.text, permissionScope: scopes[0].permissionScope };
    const request = alexa.request().connectionsResponse(directive.name, payload, directive.token, "200");
    return { reply: await request.send(), fallback: false };
  }
  if (step.action === "launch") {
    return { reply: await launch(alexa), fallback: false };
  }
  if (step.action === "end_session") {
    if (!sessionIsOpen(alexa)) return { skipped: "no session is open" };
    return { reply: await alexa.endSession(), fallback: false };
  }
  if (step.action !== "say") {
    throw new Error(`unknown action "${step.action}"`);
  }
  let text = step.text;
  const named = invocation(languageModel, text);
  if (named && named.launch) {
    return { reply: await launch(alexa), fallback: false };
  }
  if (named) {
    // A one-shot request: Alexa closes any open session and starts a new one with it.
    if (sessionIsOpen(alexa)) await alexa.endSession();
    text = named.utterance;
  }
  const built = utteranceRequest(alexa, text);
  return { reply: await built.request.send(), fallback: built.fallback };
}

// "Alexa, open …" always starts a new session, closing one that is open.
async function launch(alexa) {
  if (sessionIsOpen(alexa)) await alexa.endSession();
  return alexa.launch();
}

main().catch((error) => {
  process.stderr.write(`drive.js: ${error && error.message ? error.message : error}\n`);
  process.exitCode = 2;
});
