//! Digests computed beside the data path: each on its own blocking thread,
//! fed the chunks (cheap `Bytes` clones) through a bounded channel, so an
//! upload's md5, sha256 and signature digest run in parallel with receiving
//! and writing instead of one after another on the request's task.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A running digest.
pub trait Update: Send + 'static {
    fn update(&mut self, b: &[u8]);
    fn finish(self: Box<Self>) -> Vec<u8>;
}

/// Any RustCrypto hash.
pub struct Hash<D>(pub D);

impl<D: sha2::Digest + Send + 'static> Update for Hash<D> {
    fn update(&mut self, b: &[u8]) {
        self.0.update(b);
    }
    fn finish(self: Box<Self>) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

impl Update for crate::signature::Hasher {
    fn update(&mut self, b: &[u8]) {
        crate::signature::Hasher::update(self, b);
    }
    fn finish(self: Box<Self>) -> Vec<u8> {
        crate::signature::Hasher::finish(*self)
    }
}

/// Batches in flight per digest: enough to ride out scheduling jitter,
/// few enough that a slow digest holds back the sender (and memory).
const DEPTH: usize = 4;

/// Chunks are handed over in batches of about this many bytes: request
/// bodies arrive in small chunks, and waking a thread per chunk would cost
/// more than the hashing.
const BATCH: usize = 1 << 20;

type Batch = Arc<Vec<Bytes>>;

pub struct Digests {
    senders: Vec<mpsc::Sender<Batch>>,
    workers: Vec<JoinHandle<Vec<u8>>>,
    pending: Vec<Bytes>,
    pending_len: usize,
}

impl Digests {
    pub fn start(digests: Vec<Box<dyn Update>>) -> Self {
        let mut senders = Vec::new();
        let mut workers = Vec::new();
        for mut d in digests {
            let (tx, mut rx) = mpsc::channel::<Batch>(DEPTH);
            senders.push(tx);
            workers.push(tokio::task::spawn_blocking(move || {
                while let Some(batch) = rx.blocking_recv() {
                    for chunk in batch.iter() {
                        d.update(chunk);
                    }
                }
                d.finish()
            }));
        }
        Digests {
            senders,
            workers,
            pending: Vec::new(),
            pending_len: 0,
        }
    }

    pub async fn feed(&mut self, chunk: &Bytes) {
        self.pending_len += chunk.len();
        self.pending.push(chunk.clone());
        if self.pending_len >= BATCH {
            self.flush().await;
        }
    }

    async fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let batch: Batch = Arc::new(std::mem::take(&mut self.pending));
        self.pending_len = 0;
        for tx in &self.senders {
            // A worker stops only when its channel closes.
            let _ = tx.send(batch.clone()).await;
        }
    }

    /// Every digest, in the order given to `start`.
    pub async fn finish(mut self) -> Vec<Vec<u8>> {
        self.flush().await;
        drop(self.senders);
        let mut out = Vec::new();
        for w in self.workers {
            out.push(w.await.unwrap_or_default());
        }
        out
    }
}
