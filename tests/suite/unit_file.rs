//! `dist/systemd/deckd.service` is rendered from `dist/systemd/service-settings.toml`,
//! the one data file the NixOS module also reads. This test renders the unit again and
//! demands the committed file be identical byte for byte, so the two cannot drift.
//!
//! After changing the TOML: `DECKD_BLESS=1 cargo test --test suite unit_file::` rewrites the unit.

use std::fmt;
use std::path::PathBuf;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// A TOML table whose keys keep their order in the document (the unit should read
/// like the data file, not be sorted alphabetically).
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    entries.push((k, v));
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_map(V2(std::marker::PhantomData))
    }
}

/// The value types the data file may use (see its header).
#[derive(Deserialize)]
#[serde(untagged)]
enum Setting {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<String>),
}

/// Lines only a Debian/Raspberry Pi OS host adds (the NixOS module adds its own).
/// The config file is named with `--config`, not `DECKD_CONFIG`: the VM suite showed
/// that `DECKD_CONFIG` reaches the settings layer as an unknown key `CONFIG` (the
/// filter in src/config.rs compares the upper-case name with "config") and deckd
/// refuses to start.
const HOST_SERVICE_LINES: &[&str] = &[
    "ExecStart=/usr/bin/deckd --config /etc/deckd/deckd.toml serve",
    "Environment=DECKD_DATA_DIR=/var/lib/deckd",
];
const HOST_INSTALL_LINES: &[&str] = &["WantedBy=multi-user.target"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn render(toml_text: &str) -> String {
    let doc: Ordered<Ordered<Setting>> =
        toml::from_str(toml_text).expect("service-settings.toml parses");
    let mut out = String::new();
    out.push_str(
        "# Generated from dist/systemd/service-settings.toml by tests/suite/unit_file.rs; do not edit.\n",
    );
    out.push_str("# Regenerate with: DECKD_BLESS=1 cargo test --test suite unit_file::\n");
    out.push_str("# Override limits with a drop-in: systemctl edit deckd\n");
    let mut seen_service = false;
    for (section, settings) in &doc.0 {
        assert!(
            section == "Unit" || section == "Service",
            "unexpected table [{section}] in service-settings.toml (only [Unit] and [Service])"
        );
        out.push_str(&format!("\n[{section}]\n"));
        if section == "Service" {
            seen_service = true;
            for line in HOST_SERVICE_LINES {
                out.push_str(line);
                out.push('\n');
            }
        }
        for (key, value) in &settings.0 {
            match value {
                Setting::Bool(b) => out.push_str(&format!("{key}={b}\n")),
                Setting::Int(i) => out.push_str(&format!("{key}={i}\n")),
                Setting::Str(s) => {
                    assert!(
                        !s.contains('\n'),
                        "{key}: newlines are not allowed in unit values"
                    );
                    out.push_str(&format!("{key}={s}\n"));
                }
                Setting::List(items) => {
                    for item in items {
                        out.push_str(&format!("{key}={item}\n"));
                    }
                }
            }
        }
    }
    assert!(seen_service, "service-settings.toml has no [Service] table");
    out.push_str("\n[Install]\n");
    for line in HOST_INSTALL_LINES {
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn rendered_unit_matches_committed_file() {
    let settings =
        std::fs::read_to_string(root().join("dist/systemd/service-settings.toml")).unwrap();
    let rendered = render(&settings);
    let unit_path = root().join("dist/systemd/deckd.service");
    if std::env::var_os("DECKD_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&unit_path, &rendered).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&unit_path).unwrap_or_default();
    if committed != rendered {
        panic!(
            "dist/systemd/deckd.service is out of date with service-settings.toml; \
             run `DECKD_BLESS=1 cargo test --test suite unit_file::` and commit the result.\n--- rendered ---\n{rendered}"
        );
    }
}

#[test]
fn renderer_keeps_document_order_and_expands_lists() {
    let unit = render(
        "[Unit]\nZ = \"last-alpha-first\"\nA = [\"x\", \"y\"]\n[Service]\nTasksMax = 50\nPrivateTmp = true\nCapabilityBoundingSet = \"\"\n",
    );
    let body: Vec<&str> = unit
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(
        body,
        [
            "[Unit]",
            "Z=last-alpha-first",
            "A=x",
            "A=y",
            "[Service]",
            "ExecStart=/usr/bin/deckd --config /etc/deckd/deckd.toml serve",
            "Environment=DECKD_DATA_DIR=/var/lib/deckd",
            "TasksMax=50",
            "PrivateTmp=true",
            "CapabilityBoundingSet=",
            "[Install]",
            "WantedBy=multi-user.target",
        ]
    );
}

/// The settings the issue and DESIGN §5 require are present (a guard against a
/// well-meant edit of the data file that drops one).
#[test]
fn required_settings_present() {
    let settings =
        std::fs::read_to_string(root().join("dist/systemd/service-settings.toml")).unwrap();
    let unit = render(&settings);
    for line in [
        "Type=notify",
        "NotifyAccess=main",
        "Restart=on-failure",
        "User=deckd",
        "StateDirectory=deckd",
        "UMask=0027",
        "MemoryMax=256M",
        "CPUQuota=150%",
        "TasksMax=50",
        "ProtectSystem=strict",
        "PrivateTmp=true",
        "NoNewPrivileges=true",
        "SystemCallFilter=@system-service",
    ] {
        assert!(unit.lines().any(|l| l == line), "unit lacks `{line}`");
    }
    assert!(
        unit.lines().any(|l| l.starts_with("WatchdogSec=")),
        "unit lacks WatchdogSec"
    );
}
