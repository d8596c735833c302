//! Bulk write bench: N synthetic standard rows through `Store::write_batch`, on SQLite and
//! (with `--features postgres` and `DATABASE_URL`) on PostgreSQL in each layout and `COPY`
//! format; prints rows per second of wall-clock time and per CPU second (this process plus
//! the server's backend, read from `/proc`, so the server must run on this machine). Each source record writes one new case and two of its
//! events, so every row is an insert with its ledger entry, as in a first ingest.
//!
//! `cargo run --release -p xiezhi-store --features postgres --example bulk_write -- [rows] [batch]`

use std::time::Instant;

use xiezhi_standard::{Entity, Record, Value};
use xiezhi_store::{Batch, EntityRow, NewRun, Outcome, SourceRecordRow, SqliteStore, Store};

/// Rows each source record writes.
const ROWS_PER_RECORD: usize = 3;

fn batch(first: i64, records: usize) -> Batch {
    let mut b = Batch::default();
    for id in first..first + records as i64 {
        b.source_records.push(SourceRecordRow {
            id,
            source: "police".into(),
            file: "police/cases.csv".into(),
            record_no: id,
            line: id + 1,
            sha256: format!("{id:064x}"),
            outcome: Outcome::Accepted,
        });
        let case_uid = format!("C{id:09}");
        let mut case = Record::new(Entity::Case);
        let set = |r: &mut Record, f: &str, v: Value| r.set(f, v).expect("schema field");
        set(
            &mut case,
            "police_case_no",
            Value::Text(format!("A52010200000020230{id:05}")),
        );
        set(&mut case, "name", Value::Text(format!("张某盗窃案{id}")));
        set(
            &mut case,
            "summary",
            Value::Text("嫌疑人于夜间盗窃电动车一辆，价值人民币三千元。".into()),
        );
        set(&mut case, "amount", Value::Money(300_000 + id));
        b.entities.push(EntityRow {
            uid: case_uid.clone(),
            case_uid: None,
            person_uid: None,
            record: case,
            source_record_id: id,
        });
        for (n, kind) in ["case_filed", "detained"].into_iter().enumerate() {
            let mut e = Record::new(Entity::Event);
            set(&mut e, "kind", Value::Code(kind.into()));
            let at = chrono::NaiveDate::from_ymd_opt(2023, 1 + (id % 12) as u32, 1 + n as u32)
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .expect("date");
            set(&mut e, "occurred_at", Value::DateTime(at));
            set(
                &mut e,
                "document_no",
                Value::Text(format!("公刑立字〔2023〕{id}号")),
            );
            b.entities.push(EntityRow {
                uid: format!("E{id:09}{n}"),
                case_uid: Some(case_uid.clone()),
                person_uid: Some(format!("P{id:09}")),
                record: e,
                source_record_id: id,
            });
        }
    }
    b
}

/// CPU seconds (user + system) a process has used, from `/proc/<pid>/stat`: with the
/// database server on the same busy machine, wall time says little, CPU time says what the
/// write costs.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

/// Writes `rows` rows in batches of `per_batch` source records; returns rows per wall-clock
/// second and rows per CPU second of the processes in `pids` (this one and the server's).
fn run<S: Store>(store: &mut S, rows: usize, per_batch: usize, pids: &[String]) -> (f64, f64) {
    let records = rows.div_ceil(ROWS_PER_RECORD);
    let batches: Vec<Batch> = (0..records.div_ceil(per_batch))
        .map(|i| {
            let first = (i * per_batch) as i64 + 1;
            batch(first, per_batch.min(records - i * per_batch))
        })
        .collect();
    let run = store
        .begin_run(&NewRun {
            kind: "ingest".into(),
            source: "police".into(),
            file: "police/cases.csv".into(),
            mapping: "bench".into(),
            started_at: "2024-01-01T00:00:00".into(),
        })
        .expect("begin run");
    let cpu = || pids.iter().map(|p| cpu_seconds(p)).collect::<Vec<f64>>();
    let cpu_start = cpu();
    let start = Instant::now();
    for b in &batches {
        store.write_batch(run, b).expect("write batch");
    }
    let secs = start.elapsed().as_secs_f64();
    let used: Vec<f64> = cpu().iter().zip(&cpu_start).map(|(b, a)| b - a).collect();
    let cpu_secs: f64 = used.iter().sum();
    let written: usize = batches.iter().map(|b| b.entities.len()).sum();
    assert_eq!(
        store.count(Entity::Event).expect("count") as usize * 3 / 2,
        written
    );
    let per_row: Vec<String> = used
        .iter()
        .map(|c| format!("{:.1}", c * 1e6 / written as f64))
        .collect();
    println!(
        "  CPU µs per row (this process, server): {}",
        per_row.join(", ")
    );
    (written as f64 / secs, written as f64 / cpu_secs)
}

fn report(name: &str, (per_sec, per_cpu_sec): (f64, f64)) {
    println!("{name:<40} {per_sec:>10.0} rows/s {per_cpu_sec:>10.0} rows/CPU-s");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().map_or(300_000, |a| a.parse().expect("rows"));
    let per_batch: usize = args.next().map_or(1_000, |a| a.parse().expect("batch"));
    println!("{rows} rows, batches of {per_batch} source records ({ROWS_PER_RECORD} rows each)");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut lite = SqliteStore::open(&dir.path().join("bench.db")).expect("open sqlite");
    let me = std::process::id().to_string();
    report(
        "sqlite (file, WAL)",
        run(&mut lite, rows, per_batch, std::slice::from_ref(&me)),
    );
    #[cfg(feature = "postgres")]
    postgres_runs(rows, per_batch);
}

#[cfg(feature = "postgres")]
fn postgres_runs(rows: usize, per_batch: usize) {
    use xiezhi_store::{CopyFormat, Layout, PgStore};
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("postgres: DATABASE_URL not set, skipped");
        return;
    };
    for (layout, format) in [
        (Layout::Plain, CopyFormat::Binary),
        (Layout::Plain, CopyFormat::Text),
        (Layout::HashPartitioned, CopyFormat::Binary),
    ] {
        let schema = format!("bench_{}", std::process::id());
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}"))
            .expect("schema");
        let server: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .expect("backend pid")
            .get(0);
        let mut store = PgStore::from_client_with(client, layout).expect("open postgres");
        store.set_copy_format(format);
        let pids = [std::process::id().to_string(), server.to_string()];
        let figures = run(&mut store, rows, per_batch, &pids);
        drop(store);
        report(
            &format!("postgres {} COPY {format:?}", layout.name()),
            figures,
        );
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .expect("drop schema");
    }
}
