//! The add-on handlers (`src/http/`) and the CLI (`src/cli/`) change data only through
//! the domain functions: neither opens a write transaction nor calls a function of
//! `src/store/` whose SQL writes.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// `module::function` for every store function whose body runs INSERT, UPDATE, DELETE or
/// REPLACE (a function's body is everything up to the next `pub async fn`).
fn writing_store_functions(src: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for file in sources(&src.join("store")) {
        let module = file.file_stem().unwrap().to_str().unwrap().to_string();
        let text = fs::read_to_string(&file).unwrap();
        for chunk in text.split("pub async fn ").skip(1) {
            let name: String = chunk
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let upper = chunk.to_uppercase();
            let writes = ["INSERT ", "UPDATE ", "DELETE ", "REPLACE "]
                .iter()
                .any(|verb| upper.contains(verb));
            if writes {
                out.insert(format!("{module}::{name}"));
            }
        }
    }
    out
}

#[test]
fn handlers_and_cli_write_only_through_the_domain() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let writing = writing_store_functions(&src);
    assert!(
        writing.contains("subscriptions::add") && writing.contains("users::insert"),
        "the scan finds the store's writing functions: {writing:?}"
    );
    let mut found = Vec::new();
    for dir in ["http", "cli"] {
        for file in sources(&src.join(dir)) {
            let text = fs::read_to_string(&file).unwrap();
            let shown = file.strip_prefix(&src).unwrap().display().to_string();
            if text.contains("begin_write") {
                found.push(format!("{shown}: opens a write transaction"));
            }
            for f in &writing {
                if text.contains(&format!("store::{f}(")) {
                    found.push(format!("{shown}: calls store::{f}"));
                }
            }
            // A store module imported by name would hide its calls from the check above.
            let modules: BTreeSet<&str> = writing
                .iter()
                .filter_map(|f| f.split("::").next())
                .collect();
            for line in text
                .lines()
                .filter(|l| l.trim_start().starts_with("use ") && l.contains("store::"))
            {
                let imported = line.split("store::").nth(1).unwrap_or_default();
                for m in &modules {
                    if [",", "}", ";"]
                        .iter()
                        .any(|end| imported.contains(&format!("{m}{end}")))
                    {
                        found.push(format!("{shown}: imports store::{m}"));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "writes outside the domain layer:\n{}",
        found.join("\n")
    );
}
