//! Group commit (issue 30): requests that write grants (the token
//! endpoint's, and the consent page's view and answer) hand their work to
//! one writer thread, which runs whatever has queued since its last
//! transaction as a batch in ONE write transaction and commits it once.
//! Each request's work runs in its own savepoint, so a failing grant fails
//! alone; a refusal that must still write (a replay's revocation, S29; a
//! wrong secret's count, S54) keeps its writes, as `write_tx_refusing` does
//! for a transaction of its own. No request is answered before its batch
//! has committed: its result waits in the batch until COMMIT succeeds, and
//! a failed COMMIT answers every request of the batch with an error.
//!
//! On SQLite this replaces one `BEGIN IMMEDIATE … COMMIT` per request (about
//! ten WAL pages each, one writer at a time anyway) with one per batch. On
//! PostgreSQL, whose pool runs transactions side by side and which groups
//! commits itself, `submit` runs the work in a trip of its own as before.

use std::sync::mpsc;

use crate::db::{self, Backend, Conn, Pool};
use crate::error::{AppError, AppResult};

/// The most requests one transaction carries: under load the queue holds
/// about as many as there are connections waiting, so this only bounds a
/// burst (and how long the write lock is held at once).
pub const MAX_BATCH: usize = 64;

/// One request's work, run inside the batch's transaction; what it returns
/// answers the request once the batch's COMMIT is known (`None`: committed).
type Job = Box<dyn FnOnce(&mut Conn) -> Deliver + Send>;
type Deliver = Box<dyn FnOnce(Option<String>) + Send>;

/// Where grants are written: the writer thread's queue (SQLite), or the
/// pool itself (PostgreSQL).
#[derive(Clone)]
pub struct GroupWriter {
    queue: Option<mpsc::Sender<Job>>,
    pool: Pool,
}

impl GroupWriter {
    /// Starts the writer thread for a SQLite pool; `batched` is told each
    /// batch's size (the metric). The thread ends when the last
    /// `GroupWriter` is dropped.
    pub fn start(
        pool: Pool,
        backend: Backend,
        batched: impl Fn(usize) + Send + 'static,
    ) -> AppResult<GroupWriter> {
        if backend == Backend::Postgres {
            return Ok(GroupWriter { queue: None, pool });
        }
        let (tx, rx) = mpsc::channel::<Job>();
        let writer_pool = pool.clone();
        std::thread::Builder::new()
            .name("grant-writer".into())
            .spawn(move || write_batches(&writer_pool, &rx, &batched))
            .map_err(|e| AppError::internal(format!("starting the grant writer: {e}")))?;
        Ok(GroupWriter {
            queue: Some(tx),
            pool,
        })
    }

    /// Runs `f` in the next batch and answers once that batch has
    /// committed. `f`'s writes are kept when it succeeds or refuses
    /// (`AppError::Refused`, `Throttled`) and rolled back to its savepoint
    /// on any other error, leaving the rest of the batch as it was.
    pub async fn submit<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut Conn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let Some(queue) = &self.queue else {
            // Each of `f`'s steps is its own transaction, as before.
            return db::run(&self.pool, f).await;
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<AppResult<T>>();
        let job: Job = Box::new(move |c: &mut Conn| {
            let out = in_savepoint(c, f);
            Box::new(move |failed: Option<String>| {
                let answer = match failed {
                    None => out,
                    Some(why) => Err(AppError::internal(why)),
                };
                let _ = tx.send(answer);
            })
        });
        queue
            .send(job)
            .map_err(|_| AppError::internal("the grant writer has stopped"))?;
        rx.await
            .map_err(|_| AppError::internal("the grant's batch did not complete"))?
    }
}

/// Whether a result's writes stay: a success's and a refusal's do.
fn kept<T>(out: &AppResult<T>) -> bool {
    matches!(
        out,
        Ok(_) | Err(AppError::Refused(_)) | Err(AppError::Throttled(_))
    )
}

/// Runs `f` in a savepoint of the batch's transaction, released when its
/// writes stay (`kept`) and rolled back otherwise.
fn in_savepoint<T>(c: &mut Conn, f: impl FnOnce(&mut Conn) -> AppResult<T>) -> AppResult<T> {
    use diesel::Connection;
    let mut out = None;
    let sp = c.transaction::<(), AppError, _>(|c| {
        let r = f(c);
        let stay = kept(&r);
        out = Some(r);
        if stay {
            Ok(())
        } else {
            // Any error rolls the savepoint back; which one is in `out`.
            Err(AppError::internal("rolled back"))
        }
    });
    match (out, sp) {
        (Some(r), Ok(())) => r,
        // Rolled back: the request's own error answers it.
        (Some(r @ Err(_)), Err(_)) if !kept(&r) => r,
        // The savepoint itself failed (RELEASE): this request is answered
        // with that failure, and the batch's COMMIT decides for the rest.
        (_, Err(e)) => Err(e),
        (None, Ok(())) => Err(AppError::internal("the grant did not run")),
    }
}

/// The writer thread: takes the first job waiting (blocking), then all that
/// queued behind it up to `MAX_BATCH`, runs them in one transaction,
/// commits, and answers them.
fn write_batches(pool: &Pool, rx: &mpsc::Receiver<Job>, batched: &dyn Fn(usize)) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batched(batch.len());
        // A panicking grant must not stop the writer: its batch's requests
        // are answered with an error (their senders are dropped) and the
        // connection, dropped while panicking, leaves the pool.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_batch(pool, batch)));
    }
}

fn run_batch(pool: &Pool, batch: Vec<Job>) {
    let mut conn = match pool.get() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("grant writer: no database connection: {e}");
            return; // dropping the batch answers each request with an error
        }
    };
    let mut answers: Vec<Deliver> = Vec::with_capacity(batch.len());
    let committed = db::write_tx(&mut conn, |c| {
        for job in batch {
            answers.push(job(c));
        }
        Ok(())
    });
    let failed = committed.err().map(|e| {
        tracing::error!("grant writer: the batch did not commit: {e}");
        "the grant's batch did not commit".to_string()
    });
    for answer in answers {
        answer(failed.clone());
    }
}
