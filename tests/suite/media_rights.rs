//! Media references follow the deck's rights (issue 11, finding 3): only the owner or a
//! maintainer changes which file a name stands for; anyone else's upload is stored but
//! attached only when the suggestion carrying it is approved (docs/protocol.md §5).

use deckd_testkit as common;

use common::media::*;
use common::*;
use image::ImageFormat;
use serde_json::{json, Value};

const DECK: &str = "Rights Deck";

/// Alice's deck with note `OwnerNote1` showing `red1x1.png`, uploaded by her; Bob and Carol
/// are users without rights, Carol a plain subscriber.
struct Fixture {
    s: TestServer,
    alice: String,
    bob: String,
    carol: String,
    hash: String,
    uuid: String,
}

async fn fixture() -> Fixture {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let bob = s.user("bob").await;
    let carol = s.user("carol").await;
    let uuid = new_uuid();
    let deck = root_deck(
        DECK,
        &uuid,
        "",
        vec![note(
            "OwnerNote1",
            &["colour?", "<img src=\"red1x1.png\">"],
            &[],
        )],
        vec![],
    );
    let r = s.publish_raw(&alice, &deck).await;
    r.expect(200, "/createDeck");
    let v = r.json();
    let hash = v["message"].as_str().unwrap().to_string();
    let bulk = v["bulk_operation_id"].as_str().unwrap().to_string();
    s.upload_media(
        &alice,
        &hash,
        &[("red1x1.png", "OwnerNote1", red1x1_png())],
        &bulk,
    )
    .await;
    Fixture {
        s,
        alice,
        bob,
        carol,
        hash,
        uuid,
    }
}

/// A PNG whose MD5 sorts before (`smaller`) or after red1x1.png's, so "the smallest hash
/// wins" would pick it (or not).
fn png_sorting(smaller: bool) -> Vec<u8> {
    let red = md5_hex(&red1x1_png());
    (0u8..=255)
        .map(|seed| image_bytes(ImageFormat::Png, 3, 3, seed))
        .find(|b| (md5_hex(b) < red) == smaller)
        .expect("some seed sorts on each side")
}

impl Fixture {
    /// What a subscriber downloads for `names`.
    async fn subscriber_gets(&self, names: &[&str]) -> Vec<(String, Vec<u8>)> {
        self.s.download_media(&self.carol, &self.hash, names).await
    }

    async fn assert_original(&self, what: &str) {
        assert_eq!(
            self.subscriber_gets(&["red1x1.png"]).await,
            vec![("red1x1.png".into(), red1x1_png())],
            "{what}"
        );
    }

    /// Bob's suggestion for `OwnerNote1` (so his media has a suggestion to travel with).
    async fn bob_suggests(&self, back: &str) {
        let n = note("OwnerNote1", &["colour?", back], &[]);
        self.s
            .suggest(
                &self.bob,
                &self.hash,
                DECK,
                &self.uuid,
                vec![n],
                "better picture",
            )
            .await
            .expect(200, "suggest");
    }
}

fn names(check: &Value, list: &str) -> Vec<String> {
    check[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["hash"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn foreign_upload_under_an_existing_name_changes_nothing() {
    let f = fixture().await;
    let other = png_sorting(true);
    // Without a suggestion: the note is not Bob's to change, so nothing is promised.
    let check =
        f.s.upload_media(
            &f.bob,
            &f.hash,
            &[("red1x1.png", "OwnerNote1", other.clone())],
            "",
        )
        .await;
    assert_eq!(
        names(&check, "failed_files"),
        vec![md5_hex(&other)],
        "{check}"
    );
    assert_eq!(check["batch_id"], Value::Null, "{check}");
    f.assert_original("an upload outside any suggestion").await;

    // With a pending suggestion: stored, but subscribers keep getting the owner's file.
    f.bob_suggests("<img src=\"red1x1.png\"> now better").await;
    let check =
        f.s.upload_media(
            &f.bob,
            &f.hash,
            &[("red1x1.png", "OwnerNote1", other.clone())],
            "",
        )
        .await;
    assert_eq!(
        names(&check, "missing_files"),
        vec![md5_hex(&other)],
        "the suggestion's upload is taken: {check}"
    );
    assert_eq!(stored_file_count(&f.s), 2, "the upload is stored");
    f.assert_original("an upload of an unapproved suggestion")
        .await;

    // Denied: it never reaches anyone.
    f.s.deny(commit_id(&f.s.only_pending(&f.hash).await), Some("no"))
        .await;
    f.assert_original("an upload of a denied suggestion").await;
}

#[tokio::test]
async fn foreign_user_cannot_rename_the_owners_reference() {
    let f = fixture().await;
    let red = red1x1_png();
    let check =
        f.s.media_check(
            &f.bob,
            &f.hash,
            vec![listing("renamed.png", "OwnerNote1", &red)],
            "",
        )
        .await;
    check.expect(200, "check");
    assert_eq!(
        names(&check.json(), "existing_files"),
        Vec::<String>::new(),
        "{}",
        check.text
    );
    f.bob_suggests("<img src=\"renamed.png\">").await;
    f.s.media_check(
        &f.bob,
        &f.hash,
        vec![listing("renamed.png", "OwnerNote1", &red)],
        "",
    )
    .await
    .expect(200, "check");
    f.assert_original("after a foreign rename").await;
    assert_eq!(
        f.subscriber_gets(&["renamed.png"]).await,
        vec![],
        "the new name is not served before approval"
    );
}

#[tokio::test]
async fn check_bulk_on_someone_elses_deck_refuses_notes_outside_a_suggestion() {
    let f = fixture().await;
    let png = image_bytes(ImageFormat::Png, 5, 5, 42);
    let r =
        f.s.media_check(
            &f.bob,
            &f.hash,
            vec![listing("new.png", "OwnerNote1", &png)],
            "",
        )
        .await;
    r.expect(200, "the add-on expects 200 with failed_files");
    let v = r.json();
    assert_eq!(names(&v, "failed_files"), vec![md5_hex(&png)], "{v}");
    assert_eq!(v["missing_files"], json!([]));
    assert_eq!(v["batch_id"], Value::Null);
    // The owner's own check for the same note is accepted.
    let v =
        f.s.media_check(
            &f.alice,
            &f.hash,
            vec![listing("new.png", "OwnerNote1", &png)],
            "",
        )
        .await
        .json();
    assert_eq!(names(&v, "missing_files"), vec![md5_hex(&png)], "{v}");
}

#[tokio::test]
async fn approved_suggestion_brings_its_media_to_subscribers() {
    let f = fixture().await;
    let fresh = image_bytes(ImageFormat::Png, 7, 7, 77);
    let other = png_sorting(true);
    f.bob_suggests("<img src=\"red1x1.png\"><img src=\"fresh.png\">")
        .await;
    let files = [
        ("fresh.png", "OwnerNote1", fresh.clone()),
        ("red1x1.png", "OwnerNote1", other.clone()),
    ];
    f.s.upload_media(&f.bob, &f.hash, &files, "").await;
    assert_eq!(
        f.subscriber_gets(&["fresh.png"]).await,
        vec![],
        "not before approval"
    );
    f.assert_original("before approval").await;

    f.s.approve(commit_id(&f.s.only_pending(&f.hash).await))
        .await;
    assert_eq!(
        f.subscriber_gets(&["fresh.png"]).await,
        vec![("fresh.png".into(), fresh)]
    );
    assert_eq!(
        f.subscriber_gets(&["red1x1.png"]).await,
        vec![("red1x1.png".into(), other)],
        "the approved replacement is what the maintainer chose"
    );
}

#[tokio::test]
async fn maintainers_change_takes_effect_at_once() {
    let f = fixture().await;
    let dave = f.s.user("dave").await;
    f.s.cli(&["deck", "maintainer", "add", &f.hash, "dave"])
        .await
        .assert_ok();
    // A larger hash: "the smallest hash wins" would keep the old file.
    let newer = png_sorting(false);
    let check =
        f.s.upload_media(
            &dave,
            &f.hash,
            &[("red1x1.png", "OwnerNote1", newer.clone())],
            "",
        )
        .await;
    assert_eq!(
        names(&check, "missing_files"),
        vec![md5_hex(&newer)],
        "{check}"
    );
    assert_eq!(
        f.subscriber_gets(&["red1x1.png"]).await,
        vec![("red1x1.png".into(), newer.clone())]
    );

    // And a later foreign upload under that name still changes nothing.
    f.bob_suggests("<img src=\"red1x1.png\"> again").await;
    f.s.upload_media(
        &f.bob,
        &f.hash,
        &[("red1x1.png", "OwnerNote1", png_sorting(true))],
        "",
    )
    .await;
    assert_eq!(
        f.subscriber_gets(&["red1x1.png"]).await,
        vec![("red1x1.png".into(), newer)]
    );
}
