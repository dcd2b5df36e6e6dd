// The AnkiCollab add-on's side of the wire, as the Rust tests speak it
// (tests/support/src/wire.rs and fixtures.rs; docs/protocol.md; PROTOCOL.md §9):
// GZB64 bodies, the CrowdAnki deck string, and the few routes the browser test needs.

import assert from 'node:assert/strict';
import { gzipSync, gunzipSync } from 'node:zlib';

/** Root uuid, name and notetype of the §9.3 tiny deck. */
export const DEMO_UUID = '6f1d2c8e-3b4a-11ef-9a7c-0242ac120002';
export const DEMO_NAME = 'Demo Deck';
export const BASIC_MODEL_UUID = '0b7e3f4a-9c1d-11ee-8c90-0242ac120002';
/** The timestamp a new subscription sends on its first pull (§2.3). */
export const FIRST_PULL_TS = '2022-12-31 23:59:59';
const PERSONAL_TAGS = ['leech', 'marked', 'missing-media'];

/**
 * PROTOCOL.md §9.3, the deck alice publishes. (The 19-digit field and template ids are
 * beyond a JS number's exact range and travel rounded; publish and suggestion agree.)
 */
export function tinyDeck() {
  return {
    __type__: 'Deck', _field_mappings: {}, children: [], crowdanki_uuid: DEMO_UUID,
    deck_configurations: [{ __type__: 'DeckConfig', crowdanki_uuid: 'c5d1e2f3-3b4a-11ef-9a7c-0242ac120002', id: 1, name: 'Default', new: { perDay: 20 }, rev: { perDay: 200 } }],
    desc: 'Tiny demo deck', dyn: 0, extendNew: 0, extendRev: 0, id: 1718899999000, keep_empty_subdecks: false, name: DEMO_NAME,
    note_models: [{
      __type__: 'NoteModel', crowdanki_uuid: BASIC_MODEL_UUID,
      css: '.card { font-family: arial; font-size: 20px; text-align: center; }',
      flds: [
        { collapsed: false, description: '', excludeFromSearch: false, font: 'Arial', id: -5032847290344123456, name: 'Front', ord: 0, plainText: false, preventDeletion: false, rtl: false, size: 20, sticky: false, tag: null },
        { collapsed: false, description: '', excludeFromSearch: false, font: 'Arial', id: 4470161023957123456, name: 'Back', ord: 1, plainText: false, preventDeletion: false, rtl: false, size: 20, sticky: false, tag: null },
      ],
      id: 1718899990000, latexPost: '\\end{document}', latexPre: '\\documentclass[12pt]{article}\n\\begin{document}\n', latexsvg: false,
      name: 'Basic (demo)', originalStockKind: 1, req: [[0, 'any', [0]]], sortf: 0, tags: [],
      tmpls: [{ afmt: '{{FrontSide}}<hr id=answer>{{Back}}', bafmt: '', bfont: '', bqfmt: '', bsize: 0, did: null, id: -2961478839101123456, name: 'Card 1', ord: 0, qfmt: '{{Front}}' }],
      type: 0, vers: [],
    }],
    notes: [
      { __type__: 'Note', fields: ['What is the capital of France?', 'Paris'], guid: 'AbCdEf1234', id: 1718900000001, note_model_uuid: BASIC_MODEL_UUID, tags: ['geo'] },
      { __type__: 'Note', fields: ['Which colour is this?', '<img src="red1x1.png">'], guid: 'XyZ9876543', id: 1718900000002, note_model_uuid: BASIC_MODEL_UUID, tags: ['colours', 'geo'] },
    ],
    root_deck_id: null,
  };
}

/** A CrowdAnki note of the Basic (demo) notetype (fixtures.rs `note`). */
export function note(guid, fields, tags, id) {
  return { __type__: 'Note', fields, guid, id, note_model_uuid: BASIC_MODEL_UUID, tags };
}

/** A root deck node shaped like §9.3 holding `notes` (fixtures.rs `root_deck`). */
export function rootDeck(name, uuid, desc, notes) {
  return { ...tinyDeck(), name, crowdanki_uuid: uuid, desc, notes, children: [] };
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  }
  return v;
}

/** `json.dumps(deck, sort_keys=True, indent=4, ensure_ascii=False)`, as the add-on builds it. */
export function pluginDeckString(deck) {
  return JSON.stringify(sortKeys(deck), null, 4);
}

/** Escapes every non-ASCII UTF-16 unit as \uXXXX, like Python's ensure_ascii=True. */
function asciiEscape(jsonText) {
  return jsonText.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** GZB64 of an envelope serialised the way the add-on does (wire.rs `gzb64_encode_plugin`). */
export function gzb64EncodePlugin(envelope) {
  return gzipSync(Buffer.from(asciiEscape(JSON.stringify(envelope)), 'utf8')).toString('base64');
}

/** Decodes a GZB64 answer into JSON. */
export function gzb64Decode(text) {
  return JSON.parse(gunzipSync(Buffer.from(text.trim(), 'base64')).toString('utf8'));
}

/** The decoded /submitCard body (§1.3; fixtures.rs `submit_body`). */
export function submitBody({ remoteDeck, deckPath, newName, deck, rationale, commitText, forceOverwrite }) {
  return {
    remote_deck: remoteDeck,
    deck_path: deckPath,
    new_name: newName,
    deck: pluginDeckString(deck),
    rationale,
    commit_text: commitText,
    force_overwrite: forceOverwrite,
  };
}

/** Every note of a server-form deck tree (inspect.rs `all_notes`). */
export function allNotes(deck) {
  return [...(deck.notes ?? []), ...(deck.children ?? []).flatMap(allNotes)];
}

/** The add-on's HTTP client for one server. */
export class Addon {
  constructor(base) {
    this.base = base;
  }

  async request(method, path, { token, json, text } = {}) {
    const headers = {};
    let body;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (text !== undefined) {
      headers['Content-Type'] = 'text/plain';
      body = text;
    }
    const r = await fetch(`${this.base}${path}`, { method, headers, body, signal: AbortSignal.timeout(30_000) });
    return { status: r.status, text: await r.text() };
  }

  static expect(r, status, what) {
    assert.equal(r.status, status, `${what} answered ${r.status}: ${r.text.slice(0, 300)}`);
  }

  /** POST /login; answers the access token. */
  async login(username, password) {
    const r = await this.request('POST', '/login', { json: { username, password } });
    Addon.expect(r, 200, `/login as ${username}`);
    const v = JSON.parse(r.text);
    assert.match(v.token ?? '', /^\S{16,}$/, `/login answered no token: ${r.text}`);
    assert.ok(v.refresh_token, `/login answered no refresh_token: ${r.text}`);
    return v.token;
  }

  /** POST /createDeck; answers the deck hash. */
  async publish(token, deck) {
    const r = await this.request('POST', '/createDeck', {
      token,
      text: gzb64EncodePlugin({ deck: pluginDeckString(deck) }),
    });
    Addon.expect(r, 200, '/createDeck');
    const v = JSON.parse(r.text);
    assert.equal(v.status, 1, `/createDeck answered ${r.text}`);
    assert.match(v.message, /^[a-z]+(-[a-z]+){5}$/, `/createDeck answered no deck hash: ${r.text}`);
    return v.message;
  }

  /** POST /submitCard with a decoded body (see submitBody). */
  async submit(token, body) {
    const r = await this.request('POST', '/submitCard', { token, text: gzb64EncodePlugin(body) });
    Addon.expect(r, 200, '/submitCard');
    assert.equal(r.text, 'Success');
  }

  /** POST /AddSubscription, as the add-on sends it when a deck is subscribed to. */
  async subscribe(token, hash) {
    const r = await this.request('POST', '/AddSubscription', { token, json: { deck_hash: hash } });
    Addon.expect(r, 200, '/AddSubscription');
  }

  /** POST /UploadDeckStats (GZB64): `history` is {<local deck name>: {<guid>: {retention, lapses, reps}}}. */
  async uploadStats(token, hash, history) {
    const r = await this.request('POST', '/UploadDeckStats', {
      token,
      text: gzb64EncodePlugin({ deck_hash: hash, review_history: history }),
    });
    Addon.expect(r, 200, '/UploadDeckStats');
    assert.equal(r.text, 'Thanks for sharing!');
  }

  /** POST /pullChanges for one deck from `ts`, without a token, as the add-on sends it. */
  async pull(hash, ts) {
    const r = await this.request('POST', '/pullChanges', {
      json: { [hash]: { timestamp: ts, deckId: 0, optional_tags: {}, personal_tags: PERSONAL_TAGS } },
    });
    Addon.expect(r, 200, '/pullChanges');
    const v = gzb64Decode(r.text);
    assert.ok(Array.isArray(v), `/pullChanges must answer an array, got ${JSON.stringify(v)}`);
    return v;
  }
}
