//! The add-on's encodings: GZB64 bodies (through `deckd::wire::gzb64`), its JSON
//! serialisations (`ensure_ascii`, the pretty-printed deck string) and the deck hash (§3).

use std::io::Read;

use deckd::wire::gzb64;
use serde_json::Value;

/// GZB64 of the compact JSON serialisation of `v`.
pub fn gzb64_encode(v: &Value) -> String {
    gzb64::encode_bytes(serde_json::to_string(v).unwrap().as_bytes())
}

/// Decodes a GZB64 string (whitespace tolerated) into JSON. Panics with
/// a readable message when the input is not GZB64 JSON.
pub fn gzb64_decode(s: &str) -> Value {
    let mut out = Vec::new();
    if let Err(e) = gzb64::decoder(s.trim().as_bytes(), u64::MAX).read_to_end(&mut out) {
        panic!(
            "response is not GZB64 ({:?}): {}",
            gzb64::classify(&e),
            preview(s)
        );
    }
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "gzip payload is not JSON ({e}): {}",
            preview(&String::from_utf8_lossy(&out))
        )
    })
}

/// Escapes every non-ASCII character as `\uXXXX` (UTF-16 units), like Python's
/// `json.dumps(..., ensure_ascii=True)`. Only valid for serialised JSON text.
pub fn ascii_escape(json_text: &str) -> String {
    let mut out = String::with_capacity(json_text.len());
    for c in json_text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{:04x}", unit));
            }
        }
    }
    out
}

/// The deck string the plugin builds: `json.dumps(deck, sort_keys=True, indent=4, ensure_ascii=False)`.
pub fn plugin_deck_string(deck: &Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(deck, &mut ser).unwrap();
    String::from_utf8(buf).unwrap()
}

/// GZB64 of an envelope serialised the way the plugin does (ensure_ascii=True).
pub fn gzb64_encode_plugin(envelope: &Value) -> String {
    let text = ascii_escape(&serde_json::to_string(envelope).unwrap());
    gzb64::encode_bytes(text.as_bytes())
}

/// The first 300 characters of `s`, for panic messages.
pub(crate) fn preview(s: &str) -> String {
    let mut p: String = s.chars().take(300).collect();
    if s.chars().count() > 300 {
        p.push('…');
    }
    p
}

/// Lower-case hex SHA-256 of `s`.
pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

/// The humanhash word list (256 words) the deck hash is spelt with.
const WORDS: &str = "ack alabama alanine alaska alpha angel apart april arizona arkansas artist asparagus aspen august autumn avocado \
bacon bakerloo batman beer berlin beryllium black blossom blue bluebird bravo bulldog burger butter california carbon \
cardinal carolina carpet cat ceiling charlie chicken coffee cola cold colorado comet connecticut crazy cup dakota \
december delaware delta diet uwu double early earth east echo edward eight eighteen eleven emma enemy \
equal failed fanta fifteen fillet finch fish five fix floor florida football four fourteen foxtrot freddie \
friend fruit gee georgia glucose golf green grey hamper happy harry hawaii helium high hot hotel \
hydrogen idaho illinois india indigo ink iowa island item jersey jig johnny juliet july jupiter kansas \
kentucky kilo king kitten lactose lake lamp lemon leopard lima lion lithium london louisiana low magazine \
magnesium maine mango march mars maryland massachusetts may mexico michigan mike minnesota mirror mississippi missouri mobile \
mockingbird monkey montana moon mountain muppet music nebraska neptune network nevada nine nineteen nitrogen north november \
nuts october ohio oklahoma one orange oranges oregon oscar oven oxygen papa paris pasta pennsylvania pip \
pizza pluto potato princess purple quebec queen quiet red river robert robin romeo rugby sad salami \
saturn september seven seventeen shade sierra single sink six sixteen skylark snake social sodium solar south \
spaghetti speaker spring stairway steak stream summer sweet table tango ten tennessee tennis texas thirteen three \
timing triple twelve twenty two uncle undress uniform uranus utah vegan venus vermont victor video violet \
virginia washington west whiskey white william winner winter wisconsin wolfram wyoming xray yankee yellow zebra zulu";

/// The deck hash (§3): humanhash with N = 5 (6 words) of a hyphenated UUID.
pub fn humanhash(uuid_str: &str) -> String {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    assert_eq!(words.len(), 256);
    let bytes = *uuid::Uuid::parse_str(uuid_str).unwrap().as_bytes();
    bytes
        .chunks(16 / 5)
        .map(|c| words[c.iter().fold(0u8, |a, b| a ^ b) as usize])
        .collect::<Vec<_>>()
        .join("-")
}
