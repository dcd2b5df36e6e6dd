//! `deckd review …`

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use deckd::domain::{review, Actor};
use deckd::store::{self, commits::Commit, CommitId, Db};
use deckd::wire::timestamp;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Pending commits, oldest first, one per line (id first).
    List {
        /// Only commits of this deck (root hash).
        #[arg(long)]
        deck: Option<String>,
        /// Print a JSON array instead.
        #[arg(long)]
        json: bool,
    },
    /// Show what a commit changes.
    Show { commit: CommitId },
    /// Apply a pending commit and notify its author.
    Approve { commit: CommitId },
    /// Reject a pending commit and notify its author.
    Deny {
        commit: CommitId,
        /// Told to the author.
        #[arg(long)]
        reason: Option<String>,
    },
}

fn as_json(c: &Commit) -> serde_json::Value {
    json!({
        "id": c.id,
        "deck": c.deck,
        "deck_name": c.deck_name,
        "author": c.author,
        "rationale": c.rationale.code(),
        "rationale_text": c.rationale.label(),
        "info": c.info,
        "status": c.status,
        "created_at": timestamp::rfc3339(c.created_at),
    })
}

pub async fn run(db: &Db, cmd: ReviewCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ReviewCommand::List { deck, json } => {
            let pending =
                store::commits::pending(&mut *db.reader().acquire().await?, deck.as_deref())
                    .await?;
            if json {
                let list: Vec<_> = pending.iter().map(as_json).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for c in &pending {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        c.id,
                        c.deck,
                        c.author.as_deref().unwrap_or("-"),
                        c.rationale.label(),
                        timestamp::rfc3339(c.created_at),
                        c.info.replace('\n', " ")
                    );
                }
            }
        }
        ReviewCommand::Show { commit } => show(db, commit).await?,
        ReviewCommand::Approve { commit } => {
            let out = review::approve(db, Actor::Admin, commit).await?;
            println!(
                "approved commit {commit} ({} notes changed)",
                out.notes_changed
            );
        }
        ReviewCommand::Deny { commit, reason } => {
            review::deny(db, Actor::Admin, commit, reason.as_deref()).await?;
            println!("denied commit {commit}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(db: &Db, id: CommitId) -> anyhow::Result<()> {
    let mut conn = db.reader().acquire().await?;
    let c = store::commits::get(&mut conn, id)
        .await?
        .with_context(|| format!("no commit {id}"))?;
    println!(
        "commit {} on {} ({}) by {}",
        c.id,
        c.deck_name,
        c.deck,
        c.author.as_deref().unwrap_or("-")
    );
    println!(
        "status: {}   reason: {} ({})   at {}",
        c.status.as_str(),
        c.rationale.label(),
        c.rationale.code(),
        timestamp::rfc3339(c.created_at)
    );
    if !c.info.is_empty() {
        println!("message: {}", c.info);
    }
    let notetypes = deckd::domain::queue::suggestion(db, Actor::Admin, id, 0)
        .await?
        .notetypes;
    for nt in notetypes {
        let mut parts = Vec::new();
        if let Some(after) = &nt.fields_after {
            parts.push(format!(
                "fields {} -> {}",
                nt.fields_before.join(" | "),
                after.join(" | ")
            ));
        }
        for t in &nt.templates {
            parts.push(format!("card template {} changes", t.name));
        }
        if nt.css.is_some() {
            parts.push("styling changes".to_string());
        }
        println!("* notetype {}: {}", nt.notetype, parts.join("; "));
    }
    let p = store::commits::pending_rows(&mut conn, id).await?;
    for note in &p.new_notes {
        println!("+ new note {note}");
    }
    for f in &p.fields {
        let name = store::commits::field_name(&mut conn, f.note, f.position)
            .await?
            .unwrap_or_else(|| format!("#{}", f.position));
        let old = store::notes::reviewed_fields(&mut conn, f.note)
            .await?
            .into_iter()
            .find(|(p, _)| *p == f.position)
            .map(|x| x.1);
        println!(
            "~ note {} field {name}:\n    - {}\n    + {}",
            f.note,
            old.as_deref().unwrap_or(""),
            f.content
        );
    }
    for t in &p.tags {
        println!(
            "{} note {} tag {}",
            if t.action { "+" } else { "-" },
            t.note,
            t.content
        );
    }
    for (note, target) in &p.moves {
        println!("> note {note} moves to deck {target}");
    }
    for note in &p.removals {
        println!("x note {note} removed");
    }
    Ok(())
}
