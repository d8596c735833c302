//! The exchange benchmark without the full binary:
//! `cargo run --release -p xiezhi-exchange --example exchange_bench -- [transfers] [batch] [dir]`
//! (with `dir`, the stores are kept there for inspection).
//! `xiezhi bench exchange` runs the same loop.

/// As in the `xiezhi` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let transfers: usize = args.next().map_or(Ok(20_000), |a| a.parse())?;
    let batch: usize = args.next().map_or(Ok(256), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let keep = args.next().map(std::path::PathBuf::from);
    let base = keep.as_deref().unwrap_or(dir.path());
    let now = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .ok_or("bad start time")?;
    let r = xiezhi_exchange::bench::run(&base.join("bench.db"), transfers, batch, now)?;
    println!(
        "bench exchange: transfers={} batch={batch} delivered={} ledger entries={}",
        r.transfers, r.delivered, r.ledger_entries
    );
    println!(
        "  send {:.2} s, due {:.2} s, receive+apply {:.2} s, record receipts {:.2} s",
        r.send.as_secs_f64(),
        r.due.as_secs_f64(),
        r.receive.as_secs_f64(),
        r.record.as_secs_f64()
    );
    println!(
        "  total {:.2} s → {:.0} transfers/s",
        r.total.as_secs_f64(),
        r.per_second()
    );
    Ok(())
}
