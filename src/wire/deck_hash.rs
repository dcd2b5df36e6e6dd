//! Deck hashes: the "humanhash" words of a deck's CrowdAnki UUID (docs/protocol.md §3).

/// The humanhash word list with word 52 `don` replaced by `uwu`, as the add-on's server uses.
const WORDS: [&str; 256] = [
    "ack",
    "alabama",
    "alanine",
    "alaska",
    "alpha",
    "angel",
    "apart",
    "april",
    "arizona",
    "arkansas",
    "artist",
    "asparagus",
    "aspen",
    "august",
    "autumn",
    "avocado",
    "bacon",
    "bakerloo",
    "batman",
    "beer",
    "berlin",
    "beryllium",
    "black",
    "blossom",
    "blue",
    "bluebird",
    "bravo",
    "bulldog",
    "burger",
    "butter",
    "california",
    "carbon",
    "cardinal",
    "carolina",
    "carpet",
    "cat",
    "ceiling",
    "charlie",
    "chicken",
    "coffee",
    "cola",
    "cold",
    "colorado",
    "comet",
    "connecticut",
    "crazy",
    "cup",
    "dakota",
    "december",
    "delaware",
    "delta",
    "diet",
    "uwu",
    "double",
    "early",
    "earth",
    "east",
    "echo",
    "edward",
    "eight",
    "eighteen",
    "eleven",
    "emma",
    "enemy",
    "equal",
    "failed",
    "fanta",
    "fifteen",
    "fillet",
    "finch",
    "fish",
    "five",
    "fix",
    "floor",
    "florida",
    "football",
    "four",
    "fourteen",
    "foxtrot",
    "freddie",
    "friend",
    "fruit",
    "gee",
    "georgia",
    "glucose",
    "golf",
    "green",
    "grey",
    "hamper",
    "happy",
    "harry",
    "hawaii",
    "helium",
    "high",
    "hot",
    "hotel",
    "hydrogen",
    "idaho",
    "illinois",
    "india",
    "indigo",
    "ink",
    "iowa",
    "island",
    "item",
    "jersey",
    "jig",
    "johnny",
    "juliet",
    "july",
    "jupiter",
    "kansas",
    "kentucky",
    "kilo",
    "king",
    "kitten",
    "lactose",
    "lake",
    "lamp",
    "lemon",
    "leopard",
    "lima",
    "lion",
    "lithium",
    "london",
    "louisiana",
    "low",
    "magazine",
    "magnesium",
    "maine",
    "mango",
    "march",
    "mars",
    "maryland",
    "massachusetts",
    "may",
    "mexico",
    "michigan",
    "mike",
    "minnesota",
    "mirror",
    "mississippi",
    "missouri",
    "mobile",
    "mockingbird",
    "monkey",
    "montana",
    "moon",
    "mountain",
    "muppet",
    "music",
    "nebraska",
    "neptune",
    "network",
    "nevada",
    "nine",
    "nineteen",
    "nitrogen",
    "north",
    "november",
    "nuts",
    "october",
    "ohio",
    "oklahoma",
    "one",
    "orange",
    "oranges",
    "oregon",
    "oscar",
    "oven",
    "oxygen",
    "papa",
    "paris",
    "pasta",
    "pennsylvania",
    "pip",
    "pizza",
    "pluto",
    "potato",
    "princess",
    "purple",
    "quebec",
    "queen",
    "quiet",
    "red",
    "river",
    "robert",
    "robin",
    "romeo",
    "rugby",
    "sad",
    "salami",
    "saturn",
    "september",
    "seven",
    "seventeen",
    "shade",
    "sierra",
    "single",
    "sink",
    "six",
    "sixteen",
    "skylark",
    "snake",
    "social",
    "sodium",
    "solar",
    "south",
    "spaghetti",
    "speaker",
    "spring",
    "stairway",
    "steak",
    "stream",
    "summer",
    "sweet",
    "table",
    "tango",
    "ten",
    "tennessee",
    "tennis",
    "texas",
    "thirteen",
    "three",
    "timing",
    "triple",
    "twelve",
    "twenty",
    "two",
    "uncle",
    "undress",
    "uniform",
    "uranus",
    "utah",
    "vegan",
    "venus",
    "vermont",
    "victor",
    "video",
    "violet",
    "virginia",
    "washington",
    "west",
    "whiskey",
    "white",
    "william",
    "winner",
    "winter",
    "wisconsin",
    "wolfram",
    "wyoming",
    "xray",
    "yankee",
    "yellow",
    "zebra",
    "zulu",
];

/// The word count parameter that yields the six-word deck hashes the add-on shows.
const DEFAULT_WORDS: usize = 5;

/// Humanhash of arbitrary bytes: chunks of `len / n` bytes, each XOR-folded into one word.
pub fn humanize(bytes: &[u8], n: usize) -> String {
    let chunk = (bytes.len() / n).max(1);
    bytes
        .chunks(chunk)
        .map(|c| WORDS[c.iter().fold(0u8, |acc, b| acc ^ b) as usize])
        .collect::<Vec<_>>()
        .join("-")
}

/// Parses a hyphenated (or bare) UUID into its 16 bytes.
pub fn uuid_bytes(uuid: &str) -> Option<[u8; 16]> {
    let hex: String = uuid.chars().filter(|c| *c != '-').collect();
    let mut out = [0u8; 16];
    hex::decode_to_slice(hex.as_bytes(), &mut out).ok()?;
    Some(out)
}

/// The hash a deck gets from its CrowdAnki UUID, or from a fresh random UUID if it has none usable.
pub fn for_uuid(uuid: &str) -> String {
    let bytes = uuid_bytes(uuid).unwrap_or_else(|| *uuid::Uuid::new_v4().as_bytes());
    humanize(&bytes, DEFAULT_WORDS)
}

/// A fresh random hash, used when the UUID-derived one is already taken.
pub fn random() -> String {
    humanize(uuid::Uuid::new_v4().as_bytes(), DEFAULT_WORDS)
}

/// The add-on's validation: 3, 5 or 6 non-empty ASCII-alphabetic words joined by `-`.
pub fn is_valid(hash: &str) -> bool {
    let parts: Vec<&str> = hash.split('-').collect();
    matches!(parts.len(), 3 | 5 | 6)
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vectors() {
        let b = uuid_bytes("bc0f47f9-3dd0-4657-8d7e-ee645999b95e").unwrap();
        assert_eq!(humanize(&b, 1), "pip");
        assert_eq!(humanize(&b, 2), "washington-hot");
        assert_eq!(humanize(&b, 4), "august-yankee-lima-coffee");
        assert_eq!(humanize(&b, 5), "white-berlin-nineteen-white-lima-hot");
        assert_eq!(
            humanize(&b, 8),
            "princess-sad-victor-bakerloo-whiskey-mike-saturn-uniform"
        );
        assert_eq!(
            for_uuid("6f1d2c8e-3b4a-11ef-9a7c-0242ac120002"),
            "hot-zulu-indigo-eighteen-sad-alanine"
        );
    }

    #[test]
    fn validation() {
        assert!(is_valid("hot-zulu-indigo-eighteen-sad-alanine"));
        assert!(is_valid("Alpha-Beta-Gamma"));
        assert!(!is_valid("not-a-hash-123"));
        assert!(!is_valid("a--b"));
        assert!(!is_valid("one-two"));
        assert!(!is_valid("../etc/passwd-a-b"));
    }
}
