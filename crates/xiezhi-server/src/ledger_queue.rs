//! Group commit of read entries. A case read must be in the ledger before its data is sent;
//! with one transaction per read, the writer connection would cap reads at a few hundred per
//! second. So reads hand their entry to one committer thread, which appends everything queued
//! so far in one transaction and then wakes each read with its sequence number. Alone, a read
//! waits for its own commit; under load, many reads share one.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use xiezhi_store::{AnyStore, LedgerEvent, Store};

use crate::error::Problem;

/// Entries appended in one transaction at most.
const MAX_GROUP: usize = 512;

struct Job {
    entry: LedgerEvent,
    done: Done,
}

/// Where a job's outcome goes: a blocked thread, or a task awaiting it.
enum Done {
    Blocking(SyncSender<Result<i64, String>>),
    Task(tokio::sync::oneshot::Sender<Result<i64, String>>),
}

impl Done {
    fn send(self, outcome: Result<i64, String>) {
        // A read that gave up waiting is not an error of the others.
        match self {
            Done::Blocking(tx) => {
                let _ = tx.send(outcome);
            }
            Done::Task(tx) => {
                let _ = tx.send(outcome);
            }
        }
    }
}

/// The queue in front of the committer thread.
pub struct LedgerQueue {
    jobs: Mutex<Sender<Job>>,
}

impl LedgerQueue {
    /// Starts the committer on the server's writer connection (shared with every other write,
    /// so entries keep one gap-free sequence).
    pub fn start(store: Arc<Mutex<AnyStore>>) -> LedgerQueue {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("ledger-commit".into())
            .spawn(move || commit_loop(&store, &rx))
            .expect("spawn the ledger committer");
        LedgerQueue {
            jobs: Mutex::new(tx),
        }
    }

    /// Appends `entry` and returns its sequence number once committed. Blocks the calling
    /// (blocking-pool) thread until then.
    pub fn log(&self, entry: LedgerEvent) -> Result<i64, Problem> {
        let (done, wait) = mpsc::sync_channel(1);
        self.submit(Job {
            entry,
            done: Done::Blocking(done),
        })?;
        wait.recv()
            .map_err(|_| Problem::internal("the ledger committer stopped"))?
            .map_err(Problem::internal)
    }

    /// As [`LedgerQueue::log`] for async handlers: the task waits for the commit without
    /// holding a thread, so a blocking-pool thread is busy only while it reads and decides.
    pub async fn log_async(&self, entry: LedgerEvent) -> Result<i64, Problem> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.submit(Job {
            entry,
            done: Done::Task(done),
        })?;
        wait.await
            .map_err(|_| Problem::internal("the ledger committer stopped"))?
            .map_err(Problem::internal)
    }

    fn submit(&self, job: Job) -> Result<(), Problem> {
        self.jobs
            .lock()
            .map_err(|_| Problem::internal("ledger queue lock poisoned"))?
            .send(job)
            .map_err(|_| Problem::internal("the ledger committer stopped"))
    }
}

fn commit_loop(store: &Mutex<AnyStore>, rx: &Receiver<Job>) {
    // Ends when the queue (the server state) is dropped.
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let (entries, done): (Vec<LedgerEvent>, Vec<Done>) =
            jobs.into_iter().map(|j| (j.entry, j.done)).unzip();
        let outcome = match store.lock() {
            Ok(mut s) => s
                .ledger_len()
                .and_then(|first| s.append_events(&entries).map(|()| first))
                .map_err(|e| e.to_string()),
            Err(_) => Err("store lock poisoned".to_string()),
        };
        for (i, done) in done.into_iter().enumerate() {
            done.send(outcome.clone().map(|first| first + i as i64));
        }
    }
}
