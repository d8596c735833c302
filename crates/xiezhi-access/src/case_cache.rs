//! The gathered-case cache: the raw rows of a case as read from the store (case, persons,
//! links, dependent rows) and the case as access control sees it, kept across reads so a hot
//! case is not gathered again from the store on every request.
//!
//! What it holds is store data only, the same for every principal: the decision, the masking
//! and the `case_read` ledger entry are made on every read from the cached rows, so a policy
//! change, a grant or another principal never sees a cached outcome.
//!
//! Invalidation follows the store's change feed: every write appends a `records_written`
//! ledger entry naming each row it wrote, in the same transaction. Before each lookup the
//! cache reads, in the reader's snapshot, the feed entries it has not seen yet (from its
//! position up to the snapshot's end of the ledger) and drops every cached case they touch:
//! a written case, the case a written dependent row belongs to, every cached case naming a
//! written person or organization. A case gathered in a snapshot that ends at ledger position
//! `n` reflects every write before `n`; it is kept only if no change at or after `n` touching
//! it has been applied meanwhile. So a write, by this process or any other on the same store,
//! is seen by the first read whose snapshot includes it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use xiezhi_standard::Entity;
use xiezhi_store::{Store, StoreError};

use crate::reader::{gather, Gathered};

/// Cases kept at most by [`CaseCache::default`].
pub const DEFAULT_CAPACITY: usize = 4_096;

/// Feed rows applied one by one at most per sync; more (a bulk ingest) empty the cache.
const MAX_ROWS_PER_SYNC: usize = 512;

/// Applied changes remembered for refusing stale inserts.
const RECENT: usize = 1_024;

/// What a change touched.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Touch {
    Case(String),
    Person(String),
    Org(String),
    All,
}

struct Entry {
    gathered: Arc<Gathered>,
    /// The persons and organizations the gathered rows name (for invalidation).
    persons: Vec<String>,
    orgs: Vec<String>,
}

#[derive(Default)]
struct Inner {
    /// Every feed entry before this position has been applied; `None` before the first read.
    synced: Option<i64>,
    cases: HashMap<String, Entry>,
    /// Insertion order, for eviction (entries dropped meanwhile are skipped).
    order: VecDeque<String>,
    by_person: HashMap<String, Vec<String>>,
    by_org: HashMap<String, Vec<String>>,
    /// Changes applied, with their ledger positions (not necessarily in order).
    recent: VecDeque<(i64, Touch)>,
    /// Every applied change at or after this position is in `recent`.
    horizon: i64,
}

/// Counters of a [`CaseCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseCacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Cases dropped because a write touched them (or a bulk write emptied the cache).
    pub invalidated: u64,
    pub held: usize,
}

/// Gathered cases kept across reads, invalidated by the store's change feed.
pub struct CaseCache {
    inner: Mutex<Inner>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
    invalidated: AtomicU64,
}

impl Default for CaseCache {
    fn default() -> Self {
        CaseCache::new(DEFAULT_CAPACITY)
    }
}

impl CaseCache {
    /// A cache keeping at most `capacity` cases (0 keeps none: every read gathers).
    pub fn new(capacity: usize) -> Self {
        CaseCache {
            inner: Mutex::new(Inner::default()),
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            invalidated: AtomicU64::new(0),
        }
    }

    /// Hits, misses, invalidations and cases held.
    pub fn stats(&self) -> CaseCacheStats {
        CaseCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidated: self.invalidated.load(Ordering::Relaxed),
            held: self.lock().cases.len(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The gathered case, from the cache or from the store. `store` must be in one read
    /// snapshot ([`Store::begin_snapshot`]) for the whole call where the backend has them, so
    /// the end of the ledger read here and the rows gathered are of the same moment.
    pub(crate) fn gathered<S: Store + ?Sized>(
        &self,
        store: &S,
        case_uid: &str,
    ) -> Result<Option<Arc<Gathered>>, StoreError> {
        let end = store.ledger_len()?;
        self.sync(store, end)?;
        if let Some(e) = self.lock().cases.get(case_uid) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(Arc::clone(&e.gathered)));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let Some(gathered) = gather(store, case_uid)? else {
            return Ok(None);
        };
        let gathered = Arc::new(gathered);
        self.insert(case_uid, Arc::clone(&gathered), end);
        Ok(Some(gathered))
    }

    /// The gathered case if the cache holds it (after following the change feed), without
    /// gathering it otherwise: a caller on an async worker answers hits in place and sends
    /// misses, which read many rows, to a blocking thread. Same snapshot rule as
    /// [`CaseCache::gathered`].
    pub(crate) fn held<S: Store + ?Sized>(
        &self,
        store: &S,
        case_uid: &str,
    ) -> Result<Option<Arc<Gathered>>, StoreError> {
        let end = store.ledger_len()?;
        self.sync(store, end)?;
        let held = self
            .lock()
            .cases
            .get(case_uid)
            .map(|e| Arc::clone(&e.gathered));
        if held.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(held)
    }

    /// Applies the feed entries in `[synced, end)`.
    fn sync<S: Store + ?Sized>(&self, store: &S, end: i64) -> Result<(), StoreError> {
        let from = {
            let mut inner = self.lock();
            match inner.synced {
                None => {
                    // Nothing is cached yet, so nothing before `end` can be stale.
                    inner.synced = Some(end);
                    inner.horizon = end;
                    return Ok(());
                }
                Some(s) if s >= end => return Ok(()),
                Some(s) => s,
            }
        };
        let entries = store.ledger_entries_of_kind("records_written", from, end)?;
        let mut touches: Vec<(i64, Touch)> = Vec::new();
        let mut rows = 0usize;
        'entries: for entry in &entries {
            let body: serde_json::Value = match serde_json::from_str(&entry.body) {
                Ok(b) => b,
                // An entry this reader cannot read (archived or unknown): drop everything.
                Err(_) => {
                    touches.push((entry.seq, Touch::All));
                    continue;
                }
            };
            for row in body["rows"].as_array().into_iter().flatten() {
                rows += 1;
                if rows > MAX_ROWS_PER_SYNC {
                    // A bulk write: emptying the cache is cheaper than resolving every row.
                    touches.clear();
                    touches.push((end - 1, Touch::All));
                    break 'entries;
                }
                let (Some(name), Some(uid)) = (row["entity"].as_str(), row["uid"].as_str()) else {
                    touches.push((entry.seq, Touch::All));
                    continue;
                };
                let touch = match Entity::from_name(name) {
                    Some(Entity::Case) => Touch::Case(uid.to_string()),
                    Some(Entity::Person) => Touch::Person(uid.to_string()),
                    Some(Entity::Organization) => Touch::Org(uid.to_string()),
                    // A dependent row: the case it belongs to now, as this snapshot sees it.
                    Some(e) => match store.get(e, uid)?.and_then(|r| r.case_uid) {
                        Some(case) => Touch::Case(case),
                        None => continue,
                    },
                    None => Touch::All,
                };
                touches.push((entry.seq, touch));
            }
        }
        let mut inner = self.lock();
        let mut dropped = 0u64;
        for (seq, touch) in touches {
            dropped += inner.apply(&touch);
            inner.remember(seq, touch);
        }
        if inner.synced.is_some_and(|s| s < end) {
            inner.synced = Some(end);
        }
        drop(inner);
        self.invalidated.fetch_add(dropped, Ordering::Relaxed);
        Ok(())
    }

    /// Keeps a case gathered in a snapshot ending at ledger position `as_of`, unless a change
    /// at or after it that touches the case has been applied already (or may have been and
    /// is no longer remembered).
    fn insert(&self, case_uid: &str, gathered: Arc<Gathered>, as_of: i64) {
        if self.capacity == 0 {
            return;
        }
        let persons = person_uids(&gathered);
        let orgs = gathered.resource.participating_orgs.clone();
        let mut inner = self.lock();
        if as_of < inner.horizon {
            return;
        }
        let stale = inner.recent.iter().any(|(seq, t)| {
            *seq >= as_of
                && match t {
                    Touch::All => true,
                    Touch::Case(c) => c == case_uid,
                    Touch::Person(p) => persons.contains(p),
                    Touch::Org(o) => orgs.contains(o),
                }
        });
        if stale || inner.cases.contains_key(case_uid) {
            return;
        }
        while inner.cases.len() >= self.capacity {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            inner.remove(&oldest);
        }
        for p in &persons {
            inner
                .by_person
                .entry(p.clone())
                .or_default()
                .push(case_uid.to_string());
        }
        for o in &orgs {
            inner
                .by_org
                .entry(o.clone())
                .or_default()
                .push(case_uid.to_string());
        }
        inner.order.push_back(case_uid.to_string());
        inner.cases.insert(
            case_uid.to_string(),
            Entry {
                gathered,
                persons,
                orgs,
            },
        );
    }
}

impl Inner {
    /// Drops what `touch` touched; returns how many cases.
    fn apply(&mut self, touch: &Touch) -> u64 {
        match touch {
            Touch::All => {
                let n = self.cases.len() as u64;
                self.cases.clear();
                self.order.clear();
                self.by_person.clear();
                self.by_org.clear();
                n
            }
            Touch::Case(c) => u64::from(self.remove(c)),
            Touch::Person(p) => {
                let cases = self.by_person.get(p).cloned().unwrap_or_default();
                cases.iter().map(|c| u64::from(self.remove(c))).sum()
            }
            Touch::Org(o) => {
                let cases = self.by_org.get(o).cloned().unwrap_or_default();
                cases.iter().map(|c| u64::from(self.remove(c))).sum()
            }
        }
    }

    /// Removes a case and its reverse-index entries; whether it was held.
    fn remove(&mut self, case_uid: &str) -> bool {
        let Some(entry) = self.cases.remove(case_uid) else {
            return false;
        };
        for (index, keys) in [
            (&mut self.by_person, &entry.persons),
            (&mut self.by_org, &entry.orgs),
        ] {
            for k in keys {
                if let Some(cases) = index.get_mut(k) {
                    cases.retain(|c| c != case_uid);
                    if cases.is_empty() {
                        index.remove(k);
                    }
                }
            }
        }
        true
    }

    fn remember(&mut self, seq: i64, touch: Touch) {
        if self.recent.len() >= RECENT {
            if let Some((old, _)) = self.recent.pop_front() {
                self.horizon = self.horizon.max(old + 1);
            }
        }
        self.recent.push_back((seq, touch));
    }
}

fn person_uids(g: &Gathered) -> Vec<String> {
    g.rows
        .iter()
        .filter(|(e, _)| *e == Entity::Person)
        .flat_map(|(_, rows)| rows.iter().map(|r| r.uid.clone()))
        .collect()
}

/// A server shares one cache between its worker threads.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<CaseCache>();
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::CaseResource;
    use xiezhi_standard::Record;
    use xiezhi_store::StoredEntity;

    fn gathered(case: &str, person: &str, org: &str) -> Arc<Gathered> {
        let p = StoredEntity {
            uid: person.into(),
            case_uid: None,
            person_uid: None,
            record: Record::new(Entity::Person),
            lineage: Vec::new(),
        };
        Arc::new(Gathered {
            resource: CaseResource {
                case_uid: case.into(),
                participating_orgs: vec![org.into()],
                ..CaseResource::default()
            },
            rows: vec![(Entity::Person, vec![p])],
        })
    }

    fn held(cache: &CaseCache, case: &str) -> bool {
        cache.lock().cases.contains_key(case)
    }

    /// Applies a change at ledger position `seq` as a sync by another read would.
    fn applied(cache: &CaseCache, seq: i64, touch: Touch) {
        let mut inner = cache.lock();
        inner.apply(&touch);
        inner.remember(seq, touch);
        inner.synced = Some(inner.synced.unwrap_or(0).max(seq + 1));
    }

    fn started(capacity: usize, at: i64) -> CaseCache {
        let cache = CaseCache::new(capacity);
        {
            let mut inner = cache.lock();
            inner.synced = Some(at);
            inner.horizon = at;
        }
        cache
    }

    #[test]
    fn a_case_gathered_before_an_applied_change_is_not_kept() {
        let cache = started(10, 10);
        applied(&cache, 12, Touch::Case("C1".into()));
        // Gathered in a snapshot ending at 11: the change at 12 is not in it.
        cache.insert("C1", gathered("C1", "P1", "O1"), 11);
        assert!(!held(&cache, "C1"));
        // Gathered at 13: it is.
        cache.insert("C1", gathered("C1", "P1", "O1"), 13);
        assert!(held(&cache, "C1"));
        // Another case gathered at 11 is untouched by that change.
        cache.insert("C2", gathered("C2", "P2", "O2"), 11);
        assert!(held(&cache, "C2"));

        // A person or an organization changed after the snapshot refuses the cases naming it.
        applied(&cache, 14, Touch::Person("P3".into()));
        applied(&cache, 15, Touch::Org("O4".into()));
        cache.insert("C3", gathered("C3", "P3", "O3"), 14);
        cache.insert("C4", gathered("C4", "P9", "O4"), 14);
        cache.insert("C5", gathered("C5", "P9", "O9"), 14);
        assert!(!held(&cache, "C3"));
        assert!(!held(&cache, "C4"));
        assert!(held(&cache, "C5"));

        // Applying a change drops the cached cases naming the row.
        applied(&cache, 20, Touch::Person("P9".into()));
        assert!(!held(&cache, "C5"));
        assert!(held(&cache, "C1") && held(&cache, "C2"));
        applied(&cache, 21, Touch::Org("O1".into()));
        assert!(!held(&cache, "C1"));
        applied(&cache, 22, Touch::All);
        assert!(!held(&cache, "C2"));
        assert!(cache.lock().by_person.is_empty() && cache.lock().by_org.is_empty());
    }

    #[test]
    fn a_snapshot_older_than_the_remembered_changes_is_not_kept() {
        let cache = started(10, 0);
        for seq in 0..=(RECENT as i64) {
            applied(&cache, seq, Touch::Case(format!("X{seq}")));
        }
        // The change at 0 is forgotten: whether it touched C1 is unknown.
        cache.insert("C1", gathered("C1", "P1", "O1"), 0);
        assert!(!held(&cache, "C1"));
        cache.insert("C1", gathered("C1", "P1", "O1"), RECENT as i64 + 1);
        assert!(held(&cache, "C1"));
    }

    #[test]
    fn the_oldest_case_makes_room() {
        let cache = started(2, 0);
        for c in ["C1", "C2", "C3"] {
            cache.insert(c, gathered(c, &format!("P{c}"), "O"), 0);
        }
        assert!(!held(&cache, "C1") && held(&cache, "C2") && held(&cache, "C3"));
        assert_eq!(cache.lock().by_org["O"], ["C2", "C3"]);
        assert!(!cache.lock().by_person.contains_key("PC1"));
    }
}
