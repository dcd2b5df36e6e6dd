//! A streaming response body fed by a task: what the task sends goes to the client as
//! it is written, and an error it returns ends the body (the client sees a cut answer,
//! never a short one that decodes).

use std::future::Future;
use std::io;

use axum::body::Body;
use bytes::Bytes;
use tokio::sync::mpsc;

/// Where a pull writes its answer.
pub type Sender = mpsc::Sender<io::Result<Bytes>>;

/// Runs `write` on its own task with the sending side of a small channel and answers
/// the body reading from it.
pub fn streamed<F, Fut>(write: F) -> Body
where
    F: FnOnce(Sender) -> Fut,
    Fut: Future<Output = io::Result<()>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(4);
    let task = write(tx.clone());
    tokio::spawn(async move {
        if let Err(e) = task.await {
            if e.kind() != io::ErrorKind::BrokenPipe {
                tracing::error!(error = %e, "pull failed while streaming");
            }
            let _ = tx.send(Err(e)).await;
        }
    });
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}
